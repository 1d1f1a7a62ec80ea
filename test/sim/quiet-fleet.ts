import { expect } from 'vitest';
import { Scenario } from './harness.js';

// Virtual minutes with no failures, the sensor workload running (every node republishes a
// 64-byte value every 5 s), at 10% and 30% loss: no alive node may ever be declared dead by
// anyone. The harness checks this on every event, so the first violation fails with its time.
// Ten minutes is the soak; `npm test` runs the largest fleet for less (test/soak holds the rest).
export function quietFleet(n: number, loss: number, insecure = false, minutes = 10): Scenario {
  const s = new Scenario({ nodes: n, seed: 3000 + n, loss, insecure });
  s.fleet.start();
  s.within(5_000, 'join', () => s.allAlive());
  const period = 5_000;
  let seq = 0;
  for (let t = 0; t < minutes * 60_000; t += period) {
    // Spread the fleet's writes over the period, as independent devices would.
    for (let i = 0; i < n; i++) {
      s.run(period / n);
      s.fleet.set(s.fleet.ids[i]!, 'sensor', `reading-${seq++}`.padEnd(64, '.'));
    }
  }
  s.run(5_000);
  return s;
}

/** What every quiet run must show: no death of a live node, the invariants kept, and every node alive at the end. */
export function expectQuiet(s: Scenario): void {
  expect(s.violations).toEqual([]);
  s.assertInvariants();
  expect(s.allAlive()).toBe(true);
}
