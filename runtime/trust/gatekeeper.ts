// The gatekeeper stands between the sealed channel and the protocol core. The fleet key says a
// datagram comes from some fleet member; the gatekeeper decides what that member may claim.
//
// The rule: a claim about a device's life is believed only if the device itself signed it.
// - Each device signs a passport per (generation, incarnation): "this is my key, this is my
//   life, I have (not) left". Passports are checked once and kept; anyone may forward them.
// - A message is admitted only if every member it names is known by passport and it claims
//   nothing newer about them than their passports prove: no generation (restart), incarnation
//   (refutation) or goodbye that the member did not sign. Unproven digest entries are
//   stripped; the sender is asked for the passports (WhoIs) and the claim counts next time.
// - Key/value entries carry their owner's signature, checked once per new version. A relay
//   may withhold entries but cannot alter or invent one; the watermark it claims (toV) is
//   clamped to versions the receiver has signed evidence for.
// - Accusations carry their accuser's signature, so one device cannot speak as several: the
//   core's "two independent sources" for a death means two devices.
// - With a fleet admin key, a passport also needs the admin's certificate for (id, key), and
//   revoked keys are refused: a stolen device is locked out without re-keying the fleet.
//
// What is not signed: liveness ticks (heartbeat counters, probe answers) and unicast
// addresses. A device holding the fleet key can make a dead device look alive for a while, or
// misdirect traffic; it cannot make a live one dead, left or restarted. See README "Threat model".
//
// Pure: no sockets, no timers. The host feeds it decoded messages and sends what it asks for.

import type { Dead, Delta, Digest, DigestEntry, KvEntry, Message, NodeId, NodeRef, Passport, Ping, Suspect } from '../core/messages.js';
import { MsgType } from '../core/messages.js';
import type { Signer } from '../core/node.js';
import { verifyCertificate } from './certificate.js';
import { signAccusation, signKv, signPassport, verifyAccusation, verifyKv, verifyPassport, type Verifier } from './records.js';
import { verifyBytes, type SigningKey } from './ed25519.js';

export type GateRefusal =
  | 'unknown-member'
  | 'unproven-claim'
  | 'bad-signature'
  | 'unsigned'
  | 'identity-conflict'
  | 'no-certificate'
  | 'bad-certificate'
  | 'revoked'
  | 'too-many-identities'
  | 'clamped-delta'
  | 'accusation-overload';

export interface GateOptions {
  readonly self: NodeRef;
  readonly key: SigningKey;
  /** The admin's signature over (id, public key), when the fleet has an admin. */
  readonly certificate?: Uint8Array | undefined;
  /** Set: every passport needs a certificate from this key. */
  readonly adminPublicKey?: Uint8Array | undefined;
  readonly isRevoked?: (publicKey: Uint8Array) => boolean;
  /** What the core already holds, so entries it would ignore are not verified again. */
  readonly held: {
    version(owner: NodeRef, key: string): number | undefined;
    max(owner: NodeRef): number;
  };
  /** Whether the core still tracks this member; identities of members it forgot are evicted first. */
  readonly isMember: (id: NodeId) => boolean;
  /**
   * Whether the core would act on this accusation (node.ts `accusationIsNews`). One the core
   * would ignore is passed on unchecked: checking every repeat of every accusation at every
   * node costs N verifications per accusation, which under a burst of suspicions fed itself.
   */
  readonly accusationIsNews?: (a: Suspect | Dead) => boolean;
  /** Monotonic ms, for the accusation budget. */
  readonly clock?: () => number;
  /** Accusation signatures checked per second at most (default 50, about 4 ms of CPU on x86). */
  readonly accusationsPerSecond?: number;
  readonly maxIdentities?: number;
  /** Checks a signature (default ed25519.ts `verifyBytes`); a simulator shares one memo of it across its nodes. */
  readonly verify?: Verifier;
}

interface Identity {
  readonly publicKey: Uint8Array;
  readonly passport: Passport;
}

