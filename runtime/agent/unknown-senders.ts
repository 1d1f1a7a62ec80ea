// Datagrams sealed under a key this node does not hold: a device of another fleet, or one of
// this fleet that was given another key. Counted by the channel; here, who sent them, so a
// node that sits alone can say which address to look at. The log gets one line per sender at
// most every LOG_EVERY_MS, not one per datagram (a neighbour's fleet heartbeats many times a second).

/** Senders remembered, most recent first. */
export const MAX_SENDERS = 5;
/** One log line per sender at most this often. */
export const LOG_EVERY_MS = 60_000;

export interface UnknownSender {
  readonly addr: string;
  /** Datagrams from it since it was first seen. */
  readonly count: number;
  readonly lastMsAgo: number;
}

interface Entry {
  count: number;
  last: number;
  logged: number;
  /** Datagrams since the last log line. */
  unlogged: number;
}

export class UnknownKeySenders {
  readonly #senders = new Map<string, Entry>();

  constructor(
    private readonly clock: () => number,
    private readonly log: (fields: Record<string, string | number>) => void,
  ) {}

  saw(addr: string): void {
    const now = this.clock();
    let e = this.#senders.get(addr);
    if (e) {
      // Most recent last in the map's order: re-insert.
      this.#senders.delete(addr);
    } else {
      e = { count: 0, last: now, logged: -Infinity, unlogged: 0 };
      if (this.#senders.size >= MAX_SENDERS) this.#senders.delete(this.#senders.keys().next().value!);
    }
    this.#senders.set(addr, e);
    e.count++;
    e.unlogged++;
    e.last = now;
    if (now - e.logged >= LOG_EVERY_MS) {
      this.log({ from: addr, datagrams: e.unlogged, meaning: 'sealed under a fleet key this node does not have: another fleet, or a device given another key' });
      e.logged = now;
      e.unlogged = 0;
    }
  }

  /** Most recent first. */
  view(): UnknownSender[] {
    const now = this.clock();
    return [...this.#senders].reverse().map(([addr, e]) => ({ addr, count: e.count, lastMsAgo: now - e.last }));
  }
}
