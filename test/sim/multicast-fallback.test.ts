import { describe, expect, it } from 'vitest';
import { Scenario } from './harness.js';

// Wi-Fi client isolation or IGMP snooping without a querier can stop the group from reaching
// some devices while unicast still works. Each node notices, per peer, that the peer's
// multicast no longer arrives and heartbeats to it directly, which asks the peer to do the same.

describe('multicast blocked for some nodes', () => {
  it.each([0, 0.1])('loss %f: 3 of 16 nodes never get group traffic; all meet within 15000 ms, values cross both ways within 5000 ms, fewer than 50 probes a minute once settled (silence is not mistaken for death), a blocked node\'s death is detected by all within 10000 ms, no false positives in 3 minutes', (loss) => {
    const s = new Scenario({ nodes: 16, seed: 7100, loss, seeds: 'first' });
    const blocked = ['n013', 'n014', 'n015'];
    for (const id of blocked) s.fleet.blockMulticast(id);
    s.fleet.start();
    s.within(15_000, 'everyone meets everyone', () => s.allMet());
    s.within(5_000, 'all alive', () => s.allAlive());
    s.fleet.set('n014', 'alarm', 'door');
    s.fleet.set('n003', 'mode', 'eco');
    s.within(5_000, 'blocked node\'s value everywhere', () => s.allSee('n014', 'alarm', 'door'));
    s.within(5_000, 'normal node\'s value at the blocked nodes', () => s.allSee('n003', 'mode', 'eco'));
    s.run(30_000);
    // Without the fallback every node probes each blocked node after every silence (about
    // 2,000 to 3,000 probes a minute here): the blocked nodes' heartbeats must arrive directly.
    const before = s.total('probes-started');
    s.run(60_000);
    expect(s.total('probes-started') - before).toBeLessThan(50);
    s.run(90_000);
    s.assertInvariants();
    expect(s.allAlive()).toBe(true);
    const victim = 'n015';
    s.mayDie.add(victim);
    s.fleet.crash(victim);
    s.within(10_000, 'death detected by all', () => s.allDeclaredDead(victim, s.fleet.runningIds()));
    s.assertInvariants();
  });

  it('multicast stops reaching a running node mid-way: no false positives, and a value set afterwards still reaches it within 5000 ms', () => {
    const s = new Scenario({ nodes: 16, seed: 7200, loss: 0.1 });
    s.fleet.start();
    s.within(5_000, 'all alive', () => s.allAlive());
    s.fleet.blockMulticast('n007');
    s.run(30_000);
    s.fleet.set('n002', 'k', 'v');
    s.within(5_000, 'value at the blocked node', () => s.allSee('n002', 'k', 'v', ['n007']));
    s.run(120_000);
    s.assertInvariants();
    expect(s.allAlive()).toBe(true);
    const fallback = s.fleet.node('n007').stats.get('unicast-fallback-peers');
    expect(fallback).toBeGreaterThan(0);
  });

  it('when the group reaches a node again, the direct heartbeats stop within 30 s (leases are not renewed by each other)', () => {
    const s = new Scenario({ nodes: 12, seed: 7300, loss: 0.1 });
    s.fleet.start();
    s.within(5_000, 'all alive', () => s.allAlive());
    s.fleet.blockMulticast('n004');
    s.run(20_000);
    const extras = (): number => s.total('unicast-fallback-peers');
    const during = extras();
    expect(during).toBeGreaterThan(0);
    s.fleet.blockMulticast('n004', false);
    s.run(30_000);
    const settled = extras();
    s.run(30_000);
    expect(extras() - settled).toBe(0);
    s.assertInvariants();
    expect(s.allAlive()).toBe(true);
  });
});

describe('the loss a node cut off from the group measures', () => {
  // Its peers' direct copies are the only heartbeats it gets. The gap from a one-off reply to
  // the first copy of a stream, or a stream that lapsed while a stall of its own made it judge
  // the group afresh, would read as loss and lengthen every silence it allows.
  it.each([9001, 9002, 9003, 9004, 9005, 9006])('seed %i: 2 of 5 cut off from boot, each stalled for 600 ms now and then: their measured loss stays under 5% once measured, and one\'s death is seen by all within 2 s', (seed) => {
    const s = new Scenario({ nodes: 5, seed, loss: 0, seeds: 'first' });
    const cut = ['n003', 'n004'] as const;
    for (const id of cut) s.fleet.blockMulticast(id);
    s.fleet.start();
    // Measured by then: the estimate holds its prior until enough heartbeats have arrived.
    s.run(7_000);
    for (let t = 0; t < 8; t++) {
      if (t % 3 === 0) s.fleet.fault({ kind: 'stall', node: t === 3 ? 'n004' : 'n003', forMs: 600 });
      s.run(1_000);
      for (const id of cut) expect(s.fleet.node(id).measuredLoss, `${id} after ${t + 1} s`).toBeLessThan(0.05);
    }
    s.mayDie.add('n004');
    s.fleet.crash('n004');
    s.within(2_000, 'death seen by all', () => s.allDeclaredDead('n004', s.fleet.runningIds()));
    s.assertInvariants();
  });
});
