import { describe, expect, it } from 'vitest';
import { quietFleet } from './quiet-fleet.js';

describe('N=128', () => {
  it.each([0.1, 0.3])('loss %f: no alive node is declared dead in 10 virtual minutes', (loss) => {
    // The bare protocol, to keep this run's cost; bench:sim measures the secure host at N=128.
    const s = quietFleet(128, loss, true);
    expect(s.violations).toEqual([]);
    s.assertInvariants();
    expect(s.allAlive()).toBe(true);
  });
});
