import { describe, expect, it } from 'vitest';
import { LOSSES, SIZES, Scenario } from './harness.js';

// Bounds (virtual ms, lan profile). At 10% and 30% loss they are the core's goals;
// at 0% loss they are what multicast should give on a quiet LAN.
const JOIN_MS = { 0: 500, 0.1: 1000, 0.3: 2000 } as const;
const UPDATE_MS = { 0: 100, 0.1: 300, 0.3: 1500 } as const;

describe.each(SIZES)('N=%i', (n) => {
  it.each(LOSSES)('loss %f: every node meets every other within the join bound, and a value reaches all within the update bound', (loss) => {
    const s = new Scenario({ nodes: n, seed: 1000 + n, loss });
    s.fleet.start();
    const join = s.within(JOIN_MS[loss], `N=${n} loss=${loss}: every node meets every other within ${JOIN_MS[loss]} ms`, () => s.allMet());
    expect(join).toBeLessThanOrEqual(JOIN_MS[loss]);
    s.within(5_000, 'all alive everywhere', () => s.allAlive());

    const owner = s.fleet.ids[3]!;
    s.fleet.set(owner, 'sensor/temp', 21.5);
    const t = s.within(UPDATE_MS[loss], `N=${n} loss=${loss}: value everywhere within ${UPDATE_MS[loss]} ms`, () =>
      s.allSee(owner, 'sensor/temp', 21.5),
    );
    expect(t).toBeLessThanOrEqual(UPDATE_MS[loss]);

    // A deletion travels the same way, as a tombstone.
    s.fleet.del(owner, 'sensor/temp');
    s.within(UPDATE_MS[loss] * 2, 'deletion everywhere', () => s.allSee(owner, 'sensor/temp', undefined));
    s.assertInvariants();
  });
});
