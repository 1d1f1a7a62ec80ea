import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseFleetKey } from '../../runtime/agent/keyring-store.js';
import { MsgType } from '../../runtime/core/messages.js';
import { formatKeyId, keyId } from '../../runtime/crypto/keyring.js';
import { PROMOTION_DELAY_MS } from '../../runtime/crypto/offer-policy.js';
import { parseLine } from '../../runtime/log/log.js';
import { Insider } from '../../scripts/lab/insider.js';
import type { Lab } from '../../scripts/lab/lab.js';
import { all, falseDeaths, keysOf, labAvailable, refusalsOf, withLab } from './lab-support.js';

// An insider on the LAN: a process holding the fleet key and a device key of its own, no
// admin certificate. The test seals its datagrams here (scripts/lab/insider.ts) and sends them
// from a host on the lab's bridge; the fleet is real `murmur start` processes.

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fleetKeyOf = (lab: Lab): Uint8Array => parseFleetKey(readFileSync(lab.fleetKeyFile, 'utf8'), lab.fleetKeyFile);
/** The group and each node's unicast port: everywhere a datagram can reach the fleet. */
const everywhere = (lab: Lab): (number | 'group')[] => ['group', ...all(lab)];
const MAX_48 = 2 ** 48 - 1;

/**
 * Every node runs, seals (no internal error, nobody declared dead), answers /v1/status and
 * /v1/keys, and seals with `primary`.
 */
/** Node i stops cleanly, starts again on what it persisted, and the fleet is healthy on `primary`. */
async function restartsHealthy(lab: Lab, i: number, primary: string): Promise<void> {
  expect(await lab.stop(i)).toBe(0);
  lab.start(i);
  await lab.waitFor(`n${i} alive everywhere after its restart`, 20_000, () => lab.allAlive());
  await expectHealthy(lab, primary);
}

async function expectHealthy(lab: Lab, primary: string): Promise<void> {
  for (const i of all(lab)) {
    expect(lab.running(i), `n${i} running`).toBe(true);
    expect(lab.events(i, { event: 'internal-error' }).map((e) => e.fields['error']), `n${i}'s internal errors`).toEqual([]);
    expect((await lab.api(i, 'GET', '/v1/status')).status, `n${i} /v1/status`).toBe(200);
    const keys = await lab.api(i, 'GET', '/v1/keys');
    expect(keys.status, `n${i} /v1/keys`).toBe(200);
    expect((keys.body as { primary: string }).primary, `n${i}'s primary`).toBe(primary);
  }
  expect(falseDeaths(lab, new Set())).toEqual([]);
  // A suspicion on a loaded machine clears in a moment; a node that cannot seal stays silent.
  await lab.waitFor('all alive', 5000, () => lab.allAlive());
}

