import { describe, it } from 'vitest';
import { expectQuiet, quietFleet } from './quiet-fleet.js';

// N=128 for one virtual minute, joins and the sensor workload included; the ten-minute soaks
// at this size are test/soak/no-false-positives-128-loss*.soak.ts (`npm run test:long`).
describe('N=128', () => {
  it.each([0.1, 0.3])('loss %f: no alive node is declared dead in 1 virtual minute', { timeout: 600_000 }, (loss) => {
    // The bare protocol, to keep this run's cost; bench:sim measures the secure host at N=128.
    const s = quietFleet(128, loss, true, 1);
    expectQuiet(s);
  });
});
