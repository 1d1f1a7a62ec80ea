import { describe, it } from 'vitest';
import { expectQuiet, quietFleet } from '../sim/quiet-fleet.js';

// A soak, run by `npm run test:long`, not `npm test` (about two minutes of CPU per loss):
// test/sim/no-false-positives.test.ts runs ten minutes at N=16 and one minute at N=128.
describe('N=64', () => {
  it.each([0.1, 0.3])('loss %f: no alive node is declared dead in 10 virtual minutes', { timeout: 900_000 }, (loss) => {
    // The bare protocol, to keep this run's cost.
    const s = quietFleet(64, loss, true);
    expectQuiet(s);
  });
});
