// One device that holds the fleet key floods its own signed key/values: every other device
// holds a replica of them, so without a per-owner cap the flood grows every device's memory.
import { describe, expect, it } from 'vitest';
import { MsgType, type Delta, type KvEntry, type NodeRef } from '../../runtime/core/messages.js';
import { Node } from '../../runtime/core/node.js';
import { profiles } from '../../runtime/core/profiles.js';
import { generateSigningKey } from '../../runtime/trust/ed25519.js';
import { Gatekeeper } from '../../runtime/trust/gatekeeper.js';
import { signKv, signPassport } from '../../runtime/trust/records.js';
import { lcg, Recorder, roughSize } from '../core/recorder.js';

describe('per-owner caps against a flood of signed entries', () => {
  it('20,000 signed 900-byte entries from one insider: the replica holds at most 256 keys and 64 KiB, the rest is refused and counted', () => {
    let node: Node | undefined;
    const gate = new Gatekeeper({
      self: { id: 'me', gen: 1 },
      key: generateSigningKey(),
      held: { version: (o, k) => node?.heldVersion(o, k), max: (o) => node?.highestHeld(o) ?? 0 },
      isMember: (id) => node?.member(id) !== undefined,
    });
    node = new Node({ id: 'me', gen: 1, addr: 'sim:me', profile: profiles.lan, rng: lcg(5), size: roughSize, multicast: true, signer: gate.signer });
    const fx = new Recorder();
    node.start(0, fx);
    const insider: NodeRef = { id: 'insider', gen: 4 };
    const key = generateSigningKey();
    const value = 'v'.repeat(880);
    const receive = (msgs: Parameters<Gatekeeper['admit']>[0]): void => {
      const admitted = gate.admit(msgs, new Set(), undefined, { addr: 'sim:insider' });
      node!.receive(1, 'sim:insider', admitted, fx, false);
      fx.clear();
    };
    receive([signPassport(key, insider, 0, false, null), { type: MsgType.Heartbeat, from: insider, inc: 0, seq: 1, intervalMs: 250, kvMax: 0, view: 0 }]);
    for (let v = 1; v <= 20_000; v++) {
      const e: KvEntry = { key: `flood/${String(v).padStart(6, '0')}`, version: v, value, ttlMs: 0 };
      const d: Delta = { type: MsgType.Delta, from: insider, owner: insider, fromV: v - 1, toV: v, reset: false, entries: [{ ...e, sig: signKv(key, insider, e) }] };
      receive([d]);
    }
    const held = node.holdingOf('insider')!;
    expect(held.entries).toBeLessThanOrEqual(profiles.lan.ownerMaxKeys);
    expect(held.bytes).toBeLessThanOrEqual(profiles.lan.ownerMaxBytes);
    expect(held.entries).toBe(73);
    expect(node.ownerCapRefused).toBe(20_000 - 73);
  });
});
