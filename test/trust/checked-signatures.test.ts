// A remembered signature passes only for the exact statement and key it was checked with.
import { describe, expect, it } from 'vitest';
import { MsgType, type NodeRef, type Suspect } from '../../runtime/core/messages.js';
import { CheckedSignatures } from '../../runtime/trust/checked-signatures.js';
import { generateSigningKey, signBytes, verifyBytes } from '../../runtime/trust/ed25519.js';
import { ACCUSERS_PER_STATEMENT, Gatekeeper } from '../../runtime/trust/gatekeeper.js';
import { accusersPerSilence, profileByName, withOverrides } from '../../runtime/core/profiles.js';
import { signAccusation, signPassport, verifyAccusation } from '../../runtime/trust/records.js';

const owner = generateSigningKey();
const other = generateSigningKey();
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('signature checks with a memory', () => {
  it('checks a statement once; later copies pass from memory', () => {
    const c = new CheckedSignatures();
    const msg = bytes('sensor=21.5 v7');
    const sig = signBytes(msg, owner.secretKey);
    expect(c.verify(msg, sig, owner.publicKey)).toBe(true);
    expect(c.verify(Uint8Array.from(msg), Uint8Array.from(sig), Uint8Array.from(owner.publicKey))).toBe(true);
    expect({ checks: c.checks, remembered: c.remembered }).toEqual({ checks: 1, remembered: 1 });
  });

  it('a remembered signature does not vouch for other bytes or another key', () => {
    const c = new CheckedSignatures();
    const msg = bytes('sensor=21.5 v7');
    const sig = signBytes(msg, owner.secretKey);
    expect(c.verify(msg, sig, owner.publicKey)).toBe(true);
    expect(c.verify(bytes('sensor=99.9 v7'), sig, owner.publicKey)).toBe(false);
    expect(c.verify(msg, sig, other.publicKey)).toBe(false);
    expect(c.checks).toBe(3);
    expect(c.remembered).toBe(0);
  });

  it('a bad signature is never remembered: each copy is checked and refused', () => {
    const c = new CheckedSignatures();
    const msg = bytes('sensor=21.5 v7');
    const forged = signBytes(msg, other.secretKey);
    expect(c.verify(msg, forged, owner.publicKey)).toBe(false);
    expect(c.verify(msg, forged, owner.publicKey)).toBe(false);
    expect({ checks: c.checks, remembered: c.remembered, size: c.size }).toEqual({ checks: 2, remembered: 0, size: 0 });
  });

  it('is bounded: the oldest statement is forgotten first and checked again', () => {
    let computed = 0;
    const c = new CheckedSignatures((m, s, k) => (computed++, verifyBytes(m, s, k)), 2);
    const msgs = ['a', 'b', 'c'].map(bytes);
    const sigs = msgs.map((m) => signBytes(m, owner.secretKey));
    for (let i = 0; i < 3; i++) c.verify(msgs[i]!, sigs[i]!, owner.publicKey);
    expect(c.size).toBe(2);
    c.verify(msgs[2]!, sigs[2]!, owner.publicKey);
    expect(computed).toBe(3);
    c.verify(msgs[0]!, sigs[0]!, owner.publicKey);
    expect(computed).toBe(4);
  });
});

describe("the gatekeeper's own accusations", () => {
  const me: NodeRef = { id: 'me', gen: 10 };
  const gate = (): Gatekeeper => new Gatekeeper({ self: me, key: owner, held: { version: () => undefined, max: () => 0 }, isMember: () => false });

  it('are signed once per statement and every copy verifies', () => {
    const g = gate();
    const a: Suspect = { type: MsgType.Suspect, from: me, target: { id: 'x', gen: 3 }, inc: 2 };
    const s1 = g.signer.accusation(a);
    const s2 = g.signer.accusation({ ...a });
    expect(s2).toBe(s1);
    expect(verifyAccusation(owner.publicKey, { ...a, sig: s1 })).toBe(true);
    const later = g.signer.accusation({ ...a, inc: 3 });
    expect(later).not.toBe(s1);
    expect(verifyAccusation(owner.publicKey, { ...a, inc: 3, sig: later })).toBe(true);
    const dead = g.signer.accusation({ ...a, type: MsgType.Dead });
    expect(verifyAccusation(owner.publicKey, { ...a, type: MsgType.Dead, sig: dead })).toBe(true);
  });
});

