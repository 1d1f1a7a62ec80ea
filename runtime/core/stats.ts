// Counters a node keeps about itself, for the API, metrics and simulation reports. Every
// message that is dropped is counted under a name that says why.

import type { MsgType } from './messages.js';

export class NodeStats {
  readonly counters = new Map<string, number>();
  /** Indexed by message type; an array because this is bumped for every message received. */
  readonly receivedByType: number[] = [];

  count(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  received(type: MsgType): void {
    this.receivedByType[type] = (this.receivedByType[type] ?? 0) + 1;
  }

  /**
   * Told each duration the core measures (name, milliseconds), for a histogram kept by whoever
   * reports them; unset, a measurement costs nothing.
   */
  onDuration: ((name: string, ms: number) => void) | undefined = undefined;

  duration(name: string, ms: number): void {
    this.onDuration?.(name, ms);
  }

  get(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counters);
  }
}
