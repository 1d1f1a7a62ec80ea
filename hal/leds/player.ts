// Plays a status pattern on one LED with app-driven timing, under a lease.
//
// The timing is the application's own (setTimeout per step), never a kernel trigger: if murmur
// hangs, the LED stops changing, and the patterns are built so that a frozen LED reads as "not
// running" (see patterns.ts). The lease covers the quieter failure: the event loop still turns
// but whatever judges the status has stopped (a stuck promise, a stopped core). Unless `show`
// is called again within the lease, the player turns the LED off and stops.

import type { LedDriver } from './led.js';
import type { Pattern } from './patterns.js';

export interface PlayerOptions {
  /** How long a `show` holds without renewal. The agent renews every second. */
  readonly leaseMs?: number;
  /** Called once when a lease runs out (the agent logs it). */
  readonly onLeaseExpired?: () => void;
}

const DEFAULT_LEASE_MS = 5000;

export class LedPlayer {
  readonly #driver: LedDriver;
  readonly #leaseMs: number;
  readonly #onExpired: (() => void) | undefined;
  #pattern: Pattern | undefined;
  #step = 0;
  #stepTimer: NodeJS.Timeout | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #expired = false;

  constructor(driver: LedDriver, opts: PlayerOptions = {}) {
    this.#driver = driver;
    this.#leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.#onExpired = opts.onLeaseExpired;
  }

  get driver(): LedDriver {
    return this.#driver;
  }

  /** The pattern playing now; undefined before the first show, after a lease ran out, or after close. */
  get pattern(): Pattern | undefined {
    return this.#pattern;
  }

  get leaseExpired(): boolean {
    return this.#expired;
  }

  /** Plays `p` (from its first step if it is a change) and renews the lease. */
  show(p: Pattern): void {
    if (this.#closed) return;
    this.#renewLease();
    this.#expired = false;
    if (this.#pattern === p) return;
    this.#pattern = p;
    this.#step = 0;
    this.#play();
  }

  /** Stops the pattern and leaves the LED off; the driver stays open. */
  off(): void {
    this.#halt();
    this.#driver.set(false);
  }

  /** Stops and hands the LED back to the system. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#halt();
    await this.#driver.close();
  }

  #play(): void {
    if (this.#stepTimer) clearTimeout(this.#stepTimer);
    const p = this.#pattern;
    if (!p) return;
    const [on, ms] = p.steps[this.#step]!;
    this.#driver.set(on);
    this.#stepTimer = setTimeout(() => {
      this.#step = (this.#step + 1) % p.steps.length;
      this.#play();
    }, ms);
    this.#stepTimer.unref();
  }

  #renewLease(): void {
    if (this.#leaseTimer) clearTimeout(this.#leaseTimer);
    this.#leaseTimer = setTimeout(() => {
      this.#leaseTimer = undefined;
      this.#expired = true;
      this.off();
      this.#onExpired?.();
    }, this.#leaseMs);
    // The lease must not keep a stopping process alive.
    this.#leaseTimer.unref();
  }

  #halt(): void {
    if (this.#stepTimer) clearTimeout(this.#stepTimer);
    if (this.#leaseTimer) clearTimeout(this.#leaseTimer);
    this.#stepTimer = undefined;
    this.#leaseTimer = undefined;
    this.#pattern = undefined;
  }
}
