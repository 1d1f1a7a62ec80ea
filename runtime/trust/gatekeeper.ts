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
// - Queries carry their asker's signature and replies their replier's, bound to the query they
//   answer. Query checks have their own budget per source address and overall, so a flood of
//   queries costs a bounded share of the CPU and leaves the other checks' budget alone.
// - With a fleet admin key, a passport also needs the admin's certificate for (id, key), and
//   revoked keys are refused: a stolen device is locked out without re-keying the fleet.
// - Work a datagram can ask for is budgeted per source address and overall: signature checks
//   (passports, certificates, key/value entries) and new identities. Past a budget the
//   datagram or message is dropped and counted, never queued.
// - A member the core has forgotten (dead or left, past retention) stays buried here: nothing
//   brings that life back but a passport for a later incarnation or generation.
//
// What is not signed: liveness ticks (heartbeat counters, probe answers) and unicast
// addresses. A device holding the fleet key can make a dead device look alive for a while (how
// long is bounded by the core's capped intervals, see runtime/core/timing.ts), or misdirect
// traffic; it cannot make a live one dead, left or restarted, nor a dead one alive. See README
// "Threat model".
//
// Pure: no sockets, no timers. The host feeds it decoded messages and sends what it asks for.

import type { Address, Dead, Delta, Digest, DigestEntry, KvEntry, Message, NodeId, NodeRef, Passport, Ping, Query, QueryReply, Suspect } from '../core/messages.js';
import { MsgType } from '../core/messages.js';
import { accusersPerSilence, profileByName } from '../core/profiles.js';
import type { Signer } from '../core/node.js';
import { verifyCertificate } from './certificate.js';
import { CheckedSignatures } from './checked-signatures.js';
import { SourceBudget, type Rate } from './budget.js';
import { verifyBytes, type SigningKey } from './ed25519.js';
import {
  signAccusation,
  signKv,
  signPassport,
  signQuery,
  signQueryReply,
  verifyAccusation,
  verifyKv,
  verifyPassport,
  verifyQuery,
  verifyQueryReply,
  type Verifier,
} from './records.js';

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
  | 'accusation-overload'
  | 'accusation-surplus'
  | 'verify-budget'
  | 'new-identity-rate'
  | 'buried'
  | 'query-budget'
  | 'misdirected-reply';

/** The last identity refused a place, and why: for the log, where a counter alone says too little. */
export interface IdentityRefusal {
  readonly reason: GateRefusal;
  readonly id: NodeId;
  readonly source: Address;
}

/** Where a datagram came from, and how to answer its sender. */
export interface GateSource {
  readonly addr: Address;
  readonly reply?: (msgs: Message[]) => void;
}

/**
 * Signature checks per second: Ed25519 costs 0.1-0.4 ms on x86 and about four times that on a
 * Pi, so 100 per source and 500 overall cost a Pi at most a few tens of percent of one core
 * under attack. Honest traffic needs a check only for what is new (a passport per life and
 * incarnation, a key/value per version): a fleet of 128 joining at once is one burst of 127.
 */
export const VERIFY_PER_SOURCE: Rate = { perS: 100, burst: 200 };
export const VERIFY_TOTAL: Rate = { perS: 500, burst: 1000 };
/**
 * Query signatures checked per second. Each query costs one check per device (its repeats are
 * not checked again), and devices ask a few a second at most (runtime/core/queries.ts
 * ASKER_RATE): 20 per source leaves room for relays, 100 overall bounds a flood from spoofed
 * addresses to a few percent of a Pi's core.
 */
export const QUERY_VERIFY_PER_SOURCE: Rate = { perS: 20, burst: 40 };
export const QUERY_VERIFY_TOTAL: Rate = { perS: 100, burst: 200 };
/**
 * New identities admitted from one source address. A device brings one; a seed answering a
 * joiner's WhoIs relays the fleet's passports from its one address, so the burst covers a
 * fleet of 128 joining through one seed, and the rate lets a larger fleet follow within minutes.
 */
