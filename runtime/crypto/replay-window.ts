// Replay protection: per sender, the highest (generation, sequence) seen and a bitmap of the
// WINDOW sequences below it. A datagram is accepted once; an older generation of a sender is
// refused outright (its earlier life cannot come back), a newer one starts a fresh window. Reordering within the
// window is fine. Sequences count datagrams, not time, so a wrong wall clock after boot changes
// nothing; generations come from the boot counter (state dir), which only grows.
//
// Only datagrams that opened under a fleet key get here, so only fleet members can create
// entries; the table is still bounded, evicting the sender heard from longest ago.

/**
 * Datagrams a sender may be reordered by and still be accepted. The counter covers everything a
 * sender sends, to anyone, and a receiver sees only the group's share and its own: between two
 * multicasts a busy node may send hundreds of unicast datagrams, and the group socket and the
 * unicast socket deliver independently. 2,048 covers about 20 s of a node sending 100 a second,
 * for 256 bytes per sender.
 */
export const WINDOW = 2048;
const WORDS = WINDOW / 32;

interface SenderWindow {
  gen: number;
  top: number;
  /** Bit `seq % WINDOW` is set when `seq` (within WINDOW below `top`) was seen: a ring, never shifted. */
  readonly bits: Uint32Array;
  lastSeen: number;
}

export type ReplayVerdict = 'fresh' | 'replayed' | 'stale-generation' | 'too-old';

export class ReplayWindow {
  readonly #senders = new Map<number, SenderWindow>();
  #tick = 0;

  constructor(readonly maxSenders = 2048) {}

  check(sender: number, gen: number, seq: number): ReplayVerdict {
    const tick = ++this.#tick;
    let w = this.#senders.get(sender);
    if (w && gen < w.gen) return 'stale-generation';
    if (!w || gen > w.gen) {
      if (!w && this.#senders.size >= this.maxSenders) this.#evict();
      w = { gen, top: seq, bits: new Uint32Array(WORDS), lastSeen: tick };
      mark(w.bits, seq);
      this.#senders.set(sender, w);
      return 'fresh';
    }
    w.lastSeen = tick;
    if (seq > w.top) {
      forget(w.bits, w.top + 1, seq);
      w.top = seq;
      mark(w.bits, seq);
      return 'fresh';
    }
    if (w.top - seq >= WINDOW) return 'too-old';
    if (seen(w.bits, seq)) return 'replayed';
    mark(w.bits, seq);
    return 'fresh';
  }

  get size(): number {
    return this.#senders.size;
  }

  #evict(): void {
    let oldest: number | undefined;
    let at = Infinity;
    for (const [k, w] of this.#senders) {
      if (w.lastSeen < at) {
        at = w.lastSeen;
        oldest = k;
      }
    }
    if (oldest !== undefined) this.#senders.delete(oldest);
  }
}

function mark(bits: Uint32Array, seq: number): void {
  const pos = seq % WINDOW;
  bits[pos >>> 5]! |= 1 << (pos & 31);
}

function seen(bits: Uint32Array, seq: number): boolean {
  const pos = seq % WINDOW;
  return (bits[pos >>> 5]! & (1 << (pos & 31))) !== 0;
}

/**
 * Clear the ring for sequences `from`..`to` as the window moves up to `to`: their slots held
 * sequences that fall out of the window. A step of one (the usual case) clears one bit.
 */
function forget(bits: Uint32Array, from: number, to: number): void {
  if (to - from + 1 >= WINDOW) {
    bits.fill(0);
    return;
  }
  let seq = from;
  while (seq <= to) {
    const pos = seq % WINDOW;
    if ((pos & 31) === 0 && to - seq >= 31) {
      bits[pos >>> 5] = 0;
      seq += 32;
    } else {
      bits[pos >>> 5]! &= ~(1 << (pos & 31));
      seq++;
    }
  }
}
