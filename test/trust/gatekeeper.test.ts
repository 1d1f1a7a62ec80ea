// What a device that holds the fleet key (an insider, or a stolen device before revocation) can
// and cannot make others believe about a third device.
import { describe, expect, it } from 'vitest';
import { MsgType, type Delta, type Digest, type Heartbeat, type KvEntry, type Leave, type Message, type NodeRef, type Passport, type Suspect } from '../../runtime/core/messages.js';
import { signCertificate } from '../../runtime/trust/certificate.js';
import { generateSigningKey, type SigningKey } from '../../runtime/trust/ed25519.js';
import { Gatekeeper, type GateOptions } from '../../runtime/trust/gatekeeper.js';
import { signAccusation, signKv, signPassport } from '../../runtime/trust/records.js';

const me: NodeRef = { id: 'me', gen: 10 };
const x: NodeRef = { id: 'victim', gen: 100 };
const bad: NodeRef = { id: 'insider', gen: 50 };
const keys = { me: generateSigningKey(), victim: generateSigningKey(), insider: generateSigningKey() };

function gate(extra: Partial<GateOptions> = {}, held = new Map<string, number>()): Gatekeeper {
  return new Gatekeeper({
    self: me,
    key: keys.me,
    held: { version: (o, k) => held.get(`${o.id}/${k}`), max: (o) => Math.max(0, ...[...held].filter(([k]) => k.startsWith(`${o.id}/`)).map(([, v]) => v)) },
    isMember: () => false,
    ...extra,
  });
}

const hb = (from: NodeRef, inc = 0): Heartbeat => ({ type: MsgType.Heartbeat, from, inc, seq: 5, intervalMs: 1000, kvMax: 0, view: 0 });
const passport = (k: SigningKey, ref: NodeRef, inc = 0, left = false, cert: Uint8Array | null = null): Passport => signPassport(k, ref, inc, left, cert);

function admit(g: Gatekeeper, msgs: Message[]): { out: Message[]; ask: string[] } {
  const ask = new Set<string>();
  const out = g.admit(msgs, ask);
  return { out, ask: [...ask] };
}