/** Runs for every passport of every datagram: a plain loop beats a call into Buffer.compare for 32 bytes. */
function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Does `p` say more than `q`? A later life, a later incarnation, or the goodbye. */
function newer(p: Passport, q: Passport): boolean {
  if (p.gen !== q.gen) return p.gen > q.gen;
  if (p.inc !== q.inc) return p.inc > q.inc;
  return p.left && !q.left;
}

export class Gatekeeper {
  readonly refused = new Map<GateRefusal, number>();
  readonly #opts: GateOptions;
  readonly #ids = new Map<NodeId, Identity>();
  readonly #certOk = new Set<string>();
  readonly #max: number;
  readonly #verify: Verifier;
  #own: Passport | undefined;
  readonly signer: Signer;
  #budgetAt = -Infinity;
  #budget = 0;

  constructor(opts: GateOptions) {
    this.#opts = opts;
    this.#max = opts.maxIdentities ?? 4096;
    this.#verify = opts.verify ?? verifyBytes;
    this.signer = {
      kv: (owner: NodeRef, e: KvEntry) => signKv(opts.key, owner, e),
      accusation: (a: Suspect | Dead) => signAccusation(opts.key, a),
    };
  }

  /** This node's passport for its current incarnation (signed once per change). */
  ownPassport(inc: number, left: boolean): Passport {
    const o = this.#own;
    if (o && o.inc === inc && o.left === left) return o;
    this.#own = signPassport(this.#opts.key, this.#opts.self, inc, left, this.#opts.certificate ?? null);
    return this.#own;
  }

  get identities(): number {
    return this.#ids.size;
  }

  identity(id: NodeId): Passport | undefined {
    return this.#ids.get(id)?.passport;
  }

