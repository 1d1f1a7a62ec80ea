// A member holding the fleet key writes whatever it likes into a nonce. These tests pin that a
// forged replay header cannot make a receiver refuse another device's real datagrams: the
// window moves only for a datagram whose header names the sender its admitted messages prove.
import { describe, expect, it } from 'vitest';
import type { Effects } from '../../runtime/core/effects.js';
import { MsgType, type Heartbeat, type Message, type NodeRef } from '../../runtime/core/messages.js';
import type { Node } from '../../runtime/core/node.js';
import { NodeHost } from '../../runtime/host/node-host.js';
import { RealTimeScheduler } from '../../runtime/host/scheduler.js';
import { FleetChannel } from '../../runtime/crypto/fleet-channel.js';
import { keyId, Keyring } from '../../runtime/crypto/keyring.js';
import { seal, senderTag } from '../../runtime/crypto/seal.js';
import { generateSigningKey, type SigningKey } from '../../runtime/trust/ed25519.js';
import { Gatekeeper } from '../../runtime/trust/gatekeeper.js';
import { signPassport } from '../../runtime/trust/records.js';
import { encodeDatagram } from '../../runtime/wire/index.js';

const fleetKey = new Uint8Array(32).fill(7);
const ring = (): Keyring => {
  const r = new Keyring(86_400_000, () => 1_000_000);
  r.use(r.install(fleetKey));
  return r;
};
const victim: NodeRef = { id: 'pi-victim', gen: 100 };
const insider: NodeRef = { id: 'pi-insider', gen: 50 };
const keys = { rx: generateSigningKey(), victim: generateSigningKey(), insider: generateSigningKey() };
const hb = (from: NodeRef, seq: number, inc = 0): Heartbeat => ({ type: MsgType.Heartbeat, from, inc, seq, intervalMs: 250, kvMax: 0, view: 0 });

/** A receiving host with a gatekeeper and a fake core that records what reaches it. */
function receiver(): { host: NodeHost; channel: FleetChannel; delivered: Message[][] } {
  const delivered: Message[][] = [];
  const self = { id: 'pi-rx', gen: 1 };
  const node = {
    self,
    incarnation: 0,
    start: (_now: number, _fx: Effects) => {},
    receive: (_now: number, _from: string, msgs: Message[]) => delivered.push(msgs),
    timer: () => {},
    statusOf: () => 'alive',
  } as unknown as Node;
  const gate = new Gatekeeper({ self, key: keys.rx, held: { version: () => undefined, max: () => 0 }, isMember: () => true });
  const channel = new FleetChannel(ring(), self.id, self.gen);
  const host = new NodeHost({ node, clock: () => 0, scheduler: new RealTimeScheduler(() => 0), budget: 1200, channel, gate, transport: { send: () => {} } });
  host.start();
  return { host, channel, delivered };
}

/** A device sending honestly: its own header, its own messages. */
function device(ref: NodeRef, key: SigningKey): { channel: FleetChannel; send: (msgs: Message[], inc?: number) => Uint8Array } {
  const channel = new FleetChannel(ring(), ref.id, ref.gen);
  return { channel, send: (msgs, inc = 0) => channel.seal(encodeDatagram([signPassport(key, ref, inc, false, null), ...msgs])) };
}

/** What an insider seals: any header it likes over any content. */
const forge = (header: { sender: number; gen: number; seq: number }, msgs: Message[]): Uint8Array => seal(encodeDatagram(msgs), ring(), header);

const heartbeatsFrom = (delivered: Message[][], id: string): number[] =>
  delivered.flat().flatMap((m) => (m.type === MsgType.Heartbeat && m.from.id === id ? [m.seq] : []));

