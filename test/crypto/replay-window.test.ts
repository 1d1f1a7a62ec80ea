import { describe, expect, it } from 'vitest';
import { ReplayWindow, WINDOW } from '../../runtime/crypto/replay-window.js';

const SENDER = 0x5eed;
const GEN = 1_700_000_000;

/**
 * A window whose top is `top` with nothing else seen inside it. A new window counts everything
 * below its first datagram as seen, so it starts far below and jumps to `top`.
 */
function windowAt(top: number): ReplayWindow {
  const w = new ReplayWindow();
  expect(w.record(SENDER, GEN, 1)).toBe('fresh');
  expect(w.record(SENDER, GEN, top)).toBe('fresh');
  return w;
}

describe('the replay window at its edge', () => {
  const top = 10 * WINDOW;

  it('a datagram WINDOW - 1 behind the highest is accepted once, then refused as a replay', () => {
    const w = windowAt(top);
    expect(w.record(SENDER, GEN, top - (WINDOW - 1))).toBe('fresh');
    expect(w.record(SENDER, GEN, top - (WINDOW - 1))).toBe('replayed');
  });

  it('a datagram exactly WINDOW behind is refused as too old, every time it is offered', () => {
    const w = windowAt(top);
    for (let i = 0; i < 3; i++) expect(w.record(SENDER, GEN, top - WINDOW)).toBe('too-old');
  });

  it('a datagram accepted at the edge leaves the window when the top moves by one, and stays refused', () => {
    const w = windowAt(top);
    expect(w.record(SENDER, GEN, top - (WINDOW - 1))).toBe('fresh');
    expect(w.record(SENDER, GEN, top + 1)).toBe('fresh');
    expect(w.record(SENDER, GEN, top - (WINDOW - 1))).toBe('too-old');
    // The one now exactly at the edge was never seen: accepted once.
    expect(w.record(SENDER, GEN, top + 1 - (WINDOW - 1))).toBe('fresh');
    expect(w.record(SENDER, GEN, top + 1 - (WINDOW - 1))).toBe('replayed');
  });

  it('a replay of the top, and of every sequence in the window, is refused', () => {
    const w = windowAt(top);
    const backs = Array.from({ length: WINDOW }, (_, i) => i);
    const first = backs.slice(1).map((back) => w.record(SENDER, GEN, top - back));
    const again = backs.map((back) => w.record(SENDER, GEN, top - back));
    expect(new Set(first)).toEqual(new Set(['fresh']));
    expect(new Set(again)).toEqual(new Set(['replayed']));
  });

  it('a jump of exactly WINDOW forgets everything below the new window; a jump of WINDOW - 1 keeps the old top', () => {
    const far = windowAt(top);
    expect(far.record(SENDER, GEN, top + WINDOW)).toBe('fresh');
    expect(far.record(SENDER, GEN, top)).toBe('too-old');

    const near = windowAt(top);
    expect(near.record(SENDER, GEN, top + WINDOW - 1)).toBe('fresh');
    expect(near.record(SENDER, GEN, top)).toBe('replayed');
    expect(near.record(SENDER, GEN, top + 1)).toBe('fresh');
  });

  it('an earlier generation is refused, a later one starts a fresh window', () => {
    const w = windowAt(top);
    expect(w.record(SENDER, GEN - 1, top + 1)).toBe('stale-generation');
    expect(w.record(SENDER, GEN + 1, 0)).toBe('fresh');
    expect(w.record(SENDER, GEN + 1, 0)).toBe('replayed');
    expect(w.record(SENDER, GEN, top + 1)).toBe('stale-generation');
  });

  it('senders are kept apart: one sender\'s sequence does not mark another\'s', () => {
    const w = windowAt(top);
    expect(w.record(SENDER + 1, GEN, top)).toBe('fresh');
    expect(w.record(SENDER + 1, GEN, top)).toBe('replayed');
  });
});
