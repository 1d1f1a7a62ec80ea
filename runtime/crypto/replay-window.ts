// Replay protection: per sender, the highest (generation, sequence) seen and a bitmap of the
// WINDOW sequences below it. A datagram is accepted once; an older generation of a sender is
// refused outright (its earlier life cannot come back), a newer one starts a fresh window.
// Reordering within the window is fine. Sequences count datagrams, not time, so a wrong wall
// clock after boot changes nothing; generations come from the boot counter (state dir), which
// only grows.
//
// Looking and recording are separate steps. Every fleet member holds the fleet key, so the
// (sender, generation, sequence) in a nonce says only what its author chose to write: a
// verdict is taken when the datagram opens, but the window moves (`record`) only once the
// host has matched the header to the sender its messages prove (runtime/trust/datagram-sender.ts).
// A datagram that claims someone else's tag, or a generation its sender never signed, leaves
// the window as it was.
//
// The table is bounded and least-recently-recorded senders go first, so a flood of tags costs
// at most `maxSenders` windows of 256 bytes; an evicted sender starts a fresh window at its
// next datagram, with everything below that datagram taken as seen.

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
}

export type ReplayVerdict = 'fresh' | 'replayed' | 'stale-generation' | 'too-old';

export class ReplayWindow {
  /** Insertion order is recency: a recorded sender moves to the end, eviction takes the first. */
  readonly #senders = new Map<number, SenderWindow>();

  constructor(readonly maxSenders = 2048) {}

  /** What `record` would say, without changing anything. */
  verdict(sender: number, gen: number, seq: number): ReplayVerdict {
    const w = this.#senders.get(sender);
    if (!w || gen > w.gen) return 'fresh';
    if (gen < w.gen) return 'stale-generation';
    if (seq > w.top) return 'fresh';
    const back = w.top - seq;
    if (back >= WINDOW) return 'too-old';
    return w.bits[back >>> 5]! & (1 << (back & 31)) ? 'replayed' : 'fresh';
  }

  /** Mark (sender, gen, seq) as seen. Returns the verdict it had: only 'fresh' changes the window. */
  record(sender: number, gen: number, seq: number): ReplayVerdict {
    const verdict = this.verdict(sender, gen, seq);
    if (verdict !== 'fresh') return verdict;
    let w = this.#senders.get(sender);
    if (w) this.#senders.delete(sender);
    else if (this.#senders.size >= this.maxSenders) this.#senders.delete(this.#senders.keys().next().value!);
    // A window starts with everything below its first datagram marked seen: after an eviction
    // or a `forget`, the sender's earlier datagrams cannot be replayed into the fresh window.
    this.#senders.set(sender, (w = w && gen === w.gen ? w : { gen, top: seq, bits: new Uint32Array(WORDS).fill(0xffffffff) }));
    if (seq > w.top) {
      shift(w.bits, seq - w.top);
      w.top = seq;
    }
    const back = w.top - seq;
    w.bits[back >>> 5]! |= 1 << (back & 31);
    return verdict;
  }

  /** Drop what is known about a sender: its next datagram starts a fresh window. */
  forget(sender: number): void {
    this.#senders.delete(sender);
  }

  get size(): number {
    return this.#senders.size;
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
