import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { all, allDeclaredDead, allSee, falseDeaths, labAvailable, withLab } from './lab-support.js';

// Real `murmur start` processes, one per network namespace, on a bridge: the whole product
// path (sockets, multicast joins, persistence, signals, the local API) on a virtual LAN.
// Bounds are generous: they prove behaviour, the benchmark measures speed.

describe.skipIf(!labAvailable)('fleet lab, 5 nodes', () => {
  it('IPv4 multicast: all meet within 10 s, a value reaches all within 5 s, kill -9 is detected by all within 15 s, and the restarted node comes back with its identity, a higher generation and its keys', async () => {
    await withLab({ nodes: 5, args: ['--families', 'ipv4'] }, async (lab) => {
      await lab.waitFor('all alive', 10_000, () => lab.allAlive());
      const set = await lab.api(2, 'PUT', '/v1/kv/alarm', { value: 'smoke' });
      expect(set.status).toBe(200);
      await lab.waitFor('value everywhere', 5_000, () => allSee(lab, all(lab), 2, 'alarm', 'smoke'));

      const before = (await lab.api(4, 'GET', '/v1/status')).body as { gen: number };
      await lab.api(4, 'PUT', '/v1/kv/role', { value: 'gateway' });
      // Own keys are saved within a second (coalesced writes); kill only once it is on disk.
      await lab.waitFor('own key saved', 5_000, () => {
        try {
          return readFileSync(join(lab.dir, 'n4', 'own-keys.json'), 'utf8').includes('gateway');
        } catch {
          return false;
        }
      });
      lab.kill(4);
      await lab.waitFor('kill -9 detected by all', 15_000, () => allDeclaredDead(lab, [0, 1, 2, 3], 4));

      lab.start(4);
      await lab.waitFor('restarted node alive everywhere', 10_000, () => lab.allAlive());
      const after = (await lab.api(4, 'GET', '/v1/status')).body as { id: string; gen: number };
      expect(after.id).toBe('n4');
      expect(after.gen).toBeGreaterThan(before.gen);
      expect(lab.events(0, { event: 'member-restarted', member: 'n4' }).length).toBeGreaterThan(0);
      await lab.waitFor('restored key everywhere', 5_000, () => allSee(lab, [0, 1, 2, 3], 4, 'role', 'gateway'));
      expect(falseDeaths(lab, new Set(['n4']))).toEqual([]);
    });
  });

  it('IPv6 multicast only (link-local group, scoped per interface): all meet within 10 s and a value reaches all within 5 s', async () => {
    await withLab({ nodes: 5, args: ['--families', 'ipv6'] }, async (lab) => {
      await lab.waitFor('all alive', 10_000, () => lab.allAlive());
      const members = await lab.api(0, 'GET', '/v1/members');
      for (const m of members.body as { addr: string }[]) expect(m.addr).toMatch(/^\[/);
      await lab.api(1, 'PUT', '/v1/kv/temp', { value: 21.5 });
      await lab.waitFor('value everywhere', 5_000, () => allSee(lab, all(lab), 1, 'temp', 21.5));
    });
  });

  it('multicast disabled, one seed: all meet within 15 s, a value reaches all within 5 s, a graceful stop is seen as "left", not dead', async () => {
    await withLab(
      { nodes: 5, args: ['--families', 'ipv4', '--no-multicast'], nodeArgs: (i, lab) => (i === 0 ? [] : ['--seed', lab.address(0)]) },
      async (lab) => {
        await lab.waitFor('all alive', 15_000, () => lab.allAlive());
        await lab.api(3, 'PUT', '/v1/kv/mode', { value: 'eco' });
        await lab.waitFor('value everywhere', 5_000, () => allSee(lab, all(lab), 3, 'mode', 'eco'));
        expect(await lab.stop(2)).toBe(0);
        await lab.waitFor('leave seen by all', 10_000, () =>
          [0, 1, 3, 4].every((i) => lab.events(i, { event: 'member-status', member: 'n2', status: 'left' }).length > 0),
        );
        expect(falseDeaths(lab, new Set())).toEqual([]);
      },
    );
  });

  it('partition and heal: a cut node is declared dead by the rest within 15 s, and everyone is alive again within 15 s of the cable coming back', async () => {
    await withLab({ nodes: 5, args: ['--families', 'ipv4'] }, async (lab) => {
      await lab.waitFor('all alive', 10_000, () => lab.allAlive());
      lab.cut(1);
      await lab.waitFor('cut node dead to the rest', 15_000, () => allDeclaredDead(lab, [0, 2, 3, 4], 1));
      lab.restore(1);
      await lab.waitFor('healed', 15_000, () => lab.allAlive());
      // Only the cut node, and the rest as seen from the cut node, may have been declared dead.
      const wrong = falseDeaths(lab, new Set(['n1'])).filter((s) => !s.startsWith('n1 '));
      expect(wrong).toEqual([]);
    });
  });

  it('20% loss at every node: all meet within 10 s, a value reaches all within 5 s, nobody is declared dead in 30 s', async () => {
    await withLab({ nodes: 5, args: ['--families', 'ipv4'] }, async (lab) => {
      for (const i of all(lab)) lab.setLoss(i, 0.2);
      await lab.waitFor('all alive', 10_000, () => lab.allAlive());
      await lab.api(0, 'PUT', '/v1/kv/door', { value: 'open' });
      await lab.waitFor('value everywhere', 5_000, () => allSee(lab, all(lab), 0, 'door', 'open'));
      await new Promise((r) => setTimeout(r, 30_000));
      expect(falseDeaths(lab, new Set())).toEqual([]);
      const status = (await lab.api(0, 'GET', '/v1/status')).body as { measuredLoss: number };
      expect(status.measuredLoss).toBeGreaterThan(0.05);
    });
  });
});

describe.skipIf(!labAvailable)('fleet lab, multicast faults', () => {
  it('2 of 5 nodes cut off from the group from boot (client isolation): all meet within 20 s, values cross both ways within 5 s, a cut-off node\'s kill -9 is detected by all within 15 s, no false deaths', async () => {
    await withLab(
      {
        nodes: 5,
        args: ['--families', 'ipv4'],
        nodeArgs: (i, lab) => (i === 0 ? [] : ['--seed', lab.address(0)]),
        beforeStart: (lab) => {
          lab.blockMulticast(3);
          lab.blockMulticast(4);
        },
      },
      async (lab) => {
        await lab.waitFor('all alive', 20_000, () => lab.allAlive());
        await lab.api(3, 'PUT', '/v1/kv/alarm', { value: 'door' });
        await lab.api(1, 'PUT', '/v1/kv/mode', { value: 'eco' });
        await lab.waitFor('cut-off node\'s value everywhere', 5_000, () => allSee(lab, all(lab), 3, 'alarm', 'door'));
        await lab.waitFor('value at the cut-off nodes', 5_000, () => allSee(lab, [3, 4], 1, 'mode', 'eco'));
        // The fallback engages once the group has been silent for the cut-off nodes for a few
        // heartbeat intervals; values may well have crossed by anti-entropy before that.
        const fallback = async (i: number): Promise<number> =>
          ((await lab.api(i, 'GET', '/v1/status')).body as { core: Record<string, number> }).core['unicast-fallback-peers'] ?? 0;
        await lab.waitFor('direct heartbeats to and from the cut-off nodes', 10_000, async () => (await fallback(0)) > 0 && (await fallback(3)) > 0);
        lab.kill(4);
        await lab.waitFor('kill -9 detected by all', 15_000, () => allDeclaredDead(lab, [0, 1, 2, 3], 4));
        expect(falseDeaths(lab, new Set(['n4']))).toEqual([]);
      },
    );
  });

  it('a node whose network comes up after murmur starts joins the group and the fleet within 20 s of the link coming up', async () => {
    await withLab({ nodes: 5, args: ['--families', 'ipv4'], beforeStart: (lab) => lab.setLink(2, false) }, async (lab) => {
      await lab.waitFor('the others meet', 10_000, () => lab.allAlive([0, 1, 3, 4]));
      expect(lab.events(2, { event: 'multicast-unavailable' }).length).toBe(1);
      lab.setLink(2, true);
      await lab.waitFor('late node in the fleet', 20_000, () => lab.allAlive());
      expect(lab.events(2, { event: 'group-joined' }).length).toBeGreaterThan(0);
    });
  });
});