export const NEW_IDS_PER_SOURCE: Rate = { perS: 64 / 60, burst: 128 };
/**
 * Identities held without an admin (trust on first use). With an admin, a passport with a valid
 * certificate is never refused a place: the admin vouched for each one.
 */
export const MAX_IDENTITIES = 1024;
/**
 * Accusers checked per statement (type, target, life, incarnation) without a profile to ask:
 * the lan and wifi profiles' count (core profiles.ts `accusersPerSilence`). When ten devices
 * die together every survivor may accuse each of them at once, N x 10 signatures that would
 * take the whole accusation budget for seconds, while the few that speak up are enough for
 * every verdict.
 */
export const ACCUSERS_PER_STATEMENT = accusersPerSilence(profileByName('lan'));
/** Statements whose accusers are counted at most: oldest first out. */
const STATEMENTS_TRACKED = 1024;
/** Own accusations whose signatures are kept: the core repeats and re-sends the same few. */
const SIGNED_ACCUSATIONS_KEPT = 256;
/** Tell a buried member that it is dead (so it can refute, if it is alive) at most this often. */
const TELL_BURIED_EVERY_MS = 5000;

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
  /** Whether the core has not heard this query yet: repeats are passed on unchecked, the core drops them. */
  readonly queryIsNews?: (q: Query) => boolean;
  /** Whether this reply answers one of the core's queries from a device that has not answered yet. */
  readonly queryReplyIsNews?: (r: QueryReply) => boolean;
  /** Monotonic ms, for the accusation budget. */
  readonly clock?: () => number;
  /** Accusers checked per statement, at least 1: `accusersPerSilence` of the core's profile (default ACCUSERS_PER_STATEMENT). */
  readonly accusersPerStatement?: number;
  /** Accusation signatures checked per second at most (default 50, about 4 ms of CPU on x86). */
  readonly accusationsPerSecond?: number;
  /** Identities held at most without an admin (default MAX_IDENTITIES). */
  readonly maxIdentities?: number;
  /** Checks a signature (default ed25519.ts `verifyBytes`); a simulator shares one memo of it across its nodes. */
  readonly verify?: Verifier;
  /** Budgets (with a clock only, as the accusation budget). Defaults: the constants above. */
  readonly verifyPerSource?: Rate;
  readonly verifyTotal?: Rate;
  readonly newIdsPerSource?: Rate;
}

/** A life the core has forgotten: nothing short of a later incarnation or generation revives it. */
interface Grave {
  readonly gen: number;
  readonly inc: number;
  readonly publicKey: Uint8Array | undefined;
}

interface Identity {
  readonly publicKey: Uint8Array;
  readonly passport: Passport;
  /** The address whose datagram introduced it: where a full table makes room first. */
  readonly source: Address;
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
  /** Identities held by the address that introduced them. */
  readonly #bySource = new Map<Address, number>();
  readonly #certOk = new Set<string>();
  readonly #max: number;
  readonly #verifier: Verifier;
  readonly #checked: CheckedSignatures;
  readonly #signedAccusations = new Map<string, Uint8Array>();
  /** Per accusation statement, the accusers whose signatures checked out. */
  readonly #accusers = new Map<string, Set<NodeId>>();
  #own: Passport | undefined;
  readonly signer: Signer;
  #budgetAt = -Infinity;
  #budget = 0;
  readonly #onNewLife: ((id: NodeId) => void)[] = [];
  readonly #verify: SourceBudget | undefined;
  readonly #newIds: SourceBudget | undefined;
  readonly #queryChecks: SourceBudget | undefined;
  readonly #graves = new Map<NodeId, Grave>();
  readonly #toldBuried = new Map<NodeId, number>();
  /** The datagram being admitted. */
  #src: GateSource = { addr: '' };
  /** Set when a passport in the datagram being admitted needed a check past the budget. */
  #overBudget = false;
  readonly #accusersPerStatement: number;
  lastIdentityRefusal: IdentityRefusal | undefined;

