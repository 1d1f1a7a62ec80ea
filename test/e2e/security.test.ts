import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFleetKey, parseFleetKey } from '../../runtime/agent/keyring-store.js';
import { formatKeyId, keyId } from '../../runtime/crypto/keyring.js';
import { PROMOTION_DELAY_MS } from '../../runtime/crypto/offer-policy.js';
import { all, falseDeaths, keyState, keysOf, labAvailable, refusalsOf, withLab } from './lab-support.js';

// The sealed channel on real processes: a key rotation while a device is switched off, a key
// removed as compromised, and an outsider on the LAN throwing everything it has at the fleet.

const idOf = (key: string): string => formatKeyId(keyId(parseFleetKey(key, 'test')));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!labAvailable)('fleet lab: fleet keys', () => {
  it('a rotation while n3 is switched off: n3 comes back on the old key, is handed the new one and is alive everywhere within the promotion delay plus 20 s; a key removed as compromised then opens nothing (a node restarted with only it stays isolated)', async () => {
    await withLab({ nodes: 4, args: ['--families', 'ipv4'] }, async (lab) => {
      await lab.waitFor('all alive', 10_000, () => lab.allAlive());
      const old = (await keysOf(lab, 0))!.primary;
      expect(await lab.stop(3)).toBe(0);

      // The rotation, all through n0's API: install, wait until the others list it, use, remove.
      const fresh = generateFleetKey();
      const freshId = idOf(fresh);
      const installed = await lab.api(0, 'POST', '/v1/keys/install', { key: fresh });
      expect(installed).toEqual({ status: 200, body: { id: freshId } });
      await lab.waitFor('n1 and n2 list the new key', 10_000, async () => (await keyState(lab, 1, freshId)) === 'active' && (await keyState(lab, 2, freshId)) === 'active');
      expect((await lab.api(0, 'POST', '/v1/keys/use', { id: freshId })).body).toEqual({ primary: freshId });
      // A promotion heard from another device waits PROMOTION_DELAY_MS before it takes effect.
      await lab.waitFor('n1 and n2 seal with the new key', PROMOTION_DELAY_MS + 10_000, async () => (await keysOf(lab, 1))?.primary === freshId && (await keysOf(lab, 2))?.primary === freshId);
      expect((await lab.api(0, 'POST', '/v1/keys/remove', { id: old })).body).toEqual({ id: old, state: 'retired' });
      await lab.waitFor('n1 and n2 retire the old key', 10_000, async () => (await keyState(lab, 1, old)) === 'retired' && (await keyState(lab, 2, old)) === 'retired');
      expect(await lab.allAlive([0, 1, 2])).toBe(true);

      // n3 slept through all of it: its keyring on disk holds the old key only.
      const onDisk = JSON.parse(readFileSync(join(lab.nodes[3]!.stateDir, 'keyring.json'), 'utf8')) as { records: { id: string }[] };
      expect(onDisk.records.map((r) => r.id)).toEqual([old]);
      lab.start(3);
      // n3 seals with the old key until the promotion it was handed has waited PROMOTION_DELAY_MS.
      const back = await lab.waitFor('n3 alive everywhere', PROMOTION_DELAY_MS + 20_000, () => lab.allAlive());
      await lab.waitFor('n3 has the new key as its primary', PROMOTION_DELAY_MS + 20_000 - back, async () => (await keysOf(lab, 3))?.primary === freshId);
      expect(await keyState(lab, 3, old)).toBe('retired');
      // It learned it by handoff: the others answered its old-key datagrams with their keyring.
      expect(all(lab).slice(0, 3).some((i) => lab.events(i, { event: 'key-handoff', retired_key: old }).length > 0)).toBe(true);
      expect(lab.events(3, { event: 'keyring-updated', primary: freshId }).length).toBeGreaterThan(0);
      expect(falseDeaths(lab, new Set())).toEqual([]);

      // The old key turns out to be compromised: erased fleet-wide, no grace, no handoff.
      expect((await lab.api(0, 'POST', '/v1/keys/remove', { id: old, compromised: true })).body).toEqual({ id: old, state: 'gone' });
      await lab.waitFor('everyone erased the old key', 10_000, async () => {
        for (const i of [1, 2, 3]) if ((await keyState(lab, i, old)) !== 'gone') return false;
        return true;
      });
      // n2 is reflashed with the lab's original key file (the compromised key) and nothing else.
      expect(await lab.stop(2)).toBe(0);
      rmSync(join(lab.nodes[2]!.stateDir, 'keyring.json'));
      const before = await refusalsOf(lab, 0);
      // Handoffs to n2 before this point answered its last datagrams under the old key while it
      // was retired, which is right; from here on that key is gone and must earn nothing.
      const handoffsToN2 = (): number => lab.events(0, { event: 'key-handoff', to: `${lab.nodes[2]!.ipv4}:7478` }).length;
      const handoffsBefore = handoffsToN2();
      lab.start(2);
      await lab.waitFor('n2 up on the compromised key', 10_000, async () => (await keysOf(lab, 2))?.primary === old);
      await sleep(8000);
      const members2 = await lab.members(2);
      expect([...members2.values()].filter((m) => m.status === 'alive')).toEqual([]);
      for (const i of [0, 1, 3]) expect((await lab.members(i)).get('n2')?.status, `n2 as n${i} sees it`).toBe('left');
      expect(await lab.allAlive([0, 1, 3])).toBe(true);
      // What n2 sends is sealed under a key nobody holds any more: unknown, never opened, never answered.
      const after = await refusalsOf(lab, 0);
      expect((after['unknown-key'] ?? 0) - (before['unknown-key'] ?? 0)).toBeGreaterThan(5);
      expect(handoffsToN2()).toBe(handoffsBefore);
    });
    // Two promotion delays (the fleet's, then the sleeper's) on top of the lab's own waits.
  }, 2 * PROMOTION_DELAY_MS + 240_000);
});

