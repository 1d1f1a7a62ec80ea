import { describe, expect, it } from 'vitest';
import { publishReason, type LastPublished, type PublishReason, type Sample } from '../../runtime/sensing/deadband.js';

const ok = (value: number): Sample => ({ ok: true, value });
const err = (error: string): Sample => ({ ok: false, error });
const at = (sample: Sample, t: number): LastPublished => ({ sample, at: t });

// Last published at t = 0 unless stated; max interval 300 s.
const MAX = 300_000;

describe('publishReason', () => {
  it.each<[string, LastPublished | undefined, Sample, number, number, PublishReason | undefined]>([
    ['nothing published yet', undefined, ok(20), 0, 0.5, 'first'],
    ['nothing published yet, an error', undefined, err('no reply'), 0, 0.5, 'first'],
    ['unchanged', at(ok(20), 0), ok(20), 60_000, 0.5, undefined],
    ['inside the deadband', at(ok(20), 0), ok(20.4), 60_000, 0.5, undefined],
    ['inside the deadband, downwards', at(ok(20), 0), ok(19.6), 60_000, 0.5, undefined],
    ['exactly the deadband', at(ok(20), 0), ok(20.5), 60_000, 0.5, 'changed'],
    ['exactly the deadband despite float subtraction (21.2 - 21.1)', at(ok(21.1), 0), ok(21.2), 60_000, 0.1, 'changed'],
    ['beyond the deadband, downwards', at(ok(20), 0), ok(19.4), 60_000, 0.5, 'changed'],
    ['deadband 0: any change', at(ok(20), 0), ok(20.001), 60_000, 0, 'changed'],
    ['deadband 0: no change', at(ok(20), 0), ok(20), 60_000, 0, undefined],
    ['ok -> error', at(ok(20), 0), err('no reply'), 60_000, 0.5, 'failed'],
    ['error -> ok', at(err('no reply'), 0), ok(20), 60_000, 0.5, 'recovered'],
    ['error -> the same error', at(err('no reply'), 0), err('no reply'), 60_000, 0.5, undefined],
    ['error -> another error', at(err('no reply'), 0), err('CRC mismatch'), 60_000, 0.5, 'error-changed'],
    ['unchanged, max interval reached', at(ok(20), 0), ok(20), MAX, 0.5, 'max-interval'],
    ['unchanged, just before the max interval', at(ok(20), 0), ok(20), MAX - 1, 0.5, undefined],
    ['inside the deadband, max interval passed', at(ok(20), 0), ok(20.1), MAX + 5_000, 0.5, 'max-interval'],
    ['the same error, max interval reached', at(err('no reply'), 0), err('no reply'), MAX, 0.5, 'max-interval'],
    ['max interval counts from the last publish', at(ok(20), 200_000), ok(20), MAX, 0.5, undefined],
  ])('%s', (_what, last, next, now, deadband, reason) => {
    expect(publishReason(last, next, now, deadband, MAX)).toBe(reason);
  });

  it('compares with the last published value, so a slow drift is published once it adds up', () => {
    let last: LastPublished = at(ok(20), 0);
    const published: number[] = [];
    for (const [i, v] of [20.2, 20.4, 20.6, 20.8, 21.0, 21.2].entries()) {
      const now = (i + 1) * 1000;
      if (publishReason(last, ok(v), now, 0.5, MAX)) {
        published.push(v);
        last = at(ok(v), now);
      }
    }
    expect(published).toEqual([20.6, 21.2]);
  });
});