  /** Passports to answer a WhoIs with: the ones held, and our own. */
  passports(ids: readonly NodeId[], selfInc: number, selfLeft: boolean): Passport[] {
    const out: Passport[] = [];
    for (const id of ids) {
      if (id === this.#opts.self.id) out.push(this.ownPassport(selfInc, selfLeft));
      else {
        const p = this.#ids.get(id)?.passport;
        if (p) out.push(p);
      }
    }
    return out;
  }

  /**
   * Would this passport be admitted? For records that travel outside the protocol (keyring
   * offers): the same rules, and a newly seen identity is remembered.
   */
  vouch(p: Passport): boolean {
    if (p.id === this.#opts.self.id) return false;
    this.#learn(p);
    const cur = this.#ids.get(p.id);
    return cur !== undefined && sameKey(cur.publicKey, p.publicKey) && !this.#opts.isRevoked?.(p.publicKey);
  }

  /** A revocation took effect: forget every identity using `publicKey`. Returns their ids. */
  revoke(publicKey: Uint8Array): NodeId[] {
    const gone: NodeId[] = [];
    for (const [id, ident] of this.#ids) if (sameKey(ident.publicKey, publicKey)) gone.push(id);
    for (const id of gone) this.#ids.delete(id);
    return gone;
  }

  /**
   * The messages of one datagram that may reach the core, in order. Members named without
   * proof are added to `ask`; the host requests their passports from the datagram's sender.
   */
  admit(msgs: readonly Message[], ask: Set<NodeId>, answer?: (p: Ping) => void): Message[] {
    for (const m of msgs) if (m.type === MsgType.Passport) this.#learn(m);
    const out: Message[] = [];
    for (const m of msgs) {
      const ok = this.#admit(m, ask);
      if (ok) out.push(ok);
      // A probe of us from a member we cannot place yet (its passport is on the way) still
      // gets its answer, from the host: an Ack proves only that we are alive, and a prober
      // left unanswered would accuse us. The core does not learn the prober from it.
      else if (m.type === MsgType.Ping && m.target.id === this.#opts.self.id && m.target.gen === this.#opts.self.gen) answer?.(m);
    }
    return out;
  }

  #count(r: GateRefusal): undefined {
    this.refused.set(r, (this.refused.get(r) ?? 0) + 1);
    return undefined;
  }

  #learn(p: Passport): void {
    if (p.id === this.#opts.self.id) return;
    if (this.#opts.isRevoked?.(p.publicKey)) {
      this.#count('revoked');
      return;
    }
    const cur = this.#ids.get(p.id);
    const same = cur !== undefined && sameKey(cur.publicKey, p.publicKey);
    if (same && !newer(p, cur.passport)) return; // nothing new: no need to check it again
    if (cur && !same) {
      // Without an admin, the first key heard for an id keeps it (trust on first use). With
      // one, a re-provisioned device may take its id over with a certified key and a later life.
      if (!this.#opts.adminPublicKey || p.gen <= cur.passport.gen) {
        this.#count('identity-conflict');
        return;
      }
    }
    if (this.#opts.adminPublicKey && !this.#certified(p)) return;
    if (!verifyPassport(p, this.#verify)) {
      this.#count('bad-signature');
      return;
    }
    if (!cur && this.#ids.size >= this.#max && !this.#evict()) {
      this.#count('too-many-identities');
      return;
    }
    this.#ids.set(p.id, { publicKey: p.publicKey, passport: p });
  }

  #spendAccusationBudget(): boolean {
    const clock = this.#opts.clock;
    if (!clock) return true;
    const now = clock();
    if (now - this.#budgetAt >= 1000) {
      this.#budgetAt = now;
      this.#budget = this.#opts.accusationsPerSecond ?? 50;
    }
    return this.#budget-- > 0;
  }

  #certified(p: Passport): boolean {
    if (!p.cert) return this.#count('no-certificate') ?? false;
    const tag = `${p.id}\u0000${Buffer.from(p.publicKey).toString('base64')}\u0000${Buffer.from(p.cert).toString('base64')}`;
    if (this.#certOk.has(tag)) return true;
    if (!verifyCertificate({ id: p.id, publicKey: p.publicKey, signature: p.cert }, this.#opts.adminPublicKey!)) {
      return this.#count('bad-certificate') ?? false;
    }
    if (this.#certOk.size >= this.#max) this.#certOk.clear();
    this.#certOk.add(tag);
    return true;
  }

  /** Make room: drop an identity the core no longer tracks. */
  #evict(): boolean {
    for (const id of this.#ids.keys()) {
      if (!this.#opts.isMember(id)) {
        this.#ids.delete(id);
        return true;
      }
    }
    return false;
  }

  /**
   * Is `ref` (at incarnation `inc`, when given) proven by a passport? Older lives pass: the
   * core itself discards them. Unknown or unproven: ask for the passport.
   */
  #proven(ref: NodeRef, ask: Set<NodeId>, inc?: number): boolean {
    if (ref.id === this.#opts.self.id) return ref.gen <= this.#opts.self.gen;
    const p = this.#ids.get(ref.id)?.passport;
    if (!p) {
      ask.add(ref.id);
      return this.#count('unknown-member') ?? false;
    }
    if (ref.gen < p.gen) return true;
    if (ref.gen > p.gen || (inc !== undefined && inc > p.inc)) {
      ask.add(ref.id);
      return this.#count('unproven-claim') ?? false;
    }
    return true;
  }

  #admit(m: Message, ask: Set<NodeId>): Message | undefined {
    switch (m.type) {
      case MsgType.Passport:
        return undefined;
      case MsgType.WhoIs:
        return m;
      case MsgType.Heartbeat:
      case MsgType.Ack: {
        if (!this.#proven(m.from, ask)) return undefined;
        // A sign of life at an incarnation we have no passport for yet (a refutation racing its
        // passport): believe the life, not the incarnation, until the passport arrives.
        const p = this.#ids.get(m.from.id)?.passport;
        if (p && m.from.gen === p.gen && m.inc > p.inc) {
          ask.add(m.from.id);
          this.#count('unproven-claim');
          return { ...m, inc: p.inc };
        }
        return m;
      }
      case MsgType.Ping:
      case MsgType.PingReq:
        return this.#proven(m.from, ask) && this.#proven(m.target, ask) ? m : undefined;
      case MsgType.Suspect:
      case MsgType.Dead: {
        if (!this.#proven(m.from, ask) || !this.#proven(m.target, ask)) return undefined;
        if (m.from.id === this.#opts.self.id) return m;
        const key = this.#ids.get(m.from.id)!.publicKey;
        if (!m.sig) return this.#count('unsigned');
        if (this.#opts.accusationIsNews && !this.#opts.accusationIsNews(m)) return m;
        // An overloaded fleet suspects a lot, every suspicion is news to everyone, and checking
        // them all made the overload worse. Past the budget an accusation is dropped: that
        // only delays a verdict (accusers repeat), it never makes one.
        if (!this.#spendAccusationBudget()) return this.#count('accusation-overload');
        return verifyAccusation(key, m, this.#verify) ? m : this.#count('bad-signature');
      }
      case MsgType.Leave: {
        if (m.from.id === this.#opts.self.id) return m;
        const p = this.#ids.get(m.from.id)?.passport;
        if (p && p.gen === m.from.gen && p.left) return m;
        if (p && p.gen > m.from.gen) return m; // an earlier life's goodbye: the core ignores it
        ask.add(m.from.id);
        return this.#count(p ? 'unproven-claim' : 'unknown-member');
      }
      case MsgType.Digest:
        return this.#proven(m.from, ask) ? this.#digest(m, ask) : undefined;
      case MsgType.Delta:
        return this.#proven(m.from, ask) && this.#proven(m.owner, ask) ? this.#delta(m) : undefined;
    }
  }

  #digest(d: Digest, ask: Set<NodeId>): Digest {
    const entries: DigestEntry[] = [];
    for (const e of d.entries) {
      if (e.id === this.#opts.self.id) {
        entries.push(e);
        continue;
      }
      const p = this.#ids.get(e.id)?.passport;
      const proven = p !== undefined && (e.gen < p.gen || (e.gen === p.gen && e.inc <= p.inc && (e.status !== 'left' || p.left)));
      if (proven) entries.push(e);
      else {
        ask.add(e.id);
        this.#count(p ? 'unproven-claim' : 'unknown-member');
        // The same life at an unproven incarnation still carries news worth keeping (heartbeat
        // progress, key/value versions): keep it at the incarnation the passport proves.
        if (p && e.gen === p.gen && e.status !== 'left') entries.push({ ...e, inc: Math.min(e.inc, p.inc) });
      }
    }
    return entries.length === d.entries.length ? d : { ...d, entries };
  }

  #delta(d: Delta): Delta | undefined {
    if (d.owner.id === this.#opts.self.id) return d; // the core ignores deltas about us
    const owner = this.#ids.get(d.owner.id)!;
    if (d.owner.gen < owner.passport.gen) return d; // an old life: the core discards it
    let top = d.fromV;
    for (const e of d.entries) {
      top = Math.max(top, e.version);
      const held = this.#opts.held.version(d.owner, e.key);
      if (held !== undefined && held >= e.version) continue; // the core ignores it: no need to check
      if (!e.sig) return this.#count('unsigned');
      if (!verifyKv(owner.publicKey, d.owner, e, this.#verify)) return this.#count('bad-signature');
    }
    // A relay could claim a watermark far past the owner's real state and freeze it fleet-wide;
    // never let it pass beyond versions this node has signed evidence of.
    // An honest delta ends on its last entry, so the scan of what we hold is rarely needed.
    if (d.toV <= top) return d;
    const bound = Math.max(top, this.#opts.held.max(d.owner));
    if (d.toV <= bound) return d;
    this.#count('clamped-delta');
    return { ...d, toV: bound };
  }
}