describe.skipIf(!labAvailable)('fleet lab: an outsider on the LAN', () => {
  it('10 s of random bytes, plaintext murmur, forged frames under the sniffed key id and replays of sniffed datagrams change nothing: all 4 alive, no new member, nobody dead, every process running, and each attack counted by reason', async () => {
    await withLab({ nodes: 4, args: ['--families', 'ipv4'] }, async (lab) => {
      await lab.waitFor('all alive', 10_000, () => lab.allAlive());
      const fleetKey = (await keysOf(lab, 0))!.primary;
      const outsider = lab.addHost('outsider');
      const before = await Promise.all(all(lab).map((i) => refusalsOf(lab, i)));

      const report = await lab.outsider(outsider, 10);
      // It did what it says: sniffed the fleet's sealed traffic, copied its key id, and sent every kind.
      expect(report.sniffed).toBeGreaterThan(20);
      expect(report.keyIds).toContain(fleetKey);
      for (const [kind, n] of Object.entries(report.sent)) expect(n, kind).toBeGreaterThan(500);

      const names = new Set(lab.nodes.map((n) => n.name));
      for (const i of all(lab)) {
        expect(lab.running(i), `${lab.name(i)} running`).toBe(true);
        const members = await lab.members(i);
        expect([...members.keys()].sort(), `${lab.name(i)}'s members`).toEqual([...names].filter((n) => n !== lab.name(i)).sort());
        for (const e of lab.events(i, { event: 'member-joined' })) expect(names.has(e.fields['member']!), `${lab.name(i)}: ${e.fields['member']} joined`).toBe(true);
        expect(lab.events(i, { event: 'internal-error' })).toEqual([]);
      }
      expect(await lab.allAlive()).toBe(true);
      expect(falseDeaths(lab, new Set())).toEqual([]);

      // Every node refused the attack at the seal, each kind under its own reason.
      const after = await Promise.all(all(lab).map((i) => refusalsOf(lab, i)));
      all(lab).forEach((i) => {
        const grew = (reason: string): number => (after[i]![reason] ?? 0) - (before[i]![reason] ?? 0);
        for (const reason of ['not-sealed', 'bad-mac', 'unknown-key', 'replayed', 'too-short']) expect(grew(reason), `${lab.name(i)} ${reason}`).toBeGreaterThan(0);
        // Nothing the outsider sent opened, so nothing reached the wire decoder or the gatekeeper.
        for (const reason of ['malformed-cbor', 'invalid-field', 'unknown-type', 'bad-version', 'unknown-member', 'bad-signature']) expect(grew(reason), `${lab.name(i)} ${reason}`).toBe(0);
      });
    });
  });
});
