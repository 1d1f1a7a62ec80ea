import { describe, expect, it } from 'vitest';
import { MULTICAST } from '../../runtime/core/effects.js';
import { MsgType } from '../../runtime/core/messages.js';
import { decodeDatagram } from '../../runtime/wire/index.js';
import { Scenario } from './harness.js';

// Replays of old datagrams (from the network duplicating them, or from anyone re-sending what
// they captured) must never make a node go back to an older value or an older life. These run
// the bare protocol: it is the core's own version and generation rules that are under test
// (with security, the replay window refuses the copies before the core sees them:
// test/security/receive-fuzz.test.ts).

function capture(s: Scenario, from: string): Uint8Array[] {
  const seen: Uint8Array[] = [];
  const net = s.fleet.network;
  const send = net.send.bind(net);
  net.send = (now, src, to, bytes) => {
    if (src === `sim:${from}`) seen.push(bytes);
    return send(now, src, to, bytes);
  };
  return seen;
}

describe('stale and replayed versions', () => {
  it('replaying every old datagram of an owner, shuffled, changes nothing anywhere (duplication on, 10% loss)', () => {
    const s = new Scenario({ nodes: 16, seed: 5000, loss: 0.1, duplicate: 0.2, insecure: true });
    const captured = capture(s, 'n001');
    s.fleet.start();
    s.within(2_000, 'join', () => s.allAlive());
    for (let v = 1; v <= 10; v++) {
      s.fleet.set('n001', 'setpoint', v);
      s.run(50);
    }
    s.fleet.del('n001', 'setpoint');
    s.fleet.set('n001', 'mode', 'eco');
    s.within(2_000, 'latest state everywhere', () => s.allSee('n001', 'mode', 'eco') && s.allSee('n001', 'setpoint', undefined));
    const deltas = captured.filter((d) => decodeDatagram(d).messages.some((m) => m.type === MsgType.Delta));
    expect(deltas.length).toBeGreaterThan(10);

    // Replay them all, in a scrambled order, to the whole group.
    const order = deltas.map((d, i) => ({ d, k: (i * 7919) % deltas.length })).sort((a, b) => a.k - b.k);
    for (const { d } of order) s.fleet.network.send(s.now, 'sim:n001', MULTICAST, d);
    s.run(1_000);
    expect(s.allSee('n001', 'setpoint', undefined)).toBe(true);
    expect(s.allSee('n001', 'mode', 'eco')).toBe(true);
    s.assertInvariants(); // includes: no observer's version of any key ever went backwards
  });

  it("a restarted node's previous life cannot come back through replayed datagrams", () => {
    const s = new Scenario({ nodes: 12, seed: 5001, loss: 0.1, insecure: true });
    const captured = capture(s, 'n002');
    s.fleet.start();
    s.within(2_000, 'join', () => s.allAlive());
    s.fleet.set('n002', 'firmware', 'v1');
    s.within(1_000, 'v1 everywhere', () => s.allSee('n002', 'firmware', 'v1'));
    const oldLife = [...captured];

    s.mayDie.add('n002');
    s.fleet.crash('n002');
    s.run(3_000);
    s.fleet.restart('n002');
    s.fleet.set('n002', 'firmware', 'v2');
    s.within(2_000, 'new life everywhere', () => s.allAlive() && s.allSee('n002', 'firmware', 'v2'));

    for (const d of oldLife) s.fleet.network.send(s.now, 'sim:n002', MULTICAST, d);
    s.run(2_000);
    for (const id of s.fleet.ids.filter((x) => x !== 'n002')) {
      const node = s.fleet.node(id);
      expect(node.member('n002')?.gen).toBe(2);
      expect(node.get('n002', 'firmware', s.now)).toBe('v2');
      expect(node.stats.get('stale-generation')).toBeGreaterThan(0);
    }
    s.assertInvariants();
  });
});
