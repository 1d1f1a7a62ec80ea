// Work one device holding the fleet key can ask of every other device: signature checks and
// new identities. Each is budgeted per source address and overall, and counted when refused.
import { describe, expect, it } from 'vitest';
import { MsgType, type Delta, type Heartbeat, type KvEntry, type Message, type NodeRef, type Passport } from '../../runtime/core/messages.js';
import { signCertificate } from '../../runtime/trust/certificate.js';
import { generateSigningKey, type SigningKey } from '../../runtime/trust/ed25519.js';
import { Gatekeeper, type GateOptions } from '../../runtime/trust/gatekeeper.js';
import { signKv, signPassport } from '../../runtime/trust/records.js';

const me: NodeRef = { id: 'me', gen: 10 };
const meKey = generateSigningKey();
const keys: SigningKey[] = Array.from({ length: 20 }, () => generateSigningKey());

function gate(extra: Partial<GateOptions> = {}): { g: Gatekeeper; tick: (ms: number) => void } {
  let now = 0;
  const g = new Gatekeeper({ self: me, key: meKey, held: { version: () => undefined, max: () => 0 }, isMember: () => false, clock: () => now, ...extra });
  return { g, tick: (ms) => (now += ms) };
}

const hb = (from: NodeRef): Heartbeat => ({ type: MsgType.Heartbeat, from, inc: 0, seq: 1, intervalMs: 250, kvMax: 0, view: 0 });
const passport = (i: number, ref: NodeRef, cert: Uint8Array | null = null): Passport => signPassport(keys[i % keys.length]!, ref, 0, false, cert);
/** A passport whose signature is garbage: checking it costs a full verification. */
const badPassport = (i: number): Passport => ({ ...template, id: `bad-${i}`, sig: new Uint8Array(64).fill(i % 251) });
const template = passport(0, { id: 'x', gen: 1 });

function admit(g: Gatekeeper, from: string, msgs: Message[]): Message[] {
  return g.admit(msgs, new Set(), undefined, { addr: from });
}

describe('verification budget: passport floods cost a bounded number of signature checks', () => {
  it('bad passports from one source: past 200 checks in a burst the datagrams are dropped and counted, not checked', () => {
    const { g, tick } = gate();
    // 1,400 datagrams in one second, four bad passports each.
    for (let i = 0; i < 1400; i++) {
      admit(g, '10.0.0.66:7478', [badPassport(4 * i), badPassport(4 * i + 1), badPassport(4 * i + 2), badPassport(4 * i + 3)]);
      if (i % 140 === 0) tick(100);
    }
    const refused = Object.fromEntries(g.refused);
    // Checks made: the burst and one second of refill, whatever the flood.
    expect(refused['bad-signature']).toBeLessThanOrEqual(200 + 100 + 4);
    expect(refused['verify-budget']).toBeGreaterThan(1000);
    expect(g.verifyBudgetExhausted.source).toBeGreaterThan(1000);
    // Another device's passport, from its own address, is still checked and admitted.
    const real: NodeRef = { id: 'real', gen: 3 };
    expect(admit(g, '10.0.0.7:7478', [passport(1, real), hb(real)])).toEqual([hb(real)]);
  });

  it('the overall budget bounds the checks when the flood comes from many sources', () => {
    const { g } = gate();
    for (let i = 0; i < 3000; i++) admit(g, `10.0.${i % 50}.1:7478`, [badPassport(i)]);
    expect(g.refused.get('bad-signature')).toBeLessThanOrEqual(1000);
    expect(g.verifyBudgetExhausted.total).toBe(2000);
  });

  it('key/value signatures are budgeted too: a delta past the budget is refused whole, unchecked', () => {
    const { g } = gate({ verifyPerSource: { perS: 0, burst: 5 } });
    const owner: NodeRef = { id: 'owner', gen: 1 };
    admit(g, 'a', [passport(2, owner)]);
    const entry = (version: number): KvEntry => {
      const e = { key: `k${version}`, version, value: version, ttlMs: 0 };
      return { ...e, sig: signKv(keys[2]!, owner, e) };
    };
    const delta = (from: number, n: number): Delta => ({
      type: MsgType.Delta, from: owner, owner, fromV: from, toV: from + n, reset: false,
      entries: Array.from({ length: n }, (_, i) => entry(from + i + 1)),
    });
    expect(admit(g, 'a', [delta(0, 3)])).toHaveLength(1);
    expect(admit(g, 'a', [delta(3, 3)])).toEqual([]);
    expect(g.refused.get('verify-budget')).toBe(1);
  });
});

