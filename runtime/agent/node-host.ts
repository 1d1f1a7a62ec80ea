// Runs one protocol core in real time: decodes what the transport receives, encodes what the
// core sends, and turns the core's timer requests into setTimeout. This is the only place where
// the core meets a real clock; the agent and the fleet benchmark both use it.

import type { CoreEvent, Effects, TimerToken } from '../core/effects.js';
import type { Address, Message, Value } from '../core/messages.js';
import type { Node } from '../core/node.js';
import { DatagramTooLargeError, decodeDatagram, encodeDatagram, type RejectReason } from '../wire/index.js';

export interface HostOptions {
  readonly node: Node;
  /** Monotonic milliseconds. */
  readonly clock: () => number;
  readonly budget: number;
  readonly send: (to: Address, bytes: Uint8Array) => void;
  readonly onEvent?: (e: CoreEvent) => void;
  /**
   * A bug surfaced as an exception in the core or the codec. The host survives it: the datagram
   * or timer is dropped, counted, and reported here (at most once a second).
   */
  readonly onError?: (where: string, e: Error, count: number) => void;
}

export class NodeHost {
  readonly node: Node;
  /** Received datagrams (or messages inside them) refused by the wire layer, by reason. */
  readonly rejected = new Map<RejectReason, number>();
  /** Messages the core produced that did not fit a datagram (a core bug if ever non-zero). */
  oversizeRefused = 0;
  /** Exceptions caught around the core; non-zero means a bug worth reporting. */
  internalErrors = 0;
  #lastErrorReport = -Infinity;
  readonly #opts: HostOptions;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #fx: Effects;
  #stopped = false;

  constructor(opts: HostOptions) {
    this.#opts = opts;
    this.node = opts.node;
    this.#fx = {
      send: (to, msgs) => this.#send(to, msgs),
      setTimer: (at, token) => this.#setTimer(at, token),
      emit: (e) => opts.onEvent?.(e),
    };
  }

  start(): void {
    this.node.start(this.#opts.clock(), this.#fx);
  }

  /** One datagram from the transport. Never throws: what the wire layer refuses is counted and dropped. */
  receive(bytes: Uint8Array, from: Address, viaMulticast: boolean): void {
    if (this.#stopped) return;
    try {
      const d = decodeDatagram(bytes, this.#opts.budget);
      for (const r of d.rejected) this.rejected.set(r.reason, (this.rejected.get(r.reason) ?? 0) + 1);
      if (d.messages.length > 0) this.node.receive(this.#opts.clock(), from, d.messages, this.#fx, viaMulticast);
    } catch (e) {
      this.#internalError('receive', e);
    }
  }

  #internalError(where: string, e: unknown): void {
    this.internalErrors++;
    const now = this.#opts.clock();
    if (now - this.#lastErrorReport < 1000) return;
    this.#lastErrorReport = now;
    this.#opts.onError?.(where, e instanceof Error ? e : new Error(String(e)), this.internalErrors);
  }

  set(key: string, value: Value, ttlMs = 0): number {
    return this.node.set(this.#opts.clock(), key, value, this.#fx, ttlMs);
  }

  delete(key: string): void {
    this.node.delete(this.#opts.clock(), key, this.#fx);
  }

  /** Announce the leave, keep timers running for `lingerMs` so its repeats go out, then stop. */
  async leave(lingerMs: number): Promise<void> {
    this.node.leave(this.#opts.clock(), this.#fx);
    await new Promise((r) => setTimeout(r, lingerMs));
    this.stop();
  }

  /** Stop without a word (timers cleared); the transport is the caller's to close. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #send(to: Address, msgs: readonly Message[]): void {
    if (this.#stopped) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeDatagram(msgs, this.#opts.budget);
    } catch (e) {
      if (e instanceof DatagramTooLargeError) this.oversizeRefused++;
      else this.#internalError('encode', e);
      return;
    }
    this.#opts.send(to, bytes);
  }

  #setTimer(at: number, token: TimerToken): void {
    if (this.#stopped) return;
    const arm = (): void => {
      const delay = Math.max(0, at - this.#opts.clock());
      const t = setTimeout(() => {
        this.#timers.delete(t);
        if (this.#stopped) return;
        // The event loop's clock can run a millisecond behind ours; never hand the core an
        // early timer, which it would take for a stale one.
        if (this.#opts.clock() < at) return arm();
        try {
          this.node.timer(this.#opts.clock(), token, this.#fx);
        } catch (e) {
          this.#internalError(`timer ${token.kind}`, e);
        }
      }, delay);
      this.#timers.add(t);
    };
    arm();
  }
}

/** Whole monotonic milliseconds since process start: the core's notion of "now". */
export function monotonicClock(): number {
  return Math.floor(performance.now());
}