describe.skipIf(!labAvailable)('fleet lab: an insider with the fleet key', () => {
  it("one datagram under n1's sender tag at generation 2^48-1, to the group and to each node, kills nobody: n1 is alive everywhere 10 s later, and again after it restarts", async () => {
    await withLab({ nodes: 3, args: ['--families', 'ipv4'] }, async (lab) => {
      await lab.waitFor('all alive', 20_000, () => lab.allAlive());
      const gen = (await lab.members(0)).get('n1')!.gen;
      const insider = new Insider(fleetKeyOf(lab), 'mallory');
      const host = lab.addHost('insider');
      const before = await Promise.all(all(lab).map((i) => refusalsOf(lab, i)));

      // A heartbeat of n1 in a life it never signed, under a header naming n1 in that life.
      const far = { id: 'n1', gen: MAX_48 };
      const forged = insider.forge([{ type: MsgType.Heartbeat, from: far, inc: 0, seq: 1, intervalMs: 250, kvMax: 0, view: 0 }], { ...far, seq: 1 });
      await lab.inject(host, everywhere(lab).map((to) => ({ to, bytes: forged })));

      await sleep(10_000);
      expect(falseDeaths(lab, new Set())).toEqual([]);
      await lab.waitFor('n0 and n2 list n1 alive in the life it had', 5000, async () => {
        const seen = await Promise.all([0, 2].map((i) => lab.members(i)));
        return seen.every((m) => m.get('n1')?.status === 'alive' && m.get('n1')?.gen === gen);
      });
      // It arrived and opened: the others refused its claim of a life n1 never signed.
      const after = await Promise.all(all(lab).map((i) => refusalsOf(lab, i)));
      for (const i of [0, 2]) expect((after[i]!['unproven-claim'] ?? 0) - (before[i]!['unproven-claim'] ?? 0), `n${i} unproven-claim`).toBeGreaterThan(0);

      // A restart is a later life, well below 2^48-1: the others take it.
      expect(await lab.stop(1)).toBe(0);
      lab.start(1);
      await lab.waitFor('n1 alive everywhere after its restart', 20_000, () => lab.allAlive());
      for (const i of [0, 2]) expect((await lab.members(i)).get('n1')!.gen, `n1's generation as n${i} sees it`).toBeGreaterThan(gen);
      expect(falseDeaths(lab, new Set())).toEqual([]);
    });
  }, 90_000);

  it('a keyring offer erasing the only fleet key as compromised: every node keeps sealing and answering on that key, and a node restarts on it', async () => {
    await withLab({ nodes: 3, args: ['--families', 'ipv4'] }, async (lab) => {
      await lab.waitFor('all alive', 20_000, () => lab.allAlive());
      const fleetKey = fleetKeyOf(lab);
      const fleetId = formatKeyId(keyId(fleetKey));
      const insider = new Insider(fleetKey, 'mallory');
      const host = lab.addHost('insider');

      const erase = { id: keyId(fleetKey), key: undefined, installed: 0, used: 0, removed: Date.now(), compromised: true };
      await lab.inject(host, everywhere(lab).map((to) => ({ to, bytes: insider.offer([erase]) })));
      // Long enough for a node that cannot seal to be declared dead by the others.
      await sleep(6000);
      await expectHealthy(lab, fleetId);
      // It arrived, opened and was read: each node refused it, and said so.
      for (const i of all(lab)) expect(lab.events(i, { event: 'keyring-offer-refused', by: 'mallory' }).length, `n${i} refused it`).toBeGreaterThan(0);

      await restartsHealthy(lab, 2, fleetId);
    });
  }, 90_000);

  it('a keyring offer making its own key primary: the fleet keeps sealing with its key until the promotion delay has run, the operator is told, and a node restarts on the fleet key', async () => {
    await withLab({ nodes: 3, args: ['--families', 'ipv4'] }, async (lab) => {
      await lab.waitFor('all alive', 20_000, () => lab.allAlive());
      const fleetKey = fleetKeyOf(lab);
      const fleetId = formatKeyId(keyId(fleetKey));
      const insider = new Insider(fleetKey, 'mallory');
      const host = lab.addHost('insider');

      // Its own key, installed and made primary in one offer.
      const own = new Uint8Array(randomBytes(32));
      const ownId = formatKeyId(keyId(own));
      const promote = { id: keyId(own), key: own, installed: Date.now(), used: Date.now() + 1, removed: 0, compromised: false };
      const offeredAt = lab.now;
      await lab.inject(host, everywhere(lab).map((to) => ({ to, bytes: insider.offer([promote]) })));
      await sleep(5000);
      await expectHealthy(lab, fleetId);
      // Every node holds the promotion back, logged for its operator, and not due before the
      // delay has run from when it was offered.
      for (const i of all(lab)) {
        expect(lab.events(i, { event: 'key-promotion-pending', by: 'mallory' }).length, `n${i} logged the pending promotion`).toBeGreaterThan(0);
        const pending = ((await keysOf(lab, i)) as unknown as { pending: { id: string; inS: number }[] }).pending;
        const waited = (lab.now - offeredAt) / 1000;
        expect(pending.find((p) => p.id === ownId)?.inS, `n${i}: seconds until ${ownId} would take effect`).toBeGreaterThanOrEqual(PROMOTION_DELAY_MS / 1000 - waited - 1);
      }

      // A node restarts on what it persisted: the promotion was never written as taken.
      await restartsHealthy(lab, 2, fleetId);
    });
  }, 90_000);

  it("an outsider's replay: a datagram n0 sealed for n1, sent to n2 from another host, is dropped there as wrong-recipient and n2 keeps n0's address", async () => {
    await withLab({ nodes: 3, args: ['--families', 'ipv4'] }, async (lab) => {
      await lab.waitFor('all alive', 20_000, () => lab.allAlive());
      const addrOf = async (i: number, id: string): Promise<string | undefined> =>
        ((await lab.api(i, 'GET', '/v1/members')).body as { id: string; addr: string }[]).find((m) => m.id === id)?.addr;
      const n0 = { id: 'n0', gen: (await lab.members(2)).get('n0')!.gen };
      const before = await addrOf(2, 'n0');
      expect(before).toBe(lab.address(0));
      const refusedBefore = (await refusalsOf(lab, 2))['wrong-recipient'] ?? 0;
      // n0's own datagrams would correct n2 within a heartbeat: n2 hears nothing from n0 meanwhile.
      lab.deafTo(2, 0);
      try {
        // A sequence n2 has not seen from n0: n0 sealed at most as many datagrams as it sent.
        const sent = ((await lab.api(0, 'GET', '/v1/status')).body as { transport: { sentPackets: number } }).transport.sentPackets;
        const captured = new Insider(fleetKeyOf(lab), 'outsider').sealedFor(
          [{ type: MsgType.Ping, from: n0, target: { id: 'n1', gen: (await lab.members(2)).get('n1')!.gen }, probe: 424242 }],
          { ...n0, seq: sent + 1 },
          'n1',
        );
        await lab.inject(lab.addHost('outsider'), [{ to: 2, bytes: captured }]);
        await sleep(1000);
        expect(await addrOf(2, 'n0'), "n0's address as n2 holds it").toBe(before);
        expect(((await refusalsOf(lab, 2))['wrong-recipient'] ?? 0) - refusedBefore, 'wrong-recipient at n2').toBe(1);
      } finally {
        lab.deafTo(2, 0, false);
      }
      await lab.waitFor('all alive', 10_000, () => lab.allAlive());
      expect(falseDeaths(lab, new Set())).toEqual([]);
    });
  }, 60_000);

  it('a member whose id carries ESC, BEL, CR and CSI is logged escaped by the others: one line each, no raw control character, and the id reads back exactly', async () => {
    await withLab({ nodes: 2, args: ['--families', 'ipv4'] }, async (lab) => {
      await lab.waitFor('all alive', 20_000, () => lab.allAlive());
      const id = 'evil\x1b[2J\x07\rok\u009b31m';
      const insider = new Insider(fleetKeyOf(lab), id);
      const host = lab.addHost('insider');
      await lab.inject(host, everywhere(lab).map((to) => ({ to, bytes: insider.hello() })));

      await lab.waitFor('both nodes log a member joining from the insider', 10_000, () => all(lab).every((i) => lab.output(i).includes(`addr=${host.ipv4}:`)));
      for (const i of all(lab)) {
        const out = lab.output(i);
        expect(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/.exec(out)?.[0], `n${i}'s log carries a raw control character`).toBeUndefined();
        // The whole event on one line: what comes after the id was not split off by the CR.
        const line = out.split('\n').find((l) => l.includes('event=member-joined') && parseLine(l)['member'] === id);
        expect(parseLine(line!)).toMatchObject({ event: 'member-joined', member: id, gen: '1' });
      }
    });
  }, 60_000);
});