describe('new identities: capped per source address and in total, never refusing a certified device', () => {
  it('4,096 invented identities from one address take at most the burst; a new real device is still admitted', () => {
    const { g, tick } = gate();
    for (let i = 0; i < 4096; i++) admit(g, '10.0.0.66:7478', [passport(i, { id: `sybil-${i}`, gen: 1 })]);
    expect(g.identities).toBe(128);
    tick(60_000);
    for (let i = 0; i < 4096; i++) admit(g, '10.0.0.66:7478', [passport(i, { id: `sybil-b-${i}`, gen: 1 })]);
    expect(g.identities).toBe(128 + 64);
    const real: NodeRef = { id: 'new-real-device', gen: 1 };
    expect(admit(g, '10.0.0.8:7478', [passport(3, real), hb(real)])).toEqual([hb(real)]);
    expect(g.refused.get('too-many-identities')).toBeUndefined();
    expect(g.refused.get('new-identity-rate')).toBe(2 * 4096 - 128 - 64);
    expect(g.lastIdentityRefusal).toEqual({ reason: 'new-identity-rate', id: 'sybil-b-4095', source: '10.0.0.66:7478' });
  });

  it('the fleet cap: without an admin, a full table of current members refuses a newcomer, visibly', () => {
    const { g } = gate({ maxIdentities: 50, isMember: () => true });
    for (let i = 0; i < 60; i++) admit(g, `10.0.1.${i}:7478`, [passport(i, { id: `dev-${i}`, gen: 1 })]);
    expect(g.identities).toBe(50);
    expect(g.refused.get('too-many-identities')).toBe(10);
    expect(g.lastIdentityRefusal).toEqual({ reason: 'too-many-identities', id: 'dev-59', source: '10.0.1.59:7478' });
  });

  it('a table full of identities invented behind one address makes room for a real device from its own address', () => {
    let present = new Set<string>();
    const { g } = gate({ maxIdentities: 50, isMember: (id) => present.has(id) });
    for (let i = 0; i < 50; i++) admit(g, '10.0.0.66:7478', [passport(i, { id: `sybil-${i}`, gen: 1 })]);
    present = new Set(Array.from({ length: 50 }, (_, i) => `sybil-${i}`));
    expect(g.identities).toBe(50);
    // The inventor cannot push further in; a real device can.
    admit(g, '10.0.0.66:7478', [passport(60, { id: 'sybil-60', gen: 1 })]);
    expect(g.identity('sybil-60')).toBeUndefined();
    const real: NodeRef = { id: 'new-real-device', gen: 1 };
    expect(admit(g, '10.0.0.9:7478', [passport(4, real), hb(real)])).toEqual([hb(real)]);
    expect(g.identities).toBe(50);
    expect(g.refused.get('too-many-identities')).toBe(1);
  });

  it('with an admin, a passport with a valid certificate is never refused a place, from any address', () => {
    const admin = generateSigningKey();
    const { g } = gate({ maxIdentities: 10, isMember: () => true, adminPublicKey: admin.publicKey });
    for (let i = 0; i < 20; i++) {
      const id = `cert-${i}`;
      const cert = signCertificate(id, keys[i]!.publicKey, admin.secretKey).signature;
      admit(g, 'one-relay:7478', [signPassport(keys[i]!, { id, gen: 1 }, 0, false, cert)]);
    }
    expect(g.identities).toBe(20);
    expect(g.refused.size).toBe(0);
  });
});