  constructor(opts: GateOptions) {
    this.#opts = opts;
    this.#max = opts.maxIdentities ?? MAX_IDENTITIES;
    const accusers = opts.accusersPerStatement ?? ACCUSERS_PER_STATEMENT;
    if (!(Number.isInteger(accusers) && accusers >= 1)) {
      throw new Error(`gatekeeper: accusersPerStatement must be a whole number of at least 1, got ${accusers}`);
    }
    this.#accusersPerStatement = accusers;
    const now = opts.clock?.() ?? 0;
    // Without a clock (unit tests of other rules) there is no budget, as for accusations.
    if (opts.clock) {
      this.#verify = new SourceBudget(opts.verifyPerSource ?? VERIFY_PER_SOURCE, opts.verifyTotal ?? VERIFY_TOTAL, now);
      // Only the per-source rate matters for new identities; the identity table caps the total.
      this.#newIds = new SourceBudget(opts.newIdsPerSource ?? NEW_IDS_PER_SOURCE, { perS: Infinity, burst: Infinity }, now);
      this.#queryChecks = new SourceBudget(QUERY_VERIFY_PER_SOURCE, QUERY_VERIFY_TOTAL, now);
    }
    this.#checked = new CheckedSignatures(opts.verify ?? verifyBytes);
    this.#verifier = this.#checked.verify;
    this.signer = {
      kv: (owner: NodeRef, e: KvEntry) => signKv(opts.key, owner, e),
      query: (q: Query) => signQuery(opts.key, q),
      queryReply: (r: QueryReply) => signQueryReply(opts.key, r),
      accusation: (a: Suspect | Dead) => this.#signAccusation(a),
    };
  }