describe('the gatekeeper: claims about a device count only if the device signed them', () => {
  it('a member is admitted once its passport is known; before that it is asked about, and its messages wait', () => {
    const g = gate();
    expect(admit(g, [hb(x)])).toEqual({ out: [], ask: ['victim'] });
    expect(admit(g, [passport(keys.victim, x), hb(x)]).out.map((m) => m.type)).toEqual([MsgType.Heartbeat]);
    expect(admit(g, [hb(x)]).out).toHaveLength(1);
    expect(Object.fromEntries(g.refused)).toEqual({ 'unknown-member': 1 });
  });

  it('an insider cannot restart, refute for, or declare "left" a device it does not hold the key of', () => {
    const g = gate();
    admit(g, [passport(keys.victim, x), passport(keys.insider, bad)]);
    // A later generation or incarnation, in a heartbeat or a digest, needs the victim's passport.
    expect(admit(g, [hb({ ...x, gen: x.gen + 1 })])).toEqual({ out: [], ask: ['victim'] });
    // A sign of life at an unproven incarnation counts as life, at the proven incarnation.
    expect(admit(g, [hb(x, 3)]).out).toEqual([hb(x, 0)]);
    const leave: Leave = { type: MsgType.Leave, from: x, inc: 0 };
    expect(admit(g, [leave]).out).toEqual([]);
    // Signing a passport for the victim's id with its own key is an identity conflict.
    expect(admit(g, [passport(keys.insider, x, 0, true), leave]).out).toEqual([]);
    const digest: Digest = {
      type: MsgType.Digest,
      from: bad,
      lo: 'a',
      hi: 'z',
      reply: false,
      entries: [
        { id: 'victim', gen: x.gen, inc: 0, status: 'left', hb: 9, kvMax: 0, addr: 'a' },
        { id: 'victim', gen: x.gen + 1, inc: 0, status: 'alive', hb: 1, kvMax: 0, addr: 'a' },
        { id: 'victim', gen: x.gen, inc: 7, status: 'alive', hb: 9, kvMax: 0, addr: 'a' },
        { id: 'spoofed-1', gen: 1, inc: 0, status: 'alive', hb: 1, kvMax: 0, addr: 'a' },
        { id: 'victim', gen: x.gen, inc: 0, status: 'alive', hb: 9, kvMax: 0, addr: 'a' },
      ],
    };
    const [d] = admit(g, [digest]).out as Digest[];
    expect(d!.entries).toEqual([{ ...digest.entries[2], inc: 0 }, digest.entries[4]]);
    expect(Object.fromEntries(g.refused)).toMatchObject({ 'unproven-claim': 7, 'identity-conflict': 1, 'unknown-member': 1 });
    // The victim's own signed goodbye is believed, from whoever relays it.
    expect(admit(g, [passport(keys.victim, x, 0, true), leave]).out).toEqual([leave]);
  });

  it('key/values: altered or unsigned entries are refused whole; an inflated watermark is clamped; entries already held are not checked again', () => {
    const held = new Map<string, number>();
    const g = gate({}, held);
    admit(g, [passport(keys.victim, x)]);
    const entry = (version: number, value: string): KvEntry => {
      const e = { key: 'temp', version, value, ttlMs: 0 };
      return { ...e, sig: signKv(keys.victim, x, e) };
    };
    const delta = (entries: KvEntry[], toV: number, fromV = 0): Delta => ({ type: MsgType.Delta, from: bad, owner: x, fromV, toV, reset: false, entries });
    admit(g, [passport(keys.insider, bad)]);
    const good = delta([entry(1, '21.5')], 1);
    expect(admit(g, [good]).out).toEqual([good]);
    expect(admit(g, [delta([{ ...entry(1, '21.5'), value: '99.9' }], 1)]).out).toEqual([]);
    const { sig: _sig, ...unsigned } = entry(2, '21.6');
    expect(admit(g, [delta([unsigned], 2, 1)]).out).toEqual([]);
    // "Everything up to version 1,000,000" would freeze the victim's state wherever believed.
    const [clamped] = admit(g, [delta([entry(2, '21.6')], 1_000_000, 1)]).out as Delta[];
    expect(clamped!.toV).toBe(2);
    // Held at version 5: an old entry is passed to the core (which ignores it) without a check.
    held.set('victim/temp', 5);
    const stale = delta([{ ...entry(3, 'x'), sig: new Uint8Array(64) }], 3, 2);
    expect(admit(g, [stale]).out).toEqual([stale]);
    expect(Object.fromEntries(g.refused)).toMatchObject({ 'bad-signature': 1, unsigned: 1, 'clamped-delta': 1 });
  });

  it('accusations carry the accuser signature: an insider cannot speak as a second accuser', () => {
    const g = gate();
    const y: NodeRef = { id: 'honest', gen: 7 };
    const ky = generateSigningKey();
    admit(g, [passport(keys.victim, x), passport(keys.insider, bad), passport(ky, y)]);
    const asHonest: Suspect = { type: MsgType.Suspect, from: y, target: x, inc: 0 };
    expect(admit(g, [{ ...asHonest, sig: signAccusation(keys.insider, asHonest) }]).out).toEqual([]);
    expect(admit(g, [asHonest]).out).toEqual([]);
    const genuine = { ...asHonest, sig: signAccusation(ky, asHonest) };
    expect(admit(g, [genuine]).out).toEqual([genuine]);
    const own: Suspect = { type: MsgType.Suspect, from: bad, target: x, inc: 0 };
    expect(admit(g, [{ ...own, sig: signAccusation(keys.insider, own) }]).out).toHaveLength(1);
  });

  it('accusations the core would ignore pass unchecked, and checks are capped per second: a flood delays verdicts, never makes one', () => {
    let now = 0;
    const y: NodeRef = { id: 'honest', gen: 7 };
    const ky = generateSigningKey();
    let news = true;
    const g = gate({ clock: () => now, accusationsPerSecond: 3, accusationIsNews: () => news });
    admit(g, [passport(keys.victim, x), passport(ky, y)]);
    const a: Suspect = { type: MsgType.Suspect, from: y, target: x, inc: 0 };
    const forged = { ...a, sig: new Uint8Array(64) };
    const genuine = { ...a, sig: signAccusation(ky, a) };
    news = false;
    expect(admit(g, [forged]).out).toEqual([forged]); // ignored by the core anyway
    news = true;
    expect(admit(g, [forged, forged, genuine, genuine]).out).toEqual([genuine]);
    expect(Object.fromEntries(g.refused)).toMatchObject({ 'bad-signature': 2, 'accusation-overload': 1 });
    now += 1000;
    expect(admit(g, [genuine]).out).toEqual([genuine]);
  });

  it('spoofed identities cannot grow memory: the identity table is capped, evicting members the core has forgotten first', () => {
    const g = gate({ maxIdentities: 100 });
    for (let i = 0; i < 2000; i++) admit(g, [passport(generateSigningKeyCheap(i), { id: `sybil-${i}`, gen: 1 })]);
    expect(g.identities).toBe(100);
  });

  it('with a fleet admin: no certificate, or one from another admin, is refused; a revoked key is refused and forgotten', () => {
    const admin = generateSigningKey();
    const rogue = generateSigningKey();
    const revoked = new Set<string>();
    const g = gate({ adminPublicKey: admin.publicKey, isRevoked: (k) => revoked.has(Buffer.from(k).toString('hex')) });
    expect(admit(g, [passport(keys.victim, x), hb(x)]).out).toEqual([]);
    const forged = signCertificate(x.id, keys.victim.publicKey, rogue.secretKey).signature;
    expect(admit(g, [passport(keys.victim, x, 0, false, forged), hb(x)]).out).toEqual([]);
    const cert = signCertificate(x.id, keys.victim.publicKey, admin.secretKey).signature;
    expect(admit(g, [passport(keys.victim, x, 0, false, cert), hb(x)]).out).toHaveLength(1);
    // A certificate binds the id: another id with the same key and certificate is refused.
    expect(admit(g, [passport(keys.victim, { id: 'other', gen: 1 }, 0, false, cert)]).out).toEqual([]);
    expect(g.identity('other')).toBeUndefined();
    revoked.add(Buffer.from(keys.victim.publicKey).toString('hex'));
    expect(g.revoke(keys.victim.publicKey)).toEqual(['victim']);
    expect(admit(g, [passport(keys.victim, { ...x, gen: x.gen + 1 }, 0, false, cert), hb({ ...x, gen: x.gen + 1 })]).out).toEqual([]);
    expect(Object.fromEntries(g.refused)).toMatchObject({ 'no-certificate': 1, 'bad-certificate': 2, revoked: 1 });
  });

  it('signs its own passport once per incarnation, and answers WhoIs with what it holds', () => {
    const g = gate();
    const p0 = g.ownPassport(0, false);
    expect(g.ownPassport(0, false)).toBe(p0);
    expect(g.ownPassport(1, false)).not.toBe(p0);
    admit(g, [passport(keys.victim, x)]);
    expect(g.passports(['victim', 'me', 'nobody'], 1, false).map((p) => p.id)).toEqual(['victim', 'me']);
  });

  it('a WhoIs is admitted only from a member known by passport: it names its datagram\'s sender, and its answer is larger than the question', () => {
    const g = gate();
    const q: Message = { type: MsgType.WhoIs, from: x, ids: ['me'] };
    expect(admit(g, [q])).toEqual({ out: [], ask: ['victim'] });
    expect(admit(g, [passport(keys.victim, x), q]).out).toEqual([q]);
  });
});

// Ed25519 key generation is the slow part of the Sybil test; any distinct keys will do.
const cheapKeys: SigningKey[] = [];
function generateSigningKeyCheap(i: number): SigningKey {
  if (cheapKeys.length < 50) cheapKeys.push(generateSigningKey());
  return cheapKeys[i % cheapKeys.length]!;
}
