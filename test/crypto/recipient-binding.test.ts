// A sealed datagram names its recipient inside the seal. These tests pin what that buys against
// an outsider who captured one: it cannot be replayed to another device, a group datagram cannot
// come back through a device's unicast port, and a datagram that could have been redirected
// never moves its sender's address.
import { describe, expect, it } from 'vitest';
import { MsgType, type Heartbeat, type Message, type NodeRef } from '../../runtime/core/messages.js';
import { MULTICAST } from '../../runtime/core/effects.js';
import { FleetChannel } from '../../runtime/crypto/fleet-channel.js';
import { Keyring } from '../../runtime/crypto/keyring.js';
import { senderTag } from '../../runtime/crypto/seal.js';
import { assembleNode } from '../../runtime/host/assembly.js';
import { RealTimeScheduler } from '../../runtime/host/scheduler.js';
import { profiles } from '../../runtime/core/profiles.js';
import { Prng } from '../../runtime/sim/prng.js';
import { generateSigningKey } from '../../runtime/trust/ed25519.js';
import { signPassport } from '../../runtime/trust/records.js';
import { decodeDatagram, encodeDatagram } from '../../runtime/wire/index.js';
import { readRecipient, recipientMark } from '../../runtime/wire/recipient.js';
import { newCounters } from '../../runtime/net/transport.js';

const fleetKey = new Uint8Array(32).fill(9);
const ring = (): Keyring => {
  const r = new Keyring(86_400_000, () => 1_000_000);
  r.use(r.install(fleetKey));
  return r;
};
const A: NodeRef = { id: 'pi-a', gen: 100 };
const hb = (from: NodeRef, seq: number): Heartbeat => ({ type: MsgType.Heartbeat, from, inc: 0, seq, intervalMs: 250, kvMax: 0, view: 0 });

describe('the recipient mark', () => {
  it('names a device by its tag, the group, or nobody known, and decoding skips it', () => {
    expect(readRecipient(encodeDatagram([hb(A, 1)], 1200, recipientMark({ kind: 'member', tag: senderTag('pi-b') })))).toEqual({ kind: 'member', tag: senderTag('pi-b') });
    expect(readRecipient(encodeDatagram([hb(A, 1)], 1200, recipientMark({ kind: 'group' })))).toEqual({ kind: 'group' });
    expect(readRecipient(encodeDatagram([hb(A, 1)], 1200, recipientMark({ kind: 'unaddressed' })))).toEqual({ kind: 'unaddressed' });
    expect(readRecipient(encodeDatagram([hb(A, 1)]))).toBeUndefined();
    expect(readRecipient(Uint8Array.of(1, 0x82, 23, 5))).toBe('invalid');
    const marked = decodeDatagram(encodeDatagram([hb(A, 1)], 1200, recipientMark({ kind: 'member', tag: 2 ** 48 - 1 })));
    expect(marked).toEqual({ messages: [hb(A, 1)], rejected: [] });
  });

  it('a receiver that predates the mark skips it as an unknown type and keeps the messages', () => {
    // What a wire-version-1 decoder without the mark makes of it: one unknown item, then the rest.
    const bytes = encodeDatagram([hb(A, 1)], 1200, recipientMark({ kind: 'group' }));
    const asOld = decodeDatagram(Uint8Array.of(1, 0x82, 22, 0, ...bytes.subarray(4)));
    expect(asOld.messages).toEqual([hb(A, 1)]);
    expect(asOld.rejected.map((r) => r.reason)).toEqual(['unknown-type']);
  });
});

describe('a channel checks the recipient against itself and the socket', () => {
  const a = (): FleetChannel => new FleetChannel(ring(), A.id, A.gen);
  const rx = (id: string): FleetChannel => new FleetChannel(ring(), id, 1);

  it('a datagram sealed for one device is dropped by another as wrong-recipient, and kept by its recipient only through its unicast port', () => {
    const frame = a().seal(encodeDatagram([hb(A, 1)], 1200, a().mark('pi-b')));
    const c = rx('pi-c');
    expect(c.addressing(c.open(frame)!, false)).toBeUndefined();
    expect(c.dropped.get('wrong-recipient')).toBe(1);
    const b = rx('pi-b');
    expect(b.addressing(b.open(frame)!, false)).toEqual({ how: 'self', sourceIsAddress: true });
    expect(b.addressing(b.open(frame)!, true)).toBeUndefined();
    expect(b.dropped.get('wrong-recipient')).toBe(1);
  });

  it('a group datagram is kept only through the group port, and moves an address only while nothing later from its sender arrived', () => {
    const sender = a();
    const group = (seq: number): Uint8Array => sender.seal(encodeDatagram([hb(A, seq)], 1200, sender.mark('group')));
    const [g1, g2, g3, g4] = [group(1), group(2), group(3), group(4)];
    const c = rx('pi-c');
    for (const g of [g1, g3]) {
      const o = c.open(g)!;
      expect(c.addressing(o, true)).toEqual({ how: 'group', sourceIsAddress: true });
      expect(c.admit(o, A)).toBe(true);
    }
    // g2 was lost here and comes later (a replay from anywhere, or just late): kept, but its source says nothing.
    expect(c.addressing(c.open(g2)!, true)).toEqual({ how: 'group', sourceIsAddress: false });
    // Through the unicast port, a group datagram was redirected by someone.
    expect(c.addressing(c.open(g4)!, false)).toBeUndefined();
    expect(c.dropped.get('wrong-recipient')).toBe(1);
    expect(c.addressing(c.open(g4)!, true)).toEqual({ how: 'group', sourceIsAddress: true });
  });

  it('a datagram for nobody known (a seed request) is kept only as unicast and never moves an address; one without a mark is believed as before; a malformed mark is dropped', () => {
    const sender = a();
    const c = rx('pi-c');
    const seedRequest = sender.seal(encodeDatagram([hb(A, 1)], 1200, sender.mark(undefined)));
    expect(c.addressing(c.open(seedRequest)!, false)).toEqual({ how: 'unaddressed', sourceIsAddress: false });
    expect(c.addressing(c.open(seedRequest)!, true)).toBeUndefined();
    const old = sender.seal(encodeDatagram([hb(A, 2)]));
    expect(c.addressing(c.open(old)!, false)).toEqual({ how: 'unmarked', sourceIsAddress: true });
    const bad = sender.seal(Uint8Array.of(1, 0x82, 23, 7, ...encodeDatagram([hb(A, 3)]).subarray(1)));
    expect(c.addressing(c.open(bad)!, false)).toBeUndefined();
    expect(c.dropped.get('wrong-recipient')).toBe(2);
  });
});

