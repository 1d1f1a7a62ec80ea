// Fresh news (own key changes, accusations, goodbyes) is sent at once and then repeated on a
// fixed schedule, because a single multicast datagram is lost independently at each receiver.
// Whatever every repeat misses is repaired later by anti-entropy, so the number of repeats is
// bounded. News about the same subject replaces older news (memberlist's "invalidates").

import type { Message } from './messages.js';
import { MAX_MESSAGES_PER_DATAGRAM } from './packing.js';

interface Item {
  readonly subject: string;
  readonly msg: Message;
  readonly size: number;
  readonly firstAt: number;
  /** Index into the repeat schedule of the next transmission. */
  next: number;
  /** Transmissions in all: the first `sends` offsets of the schedule. */
  readonly sends: number;
}

export class Broadcasts {
  #items: Item[] = [];

  constructor(private readonly offsetsMs: readonly number[]) {}

  get size(): number {
    return this.#items.length;
  }

  /** Queue `msg` for `sends` transmissions (default: the whole schedule), replacing older news on the same subject. */
  add(subject: string, msg: Message, size: number, now: number, sends = this.offsetsMs.length): void {
    this.#items = this.#items.filter((i) => i.subject !== subject);
    const n = Math.max(1, Math.min(sends, this.offsetsMs.length));
    this.#items.push({ subject, msg, size, firstAt: now, next: 0, sends: n });
  }

  /** When the next transmission is due, or undefined when nothing is queued. */
  nextDue(): number | undefined {
    let due: number | undefined;
    for (const i of this.#items) {
      const at = i.firstAt + (this.offsetsMs[i.next] ?? 0);
      if (due === undefined || at < due) due = at;
    }
    return due;
  }

  /**
   * Take the items due by `now + slackMs` that fit in `budget` bytes, oldest news first, and
   * advance each along its schedule. Items not taken stay due and go in the next datagram.
   */
  take(now: number, slackMs: number, budget: number, maxMessages = MAX_MESSAGES_PER_DATAGRAM - 1): Message[] {
    const out: Message[] = [];
    let used = 0;
    for (const i of this.#items) {
      const at = i.firstAt + (this.offsetsMs[i.next] ?? 0);
      if (at > now + slackMs) continue;
      if (used + i.size > budget || out.length >= maxMessages) continue;
      out.push(i.msg);
      used += i.size;
      i.next++;
    }
    this.#items = this.#items.filter((i) => i.next < i.sends);
    return out;
  }

  has(subject: string): boolean {
    return this.#items.some((i) => i.subject === subject);
  }

  /** Forget news about a subject, e.g. an accusation that was refuted. */
  cancel(subject: string): void {
    this.#items = this.#items.filter((i) => i.subject !== subject);
  }

  hasDue(now: number, slackMs: number): boolean {
    const due = this.nextDue();
    return due !== undefined && due <= now + slackMs;
  }
}
