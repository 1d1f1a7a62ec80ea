import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayWindow, WINDOW, type ReplayVerdict } from '../../runtime/crypto/replay-window.js';

/**
 * The rule, written the slow and obvious way: every sequence seen, the highest, and the first
 * (everything below a window's first datagram counts as seen).
 */
class Reference {
  readonly #seen = new Set<number>();
  #top = -1;
  #first = -1;
  check(seq: number): ReplayVerdict {
    if (this.#first < 0) this.#first = seq;
    if (this.#top >= 0 && this.#top - seq >= WINDOW) return 'too-old';
    if (seq < this.#first || this.#seen.has(seq)) return 'replayed';
    this.#seen.add(seq);
    this.#top = Math.max(this.#top, seq);
    return 'fresh';
  }
}

describe('replay window as a ring', () => {
  it('agrees with the obvious rule on any walk of sequences: steps, jumps across the window, reordering, replays', () => {
    const step = fc.oneof(fc.integer({ min: -40, max: 40 }), fc.integer({ min: -WINDOW - 40, max: WINDOW + 40 }), fc.constantFrom(WINDOW, -WINDOW, WINDOW - 1, 1 - WINDOW, 32, 31, 33));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.array(step, { maxLength: 300 }), (start, steps) => {
        const w = new ReplayWindow();
        const ref = new Reference();
        let seq = start;
        expect(w.record(1, 5, seq)).toBe(ref.check(seq));
        for (const d of steps) {
          seq = Math.max(0, seq + d);
          expect(w.record(1, 5, seq), `seq ${seq}`).toBe(ref.check(seq));
        }
      }),
      { seed: 20261204, numRuns: 300 },
    );
  });

  it('an earlier generation is refused, a later one starts afresh', () => {
    const w = new ReplayWindow();
    expect(w.record(7, 2, 100)).toBe('fresh');
    expect(w.record(7, 1, 101)).toBe('stale-generation');
    expect(w.record(7, 3, 1)).toBe('fresh');
    expect(w.record(7, 3, 1)).toBe('replayed');
  });

  it('exactly WINDOW - 1 below the top is still accepted once; WINDOW below is too old', () => {
    const w = new ReplayWindow();
    w.record(1, 1, 1);
    w.record(1, 1, 10_000);
    expect(w.record(1, 1, 10_000 - (WINDOW - 1))).toBe('fresh');
    expect(w.record(1, 1, 10_000 - (WINDOW - 1))).toBe('replayed');
    expect(w.record(1, 1, 10_000 - WINDOW)).toBe('too-old');
  });
});

describe('replay window with many senders', () => {
  it('keeps senders apart, and a slot freed by eviction starts clean for the next sender', () => {
    const w = new ReplayWindow(100);
    for (let s = 0; s < 100; s++) expect(w.record(s, 1, 5 + s)).toBe('fresh');
    for (let s = 0; s < 100; s++) expect(w.record(s, 1, 5 + s)).toBe('replayed');
    // Sender 0 is the one heard from longest ago: the newcomer takes its place, with nothing seen.
    for (let s = 1; s < 100; s++) w.record(s, 1, 1000);
    expect(w.record(500, 1, 5)).toBe('fresh');
    expect(w.size).toBe(100);
    expect(w.record(500, 1, 6)).toBe('fresh');
    expect(w.record(1, 1, 6)).toBe('replayed');
    // Sender 0 comes back as a stranger: its old window is gone.
    expect(w.record(0, 1, 5)).toBe('fresh');
  });
});

describe('replay window with tags that share their low 30 bits', () => {
  it('keeps them apart, evicts either, and never confuses one with the other', () => {
    const a = 5;
    const b = 5 + 2 ** 30;
    const c = 5 + 2 ** 31;
    const w = new ReplayWindow(2);
    expect(w.record(a, 1, 10)).toBe('fresh');
    expect(w.record(b, 1, 10)).toBe('fresh');
    expect(w.record(a, 1, 10)).toBe('replayed');
    expect(w.record(b, 1, 10)).toBe('replayed');
    expect(w.record(b, 1, 11)).toBe('fresh');
    // a is the oldest: c takes its place.
    expect(w.record(c, 1, 10)).toBe('fresh');
    expect(w.size).toBe(2);
    expect(w.record(b, 1, 11)).toBe('replayed');
    expect(w.record(c, 1, 10)).toBe('replayed');
    // b is the oldest now; a returns as a stranger.
    expect(w.record(a, 1, 10)).toBe('fresh');
    expect(w.record(c, 0, 12)).toBe('stale-generation');
    expect(w.record(c, 2, 1)).toBe('fresh');
    expect(w.record(c, 2, 1)).toBe('replayed');
    expect(w.size).toBe(2);
  });
});
