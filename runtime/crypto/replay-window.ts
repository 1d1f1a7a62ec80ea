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

/** Sender bitmaps live in shared slabs of this many: one typed array per sender costs an allocation and a finaliser each. */
const SLOTS_PER_SLAB = 64;

/** Small-integer map keys: a 48-bit tag as a key is a heap number, and Map lookups of those cost five times as much. */
const SHORT = 2 ** 30;

interface SenderWindow {
  readonly sender: number;
  gen: number;
  top: number;
  /**
   * Where its bitmap is: WORDS words at `slot` in the slabs. Bit `seq % WINDOW` is set when `seq`
   * (within WINDOW below `top`) was seen: a ring, never shifted.
   */
  readonly slot: number;
  lastSeen: number;
}

export type ReplayVerdict = 'fresh' | 'replayed' | 'stale-generation' | 'too-old';

export class ReplayWindow {
  /** Keyed by the tag's low 30 bits; a sender whose short key is taken goes to #collided, by its full tag. */
  readonly #senders = new Map<number, SenderWindow>();
  readonly #collided = new Map<number, SenderWindow>();
  readonly #slabs: Uint32Array[] = [];
  readonly #free: number[] = [];
  #slots = 0;
  #tick = 0;

  constructor(readonly maxSenders = 2048) {}

  /** What `record` would say, without changing anything. */
  verdict(sender: number, gen: number, seq: number): ReplayVerdict {
    const w = this.#find(sender);
    if (!w || gen > w.gen) return 'fresh';
    if (gen < w.gen) return 'stale-generation';
    if (seq > w.top) return 'fresh';
    if (w.top - seq >= WINDOW) return 'too-old';
    return seen(this.#slab(w.slot), offset(w.slot), seq) ? 'replayed' : 'fresh';
  }

  /** Whether nothing at or after (gen, seq) was recorded from this sender. */
  isNewest(sender: number, gen: number, seq: number): boolean {
    const w = this.#find(sender);
    return !w || gen > w.gen || (gen === w.gen && seq > w.top);
  }

  /** Mark (sender, gen, seq) as seen. Returns the verdict it had: only 'fresh' changes the window. */
  record(sender: number, gen: number, seq: number): ReplayVerdict {
    const verdict = this.verdict(sender, gen, seq);
    if (verdict !== 'fresh') return verdict;
    const tick = ++this.#tick;
    let w = this.#find(sender);
    if (!w || gen > w.gen) {
      if (!w && this.size >= this.maxSenders) this.#evict();
      const fresh: SenderWindow = { sender, gen, top: seq, slot: w?.slot ?? this.#allocate(), lastSeen: tick };
      const bits = this.#slab(fresh.slot);
      const base = offset(fresh.slot);
      // A window starts with everything below its first datagram marked seen: after an eviction
      // or a `forget`, the sender's earlier datagrams cannot be replayed into the fresh window.
      bits.fill(0xffffffff, base, base + WORDS);
      this.#put(fresh, w);
      return verdict;
    }
    w.lastSeen = tick;
    const bits = this.#slab(w.slot);
    const base = offset(w.slot);
    if (seq > w.top) {
      clearRange(bits, base, w.top + 1, seq);
      w.top = seq;
    }
    mark(bits, base, seq);
    return verdict;
  }

  /** Drop what is known about a sender: its next datagram starts a fresh window. */
  forget(sender: number): void {
    const w = this.#find(sender);
    if (w) this.#remove(w);
  }

  get size(): number {
    return this.#senders.size + this.#collided.size;
  }

  #find(sender: number): SenderWindow | undefined {
    const w = this.#senders.get(sender % SHORT);
    return w !== undefined && w.sender === sender ? w : this.#collided.get(sender);
  }

  /** Store `w`, in the place of `old` (its earlier life) when there is one. */
  #put(w: SenderWindow, old: SenderWindow | undefined): void {
    const short = w.sender % SHORT;
    if (old && this.#collided.get(w.sender) === old) this.#collided.set(w.sender, w);
    else if (old || !this.#senders.has(short)) this.#senders.set(short, w);
    else this.#collided.set(w.sender, w);
  }

  #remove(w: SenderWindow): void {
    this.#free.push(w.slot);
    if (this.#collided.get(w.sender) === w) this.#collided.delete(w.sender);
    else this.#senders.delete(w.sender % SHORT);
  }

  #allocate(): number {
    const slot = this.#free.pop() ?? this.#slots++;
    const n = Math.floor(slot / SLOTS_PER_SLAB);
    if (this.#slabs[n] === undefined) this.#slabs[n] = new Uint32Array(SLOTS_PER_SLAB * WORDS);
    return slot;
  }

  #slab(slot: number): Uint32Array {
    return this.#slabs[Math.floor(slot / SLOTS_PER_SLAB)]!;
  }

  /** Evict the sender heard from longest ago. A scan, but only when the table is full. */
  #evict(): void {
    let oldest: SenderWindow | undefined;
    for (const w of this.#senders.values()) if (!oldest || w.lastSeen < oldest.lastSeen) oldest = w;
    for (const w of this.#collided.values()) if (!oldest || w.lastSeen < oldest.lastSeen) oldest = w;
    if (oldest) this.#remove(oldest);
  }
}

const offset = (slot: number): number => (slot % SLOTS_PER_SLAB) * WORDS;

function mark(bits: Uint32Array, base: number, seq: number): void {
  const pos = seq % WINDOW;
  bits[base + (pos >>> 5)]! |= 1 << (pos & 31);
}

function seen(bits: Uint32Array, base: number, seq: number): boolean {
  const pos = seq % WINDOW;
  return (bits[base + (pos >>> 5)]! & (1 << (pos & 31))) !== 0;
}

/**
 * Clear the ring for sequences `from`..`to` as the window moves up to `to`: their slots held
 * sequences that fall out of the window. A step of one (the usual case) clears one bit.
 */
function clearRange(bits: Uint32Array, base: number, from: number, to: number): void {
  if (to - from + 1 >= WINDOW) {
    bits.fill(0, base, base + WORDS);
    return;
  }
  let seq = from;
  while (seq <= to) {
    const pos = seq % WINDOW;
    if ((pos & 31) === 0 && to - seq >= 31) {
      bits[base + (pos >>> 5)] = 0;
      seq += 32;
    } else {
      bits[base + (pos >>> 5)]! &= ~(1 << (pos & 31));
      seq++;
    }
  }
}