  /**
   * The core re-sends the same accusation (repeats, notifications to the accused, answers to
   * each refutation it has not yet seen): the signature covers only (type, accuser, target,
   * incarnation), so one per statement is enough.
   */
  #signAccusation(a: Suspect | Dead): Uint8Array {
    if (a.from.id !== this.#opts.self.id || a.from.gen !== this.#opts.self.gen) return signAccusation(this.#opts.key, a);
    const tag = `${a.type}\u0000${a.target.id}\u0000${a.target.gen}\u0000${a.inc}`;
    let sig = this.#signedAccusations.get(tag);
    if (!sig) {
      sig = signAccusation(this.#opts.key, a);
      if (this.#signedAccusations.size >= SIGNED_ACCUSATIONS_KEPT) this.#signedAccusations.delete(this.#signedAccusations.keys().next().value!);
      this.#signedAccusations.set(tag, sig);
    }
    return sig;
  }

  /** Signature checks computed, and copies of checked statements passed from memory. */
  get signatureChecks(): { readonly checks: number; readonly remembered: number } {
    return { checks: this.#checked.checks, remembered: this.#checked.remembered };
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
  vouch(p: Passport, from: Address = 'control'): boolean {
    if (p.id === this.#opts.self.id) return false;
    this.#src = { addr: from };
    this.#learn(p);
    const cur = this.#ids.get(p.id);
    return cur !== undefined && sameKey(cur.publicKey, p.publicKey) && !this.#opts.isRevoked?.(p.publicKey);
  }

  /** A revocation took effect: forget every identity using `publicKey`. Returns their ids. */
  revoke(publicKey: Uint8Array): NodeId[] {
    const gone: NodeId[] = [];
    for (const [id, ident] of this.#ids) if (sameKey(ident.publicKey, publicKey)) gone.push(id);
    for (const id of gone) this.#release(id);
    return gone;
  }

  /**
   * The messages of one datagram that may reach the core, in order. Members named without
   * proof are added to `ask`; the host requests their passports from the datagram's sender.
   */
  admit(msgs: readonly Message[], ask: Set<NodeId>, answer?: (p: Ping) => void, source: GateSource = { addr: '' }): Message[] {
    this.#src = source;
    this.#overBudget = false;
    for (const m of msgs) if (m.type === MsgType.Passport) this.#learn(m);
    // A datagram of passports past the budget is dropped whole, before anything else in it
    // costs more: the flood this budget is for is made of exactly such datagrams.
    if (this.#overBudget) return this.#count('verify-budget') ?? [];
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

  /**
   * Forget the life of a member the core forgot (dead or left, past retention), and refuse to
   * hear of it again: without this, a heartbeat naming it (from anyone) would make the core meet
   * it anew, alive at the sender's address. A passport for a later incarnation or generation
   * digs it out: that much the member itself must sign.
   */
  bury(ref: NodeRef): void {
    const cur = this.#ids.get(ref.id);
    if (cur && cur.passport.gen > ref.gen) return; // a later life is already known
    // Without a passport of that life, only a later generation proves a new one.
    const inc = cur && cur.passport.gen === ref.gen ? cur.passport.inc : Number.MAX_SAFE_INTEGER;
    if (this.#graves.size >= this.#max) this.#graves.delete(this.#graves.keys().next().value!);
    this.#graves.set(ref.id, { gen: ref.gen, inc, publicKey: cur?.publicKey });
  }

  get buried(): number {
    return this.#graves.size;
  }

  /** Is this life of `id` buried? A passport for a later life clears the grave. */
  #isBuried(id: NodeId, gen: number): boolean {
    const g = this.#graves.get(id);
    if (!g) return false;
    const p = this.#ids.get(id)?.passport;
    if (p && (p.gen > g.gen || (p.gen === g.gen && p.inc > g.inc))) {
      this.#graves.delete(id);
      return false;
    }
    return gen <= g.gen;
  }

  /** Tell whoever speaks for a buried member that it is dead: if that is the member, it refutes. */
  #tellBuried(ref: NodeRef): void {
    const g = this.#graves.get(ref.id);
    const reply = this.#src.reply;
    if (!g || !reply || g.inc === Number.MAX_SAFE_INTEGER || ref.gen !== g.gen) return;
    const now = this.#opts.clock?.() ?? 0;
    if (this.#opts.clock && now - (this.#toldBuried.get(ref.id) ?? -Infinity) < TELL_BURIED_EVERY_MS) return;
    if (this.#toldBuried.size >= this.#max) this.#toldBuried.clear();
    this.#toldBuried.set(ref.id, now);
    const a: Dead = { type: MsgType.Dead, from: this.#opts.self, target: { id: ref.id, gen: g.gen }, inc: g.inc };
    reply([{ ...a, sig: this.#signAccusation(a) }]);
  }

  /** Spend `n` signature checks of the budget; past it, say no (the budget counts which bucket ran out). */
  #spendCheck(n = 1): boolean {
    const b = this.#verify;
    if (!b || b.spend(this.#src.addr, n, this.#opts.clock!())) return true;
    return false;
  }

  get verifyBudgetExhausted(): { source: number; total: number } {
    return { ...(this.#verify?.exhausted ?? { source: 0, total: 0 }) };
  }

  #refuseIdentity(reason: GateRefusal, id: NodeId): void {
    this.#count(reason);
    this.lastIdentityRefusal = { reason, id, source: this.#src.addr };
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
    const now = this.#opts.clock?.() ?? 0;
    // With an admin, a certified passport is never refused a place: only the admin mints them.
    // Without one, new identities are capped per source and in total; checked before the
    // signature, which is what costs.
    const capped = !cur && !this.#opts.adminPublicKey;
    if (capped && this.#newIds?.check(this.#src.addr, 1, now) !== undefined) return this.#refuseIdentity('new-identity-rate', p.id);
    if (capped && this.#ids.size >= this.#max && this.#evictable() === undefined) return this.#refuseIdentity('too-many-identities', p.id);
    if (this.#opts.adminPublicKey && !this.#certified(p)) return;
    if (!this.#spendCheck()) {
      this.#overBudget = true;
      return;
    }
    if (!verifyPassport(p, this.#verifier)) {
      this.#count('bad-signature');
      return;
    }
    if (capped) {
      this.#newIds?.spend(this.#src.addr, 1, now);
      if (this.#ids.size >= this.#max) this.#release(this.#evictable()!);
    }
    this.#release(p.id);
    const source = same ? cur.source : this.#src.addr;
    this.#ids.set(p.id, { publicKey: p.publicKey, passport: p, source });
    this.#bySource.set(source, (this.#bySource.get(source) ?? 0) + 1);
    if (cur) for (const f of this.#onNewLife) f(p.id);
  }

  /**
   * Call `f` with a member's id whenever it proves a later life or incarnation than the one held,
   * by a passport only it could sign (the host resets that member's replay window).
   */
  onNewLife(f: (id: NodeId) => void): void {
    this.#onNewLife.push(f);
  }

  #release(id: NodeId): void {
    const cur = this.#ids.get(id);
    if (!cur) return;
    this.#ids.delete(id);
    const n = (this.#bySource.get(cur.source) ?? 1) - 1;
    if (n > 0) this.#bySource.set(cur.source, n);
    else this.#bySource.delete(cur.source);
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
    if (!this.#spendCheck()) {
      this.#overBudget = true;
      return false;
    }
    if (!verifyCertificate({ id: p.id, publicKey: p.publicKey, signature: p.cert }, this.#opts.adminPublicKey!)) {
      return this.#count('bad-certificate') ?? false;
    }
    if (this.#certOk.size >= this.#max) this.#certOk.clear();
    this.#certOk.add(tag);
    return true;
  }

  /**
   * An identity that may make room: one the core no longer tracks; else, one introduced by the
   * address that introduced the most, when that is another address and more than one. A device
   * brings one identity from its own address; invented ones crowd behind their inventor's, and
   * give way to a newcomer from elsewhere. (Passports relayed by a seed share its address too:
   * those of live members come back through their own heartbeats.)
   */
  #evictable(): NodeId | undefined {
    for (const id of this.#ids.keys()) if (!this.#opts.isMember(id)) return id;
    let top: Address | undefined;
    let most = 1;
    for (const [source, n] of this.#bySource) {
      if (n > most) {
        most = n;
        top = source;
      }
    }
    if (top === undefined || top === this.#src.addr) return undefined;
    for (const [id, ident] of this.#ids) if (ident.source === top) return id;
    return undefined;
  }

  /**
   * Is `ref` (at incarnation `inc`, when given) proven by a passport? Older lives pass: the
   * core itself discards them. Unknown or unproven: ask for the passport.
   */
  #proven(ref: NodeRef, ask: Set<NodeId>, inc?: number): boolean {
    if (ref.id === this.#opts.self.id) return ref.gen <= this.#opts.self.gen;
    if (this.#isBuried(ref.id, ref.gen)) {
      ask.add(ref.id); // its latest passport may dig it out
      return this.#count('buried') ?? false;
    }
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
        // The asker must be known: its answer is larger than the question, and a WhoIs names
        // the datagram's sender (runtime/trust/datagram-sender.ts).
        return this.#proven(m.from, ask) ? m : undefined;
      case MsgType.Heartbeat:
      case MsgType.Ack: {
        if (!this.#proven(m.from, ask)) {
          if (m.type === MsgType.Heartbeat && this.#graves.has(m.from.id)) this.#tellBuried(m.from);
          return undefined;
        }
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
        // We may have buried our accuser while it buried us (a long partition): its word about
        // us still counts, checked against the key we buried it with, so both sides refute.
        if (m.target.id === this.#opts.self.id && this.#isBuried(m.from.id, m.from.gen)) return this.#fromTheGrave(m);
        if (!this.#proven(m.from, ask) || !this.#proven(m.target, ask)) return undefined;
        if (m.from.id === this.#opts.self.id) return m;
        const key = this.#ids.get(m.from.id)!.publicKey;
        if (!m.sig) return this.#count('unsigned');
        if (this.#opts.accusationIsNews && !this.#opts.accusationIsNews(m)) return m;
        // Enough devices have already said this: neither one more voice nor another copy of one
        // already heard can hasten the verdict, and dropping it costs nothing (the statement's
        // checked accusers stand).
        const statement = m.target.id === this.#opts.self.id ? undefined : this.#statementAccusers(m);
        if (statement && statement.size >= this.#accusersPerStatement) return this.#count('accusation-surplus');
        // An overloaded fleet suspects a lot, every suspicion is news to everyone, and checking
        // them all made the overload worse. Past the budget an accusation is dropped: that
        // only delays a verdict (accusers repeat), it never makes one.
        if (!this.#spendAccusationBudget()) return this.#count('accusation-overload');
        if (!verifyAccusation(key, m, this.#verifier)) return this.#count('bad-signature');
        statement?.add(m.from.id);
        return m;
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
      case MsgType.Query:
        return this.#query(m, ask);
      case MsgType.QueryReply:
        return this.#queryReply(m, ask);
      case MsgType.Delta:
        return this.#proven(m.from, ask) && this.#proven(m.owner, ask) ? this.#delta(m) : undefined;
    }
  }

  #query(q: Query, ask: Set<NodeId>): Query | undefined {
    if (!this.#proven(q.from, ask)) return undefined;
    if (q.from.id === this.#opts.self.id) return q;
    if (!q.sig) return this.#count('unsigned');
    if (this.#opts.queryIsNews && !this.#opts.queryIsNews(q)) return q;
    const b = this.#queryChecks;
    if (b && !b.spend(this.#src.addr, 1, this.#opts.clock!())) return this.#count('query-budget');
    return verifyQuery(this.#ids.get(q.from.id)!.publicKey, q, this.#verifier) ? q : this.#count('bad-signature');
  }

  #queryReply(r: QueryReply, ask: Set<NodeId>): QueryReply | undefined {
    if (r.asker.id !== this.#opts.self.id || r.asker.gen !== this.#opts.self.gen) return this.#count('misdirected-reply');
    if (!this.#proven(r.from, ask)) return undefined;
    if (r.from.id === this.#opts.self.id) return undefined;
    if (this.#opts.queryReplyIsNews && !this.#opts.queryReplyIsNews(r)) return r;
    if (!r.sig) return this.#count('unsigned');
    if (!this.#spendCheck()) return this.#count('verify-budget');
    return verifyQueryReply(this.#ids.get(r.from.id)!.publicKey, r, this.#verifier) ? r : this.#count('bad-signature');
  }

  /** The accusers already checked for this accusation's statement (tracked from now on). */
  #statementAccusers(a: Suspect | Dead): Set<NodeId> {
    const tag = `${a.type}\u0000${a.target.id}\u0000${a.target.gen}\u0000${a.inc}`;
    let set = this.#accusers.get(tag);
    if (!set) {
      if (this.#accusers.size >= STATEMENTS_TRACKED) this.#accusers.delete(this.#accusers.keys().next().value!);
      this.#accusers.set(tag, (set = new Set()));
    }
    return set;
  }

  #fromTheGrave(m: Suspect | Dead): Message | undefined {
    const key = this.#ids.get(m.from.id)?.publicKey ?? this.#graves.get(m.from.id)?.publicKey;
    if (!key || !m.sig) return this.#count('unsigned');
    if (!this.#spendAccusationBudget()) return this.#count('accusation-overload');
    return verifyAccusation(key, m, this.#verifier) ? m : this.#count('bad-signature');
  }

  #digest(d: Digest, ask: Set<NodeId>): Digest {
    const entries: DigestEntry[] = [];
    for (const e of d.entries) {
      if (e.id === this.#opts.self.id) {
        entries.push(e);
        continue;
      }
      if (this.#isBuried(e.id, e.gen)) {
        this.#count('buried');
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
    const check: KvEntry[] = [];
    for (const e of d.entries) {
      top = Math.max(top, e.version);
      const held = this.#opts.held.version(d.owner, e.key);
      if (held !== undefined && held >= e.version) continue; // the core ignores it: no need to check
      if (!e.sig) return this.#count('unsigned');
      check.push(e);
    }
    // All or nothing: a delta refused over budget comes again with the next anti-entropy round.
    if (check.length > 0 && !this.#spendCheck(check.length)) return this.#count('verify-budget');
    for (const e of check) if (!verifyKv(owner.publicKey, d.owner, e, this.#verifier)) return this.#count('bad-signature');
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
