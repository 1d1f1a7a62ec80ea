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
      w.bits[0] = 1;
      this.#senders.set(sender, w);
      return 'fresh';
    }
    w.lastSeen = tick;
    if (seq > w.top) {
      shift(w.bits, seq - w.top);
      w.top = seq;
      w.bits[0]! |= 1;
      return 'fresh';
    }
    const back = w.top - seq;
    if (back >= WINDOW) return 'too-old';
    const word = back >>> 5;
    const bit = 1 << (back & 31);
    if (w.bits[word]! & bit) return 'replayed';
    w.bits[word]! |= bit;
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

/** Shift the bitmap towards older sequences by `n` (bit i of word 0 = top - i). */
function shift(bits: Uint32Array, n: number): void {
  if (n >= WINDOW) {
    bits.fill(0);
    return;
  }
  const words = n >>> 5;
  const b = n & 31;
  for (let i = WORDS - 1; i >= 0; i--) {
    const src = i - words;
    let v = src >= 0 ? bits[src]! << b : 0;
    if (b > 0 && src - 1 >= 0) v |= bits[src - 1]! >>> (32 - b);
    bits[i] = v >>> 0;
  }
}
