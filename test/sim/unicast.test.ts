import { describe, expect, it } from 'vitest';
import { Scenario } from './harness.js';

// Without multicast (Wi-Fi client isolation, or multicast disabled in config) nodes bootstrap
// from a seed address and spread everything by unicast gossip. It is slower, death detection
// most of all (relayed heartbeat counters keep a dead node looking fresh for a while); the
// bounds say how much. No false positives either way.

describe('multicast unavailable, one seed address', () => {
  it.each([0, 0.1])('loss %f: 24 nodes meet within 8000 ms, a value spreads within 3000 ms, a death is detected by all within 25000 ms, nobody alive is ever declared dead', (loss) => {
    const s = new Scenario({ nodes: 24, seed: 6000, loss, multicast: false, seeds: 'first' });
    s.fleet.start();
    s.within(8_000, 'everyone meets everyone through the seed', () => s.allMet());
    s.within(5_000, 'all alive', () => s.allAlive());
    s.fleet.set('n005', 'alarm', 'smoke');
    s.within(3_000, 'value everywhere', () => s.allSee('n005', 'alarm', 'smoke'));
    const victim = 'n017';
    s.mayDie.add(victim);
    s.fleet.crash(victim);
    const t = s.within(25_000, 'death detected by all', () => s.allDeclaredDead(victim, s.fleet.runningIds()));
    expect(t).toBeGreaterThan(0);
    s.run(60_000);
    s.assertInvariants();
    expect(s.allAlive()).toBe(true);
  });
});
