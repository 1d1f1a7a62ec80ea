import { describe, expect, it } from 'vitest';
import { Scenario } from './harness.js';

// Without multicast (multicast disabled in config, or a network that carries none) nodes
// bootstrap from a seed address and spread everything by unicast gossip; liveness comes from
// SWIM round-robin probing. Slower than multicast; the bounds say how much. No false
// positives either way, also at 30% loss, where one probe in nine fails for a live node.

describe('multicast unavailable, one seed address', () => {
  it.each([0, 0.1])('loss %f: 24 nodes meet within 8000 ms, a value spreads within 3000 ms, a death is detected by all within 12000 ms, nobody alive is ever declared dead', (loss) => {
    // The bare protocol: with the gatekeeper, members named only in a seed's digest wait for
    // their passports (WhoIs), and the fleet does not meet within these bounds.
    const s = new Scenario({ nodes: 24, seed: 6000, loss, multicast: false, seeds: 'first', insecure: true });
    s.fleet.start();
    s.within(8_000, 'everyone meets everyone through the seed', () => s.allMet());
    s.within(5_000, 'all alive', () => s.allAlive());
    s.fleet.set('n005', 'alarm', 'smoke');
    s.within(3_000, 'value everywhere', () => s.allSee('n005', 'alarm', 'smoke'));
    const victim = 'n017';
    s.mayDie.add(victim);
    s.fleet.crash(victim);
    const t = s.within(12_000, 'death detected by all', () => s.allDeclaredDead(victim, s.fleet.runningIds()));
    expect(t).toBeGreaterThan(0);
    s.run(60_000);
    s.assertInvariants();
    expect(s.allAlive()).toBe(true);
  });
});

describe('multicast unavailable at high loss', () => {
  it('30% loss, 32 nodes, 5 virtual minutes with a value changing every 5 s: nobody alive is declared dead, and a death is detected by all within 15000 ms', () => {
    const s = new Scenario({ nodes: 32, seed: 6100, loss: 0.3, multicast: false, seeds: 'first', insecure: true });
    s.fleet.start();
    s.within(20_000, 'all alive', () => s.allAlive());
    for (let t = 0; t < 300; t += 5) {
      s.fleet.set(`n0${String(t % 32).padStart(2, '0')}`, 'sensor', `v${t}`);
      s.run(5_000);
    }
    s.assertInvariants();
    const victim = 'n020';
    s.mayDie.add(victim);
    s.fleet.crash(victim);
    s.within(15_000, 'death detected by all', () => s.allDeclaredDead(victim, s.fleet.runningIds()));
    s.assertInvariants();
  });
});
