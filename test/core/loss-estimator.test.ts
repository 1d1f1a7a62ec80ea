import { describe, expect, it } from 'vitest';
import { LossEstimator } from '../../runtime/core/loss-estimator.js';
import { profiles } from '../../runtime/core/profiles.js';

describe('LossEstimator', () => {
  it('assumes the profile prior until enough heartbeats were expected', () => {
    const e = new LossEstimator(profiles.lan);
    for (let i = 0; i < 19; i++) e.record(1);
    expect(e.loss).toBe(0.2);
    e.record(1);
    expect(e.loss).toBe(0);
  });

  it.each([
    // gaps recorded -> loss: every gap of g stands for g expected heartbeats, one received.
    [[1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], 12 / 28],
    [[4, 4, 4, 4, 4], 15 / 20],
    // A gap past 32 is capped: a pause, not 999 losses.
    [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 999], 31 / 56],
    // Gaps below 1 (a duplicate or a reordering) are ignored.
    [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, -3], 0],
  ])('%j -> %f', (gaps, loss) => {
    const e = new LossEstimator(profiles.lan);
    for (const g of gaps) e.record(g);
    expect(e.loss).toBeCloseTo(loss, 12);
  });

  it('decay keeps the ratio but brings back the prior once too few samples remain', () => {
    const e = new LossEstimator(profiles.lan);
    for (let i = 0; i < 10; i++) e.record(3);
    expect(e.loss).toBeCloseTo(2 / 3, 12);
    e.decay(0.9);
    expect(e.loss).toBeCloseTo(2 / 3, 12);
    e.decay(0.5);
    expect(e.loss).toBe(0.2);
  });
});