describe('accusers per statement', () => {
  const me: NodeRef = { id: 'me', gen: 10 };
  const target: NodeRef = { id: 'target', gen: 4 };
  const accusers = Array.from({ length: 6 }, (_, i) => ({ ref: { id: `a${i}`, gen: 1 }, key: generateSigningKey() }));
  const targetKey = generateSigningKey();

  it('checks the first four accusers of one statement and drops everything after unchecked; a later incarnation is a new statement', () => {
    const g = new Gatekeeper({ self: me, key: owner, held: { version: () => undefined, max: () => 0 }, isMember: () => true, clock: () => 0 });
    g.admit([signPassport(targetKey, target, 0, false, null), ...accusers.map((a) => signPassport(a.key, a.ref, 0, false, null))], new Set());
    const before = g.signatureChecks.checks;
    const accuse = (i: number, inc: number): Suspect => {
      const a: Suspect = { type: MsgType.Suspect, from: accusers[i]!.ref, target, inc };
      return { ...a, sig: signAccusation(accusers[i]!.key, a) };
    };
    const out = g.admit(accusers.map((_, i) => accuse(i, 0)), new Set());
    expect(out.map((m) => (m as Suspect).from.id)).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(g.refused.get('accusation-surplus')).toBe(2);
    expect(g.signatureChecks.checks - before).toBe(4);
    // Once the statement has its four, copies from those accusers are surplus too.
    expect(g.admit([accuse(2, 0)], new Set())).toEqual([]);
    expect(g.refused.get('accusation-surplus')).toBe(3);
    expect(g.admit([accuse(5, 1)], new Set())).toHaveLength(1);
  });

  it('checks as many accusers as the profile makes speak up, when told', () => {
    const profile = withOverrides(profileByName('lan'), { suspicionConfirmations: 1 });
    expect(accusersPerSilence(profile)).toBe(2);
    // Four for both shipped profiles: each of the four hears the other three.
    expect([accusersPerSilence(profileByName('lan')), accusersPerSilence(profileByName('wifi')), ACCUSERS_PER_STATEMENT]).toEqual([4, 4, 4]);
    expect(() => new Gatekeeper({ self: me, key: owner, held: { version: () => undefined, max: () => 0 }, isMember: () => true, accusersPerStatement: 0 })).toThrow(/accusersPerStatement/);
    expect(() => new Gatekeeper({ self: me, key: owner, held: { version: () => undefined, max: () => 0 }, isMember: () => true, accusersPerStatement: Number.NaN })).toThrow(/accusersPerStatement/);
    const g = new Gatekeeper({ self: me, key: owner, held: { version: () => undefined, max: () => 0 }, isMember: () => true, clock: () => 0, accusersPerStatement: accusersPerSilence(profile) });
    g.admit([signPassport(targetKey, target, 0, false, null), ...accusers.map((a) => signPassport(a.key, a.ref, 0, false, null))], new Set());
    const out = g.admit(
      accusers.map((x): Suspect => {
        const a: Suspect = { type: MsgType.Suspect, from: x.ref, target, inc: 0 };
        return { ...a, sig: signAccusation(x.key, a) };
      }),
      new Set(),
    );
    expect(out.map((m) => (m as Suspect).from.id)).toEqual(['a0', 'a1']);
    expect(g.refused.get('accusation-surplus')).toBe(4);
  });

  it('a forged accusation takes no place from a genuine accuser', () => {
    const g = new Gatekeeper({ self: me, key: owner, held: { version: () => undefined, max: () => 0 }, isMember: () => true, clock: () => 0 });
    g.admit([signPassport(targetKey, target, 0, false, null), ...accusers.map((a) => signPassport(a.key, a.ref, 0, false, null))], new Set());
    const forged = accusers.slice(0, 4).map((a): Suspect => ({ type: MsgType.Suspect, from: a.ref, target, inc: 0, sig: new Uint8Array(64) }));
    expect(g.admit(forged, new Set())).toEqual([]);
    const a: Suspect = { type: MsgType.Suspect, from: accusers[5]!.ref, target, inc: 0 };
    expect(g.admit([{ ...a, sig: signAccusation(accusers[5]!.key, a) }], new Set())).toHaveLength(1);
  });
});
