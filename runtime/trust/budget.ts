// Token buckets for work that a datagram can ask of this device: signature checks and new
// identities. A bucket per source address keeps one sender from taking it all; an overall
// bucket bounds the total when the sources are many (or spoofed). Past either, the work is
// refused on the spot, never queued: a queue would only move the cost later.

export interface Rate {
  /** Tokens added per second. */
  readonly perS: number;
  /** Tokens held at most: what a quiet source may spend at once. */
  readonly burst: number;
}

export class TokenBucket {
  #tokens: number;
  #at: number;
  readonly #rate: Rate;

  constructor(rate: Rate, now: number) {
    this.#rate = rate;
    this.#tokens = rate.burst;
    this.#at = now;
  }

  /** Tokens available at `now`. */
  level(now: number): number {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#rate.burst, this.#tokens + ((now - this.#at) * this.#rate.perS) / 1000);
      this.#at = now;
    }
    return this.#tokens;
  }

  take(n: number, now: number): boolean {
    if (this.level(now) < n) return false;
    this.#tokens -= n;
    return true;
  }
}

export type Exhausted = 'source' | 'total';

/** Per-source buckets under one overall bucket. */
export class SourceBudget {
  readonly #perSource: Rate;
  readonly #total: TokenBucket;
  readonly #sources = new Map<string, TokenBucket>();
  readonly #maxSources: number;
  /** Refusals by the bucket that ran out. */
  readonly exhausted: Record<Exhausted, number> = { source: 0, total: 0 };

  constructor(perSource: Rate, total: Rate, now: number, maxSources = 4096) {
    this.#perSource = perSource;
    this.#total = new TokenBucket(total, now);
    this.#maxSources = maxSources;
  }

  /** Which bucket would refuse `n` tokens for `source` at `now`, if any; takes nothing. */
  check(source: string, n: number, now: number): Exhausted | undefined {
    if ((this.#sources.get(source)?.level(now) ?? this.#perSource.burst) < n) return 'source';
    return this.#total.level(now) < n ? 'total' : undefined;
  }

  /** Spend `n` tokens for `source`, or count the refusal and spend nothing. */
  spend(source: string, n: number, now: number): boolean {
    const refused = this.check(source, n, now);
    if (refused) {
      this.exhausted[refused]++;
      return false;
    }
    this.#bucket(source, now).take(n, now);
    this.#total.take(n, now);
    return true;
  }

  #bucket(source: string, now: number): TokenBucket {
    let b = this.#sources.get(source);
    if (!b) {
      // A full table is forgotten whole: a forgotten source starts again with a full bucket,
      // which the overall bucket still bounds.
      if (this.#sources.size >= this.#maxSources) this.#sources.clear();
      b = new TokenBucket(this.#perSource, now);
      this.#sources.set(source, b);
    }
    return b;
  }
}
