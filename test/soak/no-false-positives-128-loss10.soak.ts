import { describe, it } from 'vitest';
import { expectQuiet, quietFleet } from '../sim/quiet-fleet.js';

// A soak, run by `npm run test:long`, not `npm test`: test/sim/no-false-positives.test.ts runs
// the same fleet for one virtual minute. One loss per file, so the two N=128 runs go to
// separate workers. Each delivers about 44 M datagrams (every node hears some 500 heartbeats a
// second for 10 virtual minutes) and costs about five minutes of CPU, hence the timeout of its
// own.
describe('N=128', () => {
  it('loss 0.10: no alive node is declared dead in 10 virtual minutes', { timeout: 900_000 }, () => {
    // The bare protocol, to keep this run's cost; bench:sim measures the secure host at N=128.
    const s = quietFleet(128, 0.10, true);
    expectQuiet(s);
  });
});