describe('a host never moves an address on a redirected datagram', () => {
  /** A receiving device C, fully assembled (core, gatekeeper, channel), and what it sends. */
  function deviceC() {
    const sent: { to: string; bytes: Uint8Array }[] = [];
    const transport = { localAddress: '10.0.0.3:7478', multicastReady: true, counters: newCounters(), send: (to: string, bytes: Uint8Array) => sent.push({ to, bytes }), listen: () => {}, close: async () => {} };
    const c = assembleNode({
      id: 'pi-c', gen: 1, profile: profiles.lan, transport, clock: () => 0, scheduler: new RealTimeScheduler(() => 0), rng: new Prng(3), multicast: true,
      security: { keyring: ring(), deviceKey: generateSigningKey() },
    });
    c.host.start();
    return { ...c, sent };
  }

  it("A's datagram for B, replayed to C from elsewhere, is counted and leaves A's address; C's own datagrams to A are sealed for A", () => {
    const c = deviceC();
    const keyA = generateSigningKey();
    const chA = new FleetChannel(ring(), A.id, A.gen);
    const passport = signPassport(keyA, A, 0, false, null);
    const seal = (msgs: Message[], to: string | 'group' | undefined): Uint8Array => chA.seal(encodeDatagram([passport, ...msgs], 1200 - 45, chA.mark(to)));
    const X = '10.0.0.1:7478';
    const spoofed = '10.0.0.66:7478';

    c.host.receive(seal([hb(A, 1)], 'group'), X, true);
    expect(c.node.addrOf(A.id)).toBe(X);

    // Captured on its way to B, sent to C from another address.
    c.host.receive(seal([{ type: MsgType.Ping, from: A, target: { id: 'pi-b', gen: 1 }, probe: 7 }], 'pi-b'), spoofed, false);
    expect(c.node.addrOf(A.id)).toBe(X);
    expect(c.host.refusals()['wrong-recipient']).toBe(1);

    // A group datagram C lost, replayed to C's group port after a later one from A arrived: kept, address unmoved.
    const lost = seal([hb(A, 2)], 'group');
    c.host.receive(seal([hb(A, 3)], 'group'), X, true);
    c.host.receive(lost, spoofed, true);
    expect(c.node.addrOf(A.id)).toBe(X);
    // And a group datagram through C's unicast port is refused.
    c.host.receive(seal([hb(A, 4)], 'group'), spoofed, false);
    expect(c.node.addrOf(A.id)).toBe(X);
    expect(c.host.refusals()['wrong-recipient']).toBe(2);
    // A request for nobody known, from elsewhere: answered there, but A stays where it is.
    c.host.receive(seal([{ type: MsgType.Ping, from: A, target: { id: 'pi-c', gen: 1 }, probe: 8 }], undefined), spoofed, false);
    expect(c.node.addrOf(A.id)).toBe(X);

    // A datagram sealed for C moves A's address: A really sent it to C from there.
    const moved = '10.0.0.9:7478';
    c.sent.length = 0;
    c.host.receive(seal([{ type: MsgType.Ping, from: A, target: { id: 'pi-c', gen: 1 }, probe: 9 }], 'pi-c'), moved, false);
    expect(c.node.addrOf(A.id)).toBe(moved);
    // C's Ack goes back sealed for A; its heartbeats go to the group sealed for the group.
    const ack = c.sent.find((s) => s.to === moved)!;
    const opened = chA.open(ack.bytes)!;
    expect(chA.addressing(opened, false)?.how).toBe('self');
    expect(decodeDatagram(opened.plain).messages.map((m) => m.type)).toContain(MsgType.Ack);
    c.host.stop();
    for (const s of c.sent.filter((x) => x.to === MULTICAST)) expect(readRecipient(chA.open(s.bytes)!.plain)).toEqual({ kind: 'group' });
  });
});