describe('replay windows are bound to the sender the messages prove', () => {
  it("a forged datagram with a victim's tag and generation 2^48-1 changes nothing about what is accepted from the victim afterwards", () => {
    const { host, channel, delivered } = receiver();
    const v = device(victim, keys.victim);
    const i = device(insider, keys.insider);
    host.receive(v.send([hb(victim, 1)]), '10.0.0.2:7478', true);
    host.receive(i.send([hb(insider, 1)]), '10.0.0.3:7478', true);
    const tag = senderTag(victim.id);
    const MAX = 2 ** 48 - 1;
    // The insider's own (proven) messages under the victim's tag: refused as a mismatch.
    host.receive(forge({ sender: tag, gen: MAX, seq: MAX }, [signPassport(keys.insider, insider, 0, false, null), hb(insider, 2)]), '10.0.0.3:7478', true);
    // Messages claiming to be the victim at that generation: the victim never signed it, so nothing is admitted.
    host.receive(forge({ sender: tag, gen: MAX, seq: MAX }, [hb({ ...victim, gen: MAX }, 2)]), '10.0.0.3:7478', true);
    // The victim's real generation under a forged generation in the header: a mismatch again.
    host.receive(forge({ sender: tag, gen: MAX, seq: 5 }, [hb(victim, 2)]), '10.0.0.3:7478', true);
    expect(host.refusals()['sender-mismatch']).toBe(2);
    for (let s = 2; s <= 5; s++) host.receive(v.send([hb(victim, s)]), '10.0.0.2:7478', true);
    expect(heartbeatsFrom(delivered, victim.id)).toEqual([1, 2, 3, 4, 5]);
    expect(channel.dropped.get('stale-generation') ?? 0).toBe(0);
    expect(channel.dropped.get('too-old') ?? 0).toBe(0);
  });

  it("a forged sequence far ahead in the victim's own life is undone by the victim's next signed incarnation", () => {
    // Heartbeats are not signed, so an insider can make one datagram that binds to the victim's
    // proven life with a sequence far ahead. The victim's real datagrams are then refused until
    // it refutes the suspicion that follows, with a passport only it can sign.
    const { host, delivered } = receiver();
    const v = device(victim, keys.victim);
    host.receive(v.send([hb(victim, 1)]), '10.0.0.2:7478', true);
    host.receive(forge({ sender: senderTag(victim.id), gen: victim.gen, seq: 2 ** 48 - 1 }, [hb(victim, 2)]), '10.0.0.3:7478', true);
    host.receive(v.send([hb(victim, 3)]), '10.0.0.2:7478', true);
    expect(heartbeatsFrom(delivered, victim.id)).toEqual([1, 2]);
    expect(host.refusals()['too-old']).toBe(1);
    // The refutation's datagram is itself refused, but the new passport in it resets the window.
    host.receive(v.send([hb(victim, 4, 1)], 1), '10.0.0.2:7478', true);
    host.receive(v.send([hb(victim, 5, 1)], 1), '10.0.0.2:7478', true);
    host.receive(v.send([hb(victim, 6, 1)], 1), '10.0.0.2:7478', true);
    expect(heartbeatsFrom(delivered, victim.id)).toEqual([1, 2, 5, 6]);
  });

  it('a forged header under a retired key, or carrying only a revoked device\'s messages, moves no window', () => {
    const retired = new Uint8Array(32).fill(9);
    const withRetired = (): Keyring => {
      const r = new Keyring(86_400_000, () => 1_000_000);
      r.use(r.install(retired));
      r.use(r.install(fleetKey));
      r.remove(keyId(retired));
      return r;
    };
    const delivered: Message[][] = [];
    const self = { id: 'pi-rx', gen: 1 };
    const node = { self, incarnation: 0, start: () => {}, receive: (_n: number, _f: string, msgs: Message[]) => delivered.push(msgs), timer: () => {}, statusOf: () => 'alive' } as unknown as Node;
    const revokedKey = generateSigningKey();
    const gate = new Gatekeeper({ self, key: keys.rx, held: { version: () => undefined, max: () => 0 }, isMember: () => true, isRevoked: (k) => Buffer.compare(k, revokedKey.publicKey) === 0 });
    const host = new NodeHost({ node, clock: () => 0, scheduler: new RealTimeScheduler(() => 0), budget: 1200, channel: new FleetChannel(withRetired(), self.id, self.gen), gate, transport: { send: () => {} } });
    host.start();
    const v = device(victim, keys.victim);
    host.receive(v.send([hb(victim, 1)]), '10.0.0.2:7478', true);
    const tag = senderTag(victim.id);
    const MAX = 2 ** 48 - 1;
    host.receive(seal(encodeDatagram([hb(victim, 2)]), withRetired(), { sender: tag, gen: victim.gen, seq: MAX }, undefined, keyId(retired)), '10.0.0.3:7478', true);
    const revoked: NodeRef = { id: 'pi-revoked', gen: 4 };
    host.receive(forge({ sender: tag, gen: victim.gen, seq: MAX }, [signPassport(revokedKey, revoked, 0, false, null), hb(revoked, 1)]), '10.0.0.3:7478', true);
    host.receive(v.send([hb(victim, 3)]), '10.0.0.2:7478', true);
    expect(heartbeatsFrom(delivered, victim.id)).toEqual([1, 3]);
    expect(host.refusals().revoked).toBeGreaterThan(0);
  });

  it('an honest datagram replayed is still refused once its sender is bound', () => {
    const { host, delivered } = receiver();
    const v = device(victim, keys.victim);
    const first = v.send([hb(victim, 1)]);
    host.receive(first, '10.0.0.2:7478', true);
    host.receive(first, '10.0.0.9:7478', true);
    expect(heartbeatsFrom(delivered, victim.id)).toEqual([1]);
    expect(host.refusals().replayed).toBe(1);
  });
});
