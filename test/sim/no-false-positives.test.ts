import { describe, it } from 'vitest';
import { expectQuiet, quietFleet } from './quiet-fleet.js';

// N=128 runs for one virtual minute in no-false-positives-128.test.ts. The ten-minute soaks at
// N=64 and N=128 are in test/soak (`npm run test:long`); N=16 runs its ten minutes here.
describe.each([16])('N=%i', (n) => {
  it.each([0.1, 0.3])('loss %f: no alive node is declared dead in 10 virtual minutes', (loss) => {
    // N=16 runs the secure host; its ten minutes cost about 40 s of CPU.
    const s = quietFleet(n, loss, n > 16);
    expectQuiet(s);
  });
});
