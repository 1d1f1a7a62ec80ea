// An LED for machines without one (a laptop, CI, a Pi with no LED configured): it remembers what
// it was told, so the log and the CLI can show which pattern a node would be blinking.

import type { LedDriver } from './led.js';

export interface LedTransition {
  /** When, by the clock the LED was given (wall-clock ms by default). */
  readonly at: number;
  readonly on: boolean;
}

export interface SimulatedLedOptions {
  readonly clock?: () => number;
  /** How many recent transitions to keep; older ones are dropped. */
  readonly keep?: number;
}

const DEFAULT_KEEP = 32;

export class SimulatedLed implements LedDriver {
  readonly backend = 'simulated';
  readonly description = 'simulated';
  readonly #clock: () => number;
  readonly #keep: number;
  readonly #recent: LedTransition[] = [];
  #on = false;
  #transitions = 0;

  constructor(options: SimulatedLedOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#keep = Math.max(0, options.keep ?? DEFAULT_KEEP);
  }

  get on(): boolean {
    return this.#on;
  }

  /** Level changes since creation; a set to the current level is not one. */
  get transitions(): number {
    return this.#transitions;
  }

  /** The last transitions, oldest first. */
  recent(): readonly LedTransition[] {
    return [...this.#recent];
  }

  set(on: boolean): void {
    if (on === this.#on) return;
    this.#on = on;
    this.#transitions++;
    this.#recent.push({ at: this.#clock(), on });
    if (this.#recent.length > this.#keep) this.#recent.splice(0, this.#recent.length - this.#keep);
  }

  close(): Promise<void> {
    this.set(false);
    return Promise.resolve();
  }
}
