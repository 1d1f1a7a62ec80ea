// What assembleNode wires between the core and the gatekeeper.
import { describe, expect, it } from 'vitest';
import { MsgType, type NodeRef, type Suspect } from '../../runtime/core/messages.js';
import { profiles, withOverrides } from '../../runtime/core/profiles.js';
import { Keyring } from '../../runtime/crypto/keyring.js';
import { assembleNode } from '../../runtime/host/assembly.js';
import { RealTimeScheduler } from '../../runtime/host/scheduler.js';
import { newCounters } from '../../runtime/net/transport.js';
import { Prng } from '../../runtime/sim/prng.js';
import { generateSigningKey } from '../../runtime/trust/ed25519.js';
import { signAccusation, signPassport } from '../../runtime/trust/records.js';

function device(suspicionConfirmations: number) {
  const keyring = new Keyring(0, () => 0);
  keyring.use(keyring.install(new Uint8Array(32).fill(7)));
  const transport = { localAddress: '10.0.0.3:7478', multicastReady: true, counters: newCounters(), send: () => {}, listen: () => {}, close: async () => {} };
  const c = assembleNode({
    id: 'pi-c', gen: 1, profile: withOverrides(profiles.lan, { suspicionConfirmations }), transport, clock: () => 0, scheduler: new RealTimeScheduler(() => 0), rng: new Prng(3), multicast: true,
    security: { keyring, deviceKey: generateSigningKey() },
  });
  c.host.start();
  return c;
}

describe('assembleNode', () => {
  it("gives the gatekeeper the core profile's count of accusers per statement", () => {
    const target: NodeRef = { id: 'target', gen: 4 };
    const targetKey = generateSigningKey();
    const accusers = Array.from({ length: 6 }, (_, i) => ({ ref: { id: `a${i}`, gen: 1 }, key: generateSigningKey() }));
    const checked = (confirmations: number): number => {
      const { gate, node } = device(confirmations);
      // The core must hold them all, or no accusation is news to it and none is checked.
      const fx = { send: () => {}, setTimer: () => {}, emit: () => {} };
      for (const m of [target, ...accusers.map((a) => a.ref)]) node.receive(0, `10.0.1.${m.id.length}:7478`, [{ type: MsgType.Heartbeat, from: m, inc: 0, seq: 1, intervalMs: 250, kvMax: 0, view: 0 }], fx);
      gate!.admit([signPassport(targetKey, target, 0, false, null), ...accusers.map((a) => signPassport(a.key, a.ref, 0, false, null))], new Set());
      const suspects = accusers.map((x): Suspect => {
        const a: Suspect = { type: MsgType.Suspect, from: x.ref, target, inc: 0 };
        return { ...a, sig: signAccusation(x.key, a) };
      });
      return gate!.admit(suspects, new Set()).length;
    };
    expect(checked(3)).toBe(4);
    expect(checked(1)).toBe(2);
  });
});
