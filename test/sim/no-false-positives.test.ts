import { describe, expect, it } from 'vitest';
import { quietFleet } from './quiet-fleet.js';

// N=128 runs for one virtual minute in no-false-positives-128.test.ts; its ten-minute soaks are
// in test/soak (`npm run test:long`).
describe.each([16, 64])('N=%i', (n) => {
  it.each([0.1, 0.3])('loss %f: no alive node is declared dead in 10 virtual minutes', (loss) => {
    // N=16 runs the secure host; N=64 the bare protocol, whose ten minutes cost a quarter as much.
    const s = quietFleet(n, loss, n > 16);
    expect(s.violations).toEqual([]);
    s.assertInvariants();
    expect(s.allAlive()).toBe(true);
  });
});
