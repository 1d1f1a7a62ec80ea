import { describe, expect, it } from 'vitest';
import { nextDeadline, verdict, type Suspicion } from '../../runtime/core/suspicion.js';

const b = { minMs: 500, maxMs: 6000, expectedConfirmations: 3 };
const s = (sources: string[]): Suspicion => ({ inc: 0, startedAt: 1000, sources: new Set(sources) });

describe('suspicion verdict', () => {
  it('one source alone never kills before the maximum timeout', () => {
    expect(verdict(s(['a']), 1000 + 5999, b)).toBe('wait');
    expect(verdict(s(['a']), 1000 + 6000, b)).toBe('dead');
  });
  it('two independent sources kill after the shrunken timeout', () => {
    expect(verdict(s(['a', 'b']), 1000 + 3249, b)).toBe('wait');
    expect(verdict(s(['a', 'b']), 1000 + 3250, b)).toBe('dead');
  });
  it('enough confirmations bring it down to the minimum, never below', () => {
    expect(verdict(s(['a', 'b', 'c', 'd']), 1000 + 499, b)).toBe('wait');
    expect(verdict(s(['a', 'b', 'c', 'd']), 1000 + 500, b)).toBe('dead');
  });
  it('nextDeadline is when the verdict can next change', () => {
    expect(nextDeadline(s(['a']), b)).toBe(7000);
    expect(nextDeadline(s(['a', 'b', 'c', 'd']), b)).toBe(1500);
  });
});
