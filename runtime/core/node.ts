// The murmur protocol core: one node's state machine. Sans-IO: every entry point takes "now"
// and an Effects sink; it never reads a clock, a socket or a random source of its own.
//
// How the pieces fit (see README "Protocol"):
// - Liveness: each node heartbeats (multicast when it can). Silence longer than k intervals,
//   k chosen from measured loss, starts a SWIM probe: direct pings, then indirect ones.
// - Suspicion: a failed probe is this node's accusation. Others collect accusations as
//   independent sources; dead needs two sources plus a Lifeguard timeout, or the maximum
//   timeout unrefuted. Any first-hand sign of life clears a suspicion; the accused refutes by
//   bumping its incarnation.
// - State: per-owner versioned key/values, fresh changes repeated a few times, the rest repaired
//   by scuttlebutt anti-entropy (digests and deltas) with peers whose view hash differs.

import { Awareness } from './awareness.js';
import { Broadcasts } from './broadcasts.js';
import type { Effects, MessageSize, Rng, TimerToken } from './effects.js';
import { MULTICAST } from './effects.js';
import { KvStore, type Applied } from './kv-store.js';
import { LossEstimator } from './loss-estimator.js';
import { isPresent, newMember, type Member } from './member.js';
import {
  MsgType,
  type Ack,
  type Address,
  type Dead,
  type Delta,
  type Digest,
  type DigestEntry,
  type Heartbeat,
  type KvEntry,
  type Leave,
  type MemberStatus,
  type Message,
  type NodeId,
  type NodeRef,
  type Ping,
  type PingReq,
  type Suspect,
  type Value,
} from './messages.js';
import { DIGEST_OVERHEAD, fillDigest } from './digest.js';
import { kvEntrySize, packDatagrams } from './packing.js';
import type { Profile } from './profiles.js';
import { nextDeadline, verdict, type SuspicionBounds } from './suspicion.js';
import { advertisedIntervalMs, heartbeatIntervalMs, jittered, repeatsFor, silenceIntervals } from './timing.js';
import { memberHash } from './view-hash.js';
import { NodeStats } from './stats.js';
import { Prober } from './probing.js';

export interface NodeOptions {
  readonly id: NodeId;
  /** Boot counter persisted on the device; must grow on every start. */
  readonly gen: number;
  /** The address peers should use to reach this node by unicast. */
  readonly addr: Address;
  readonly profile: Profile;
  readonly rng: Rng;
  readonly size: MessageSize;
  /** Whether this node can send to and receive from a multicast group. */
  readonly multicast: boolean;
  /** Unicast addresses to contact at start (and whenever the node knows nobody). */
  readonly seeds?: readonly Address[];
  /**
   * Signs what this node originates and others relay: its key/value entries and its
   * accusations. Injected (like the clock and randomness) so the core stays free of crypto;
   * without one (simulations), nothing is signed.
   */
  readonly signer?: Signer;
}

export interface Signer {
  kv(owner: NodeRef, entry: KvEntry): Uint8Array;
  accusation(a: Suspect | Dead): Uint8Array;
}

/** Bytes of a Delta besides its entries (type, refs, versions, array headers), rounded up. */
const DELTA_OVERHEAD = 96;
/** A periodic timer that fires within this much of its due time counts as on time. */
const TIMER_SLACK_MS = 1;
/** Deltas sent per anti-entropy exchange at most; the rest waits for the next round. */
const MAX_DELTA_CHUNKS = 4;
/** Start-up heartbeats come this much faster, so a freshly booted fleet converges quickly. */
const JOIN_BURST_HEARTBEATS = 6;
/** Dead-member collection runs every this many one-second gc ticks. */
const MEMBER_GC_EVERY = 5;
/** Replica tombstones are purged every this many ticks: retention is ten minutes, no need to hurry. */
const REPLICA_GC_EVERY = 60;
/** Datagrams of our view handed to a node that joins through us. */
const JOIN_VIEW_DATAGRAMS = 8;
/** Members looked at per anti-entropy round when choosing a peer whose view differs. */
const AE_SAMPLE = 8;
/**
 * A member whose heartbeats have not come through the group for this many more intervals than
 * the silence threshold is taken to be unreachable by multicast, and we heartbeat to it directly.
 */
const DEAF_EXTRA_INTERVALS = 2;
/** A periodic timer this late (ms) means the node itself was stalled. */
const STALL_MS = 250;
/** A direct heartbeat asks for direct heartbeats back for this many of our intervals (renewed by each one). */
const UNICAST_LEASE_INTERVALS = 8;

export class Node {
  readonly self: NodeRef;
  #addr: Address;
  readonly profile: Profile;
  readonly stats = new NodeStats();
  readonly kv: KvStore;

  #inc = 0;
  #seq = 0;
  #running = false;
  #left = false;
  readonly #rng: Rng;
  readonly #size: MessageSize;
  readonly #multicast: boolean;
  readonly #seeds: readonly Address[];
  readonly #signer: Signer | undefined;
  readonly #members = new Map<NodeId, Member>();
  #sortedIds: NodeId[] | undefined;
  #present = 0;
  #view = 0;
  readonly #broadcasts: Broadcasts;
  readonly #loss = new LossEstimator();
  readonly #awareness: Awareness;
  readonly #prober: Prober;
  readonly #bounds: SuspicionBounds;
  #burst = JOIN_BURST_HEARTBEATS;
  #aeRound = 0;
  #gcTicks = 0;
  #aeCursor = 0;
  #ownFreshBase = 0;
  // Due times of the periodic timers; a token firing earlier is stale and ignored.
  #hbDue = Infinity;
  #sweepDue = Infinity;
  #aeDue = Infinity;
  #gcDue = Infinity;
  #flushDue = Infinity;
  /** No new probes before this: the node just came out of a stall. */
  #stalledUntil = -Infinity;
  /** Whether the datagram being handled came through the multicast group. */
  #rxMulticast = true;
  /** Members that get our heartbeats and news by unicast besides the group, refreshed each heartbeat. */
  #unicastExtras: Member[] = [];

  constructor(opts: NodeOptions) {
    if (!Number.isSafeInteger(opts.gen) || opts.gen < 1) {
      throw new Error(`node ${opts.id}: generation must be a positive integer from the boot counter, got ${opts.gen}`);
    }
    this.self = { id: opts.id, gen: opts.gen };
    this.#addr = opts.addr;
    this.profile = opts.profile;
    this.#rng = opts.rng;
    this.#size = opts.size;
    this.#multicast = opts.multicast;
    this.#seeds = opts.seeds ?? [];
    this.#signer = opts.signer;
    // Caps per owner, the same at every replica: see Profile.ownerMaxKeys.
    this.kv = new KvStore({ maxKeys: opts.profile.ownerMaxKeys, maxBytes: opts.profile.ownerMaxBytes });
    this.#broadcasts = new Broadcasts(opts.profile.repeatOffsetsMs);
    this.#awareness = new Awareness(opts.profile.awarenessMax);
    this.#bounds = {
      // Without multicast every node probes an accused member itself (see #onAccusation), and
      // a refutation travels by gossip, not by one multicast: give it time before a verdict.
      minMs: opts.multicast ? opts.profile.suspicionMinMs : opts.profile.suspicionMaxMs,
      maxMs: opts.profile.suspicionMaxMs,
      expectedConfirmations: opts.profile.suspicionConfirmations,
    };
    this.kv.ensure(this.self);
    this.#view = memberHash(this.self.id, this.self.gen);
    this.#prober = new Prober({
      self: this.self,
      profile: this.profile,
      stats: this.stats,
      awareness: this.#awareness,
      rng: this.#rng,
      member: (id) => this.#members.get(id),
      members: () => this.#members.values(),
      randomPresent: (count, exclude) => this.#randomPresent(count, exclude),
      answered: (m, a, now, fx) => this.#probeAnswered(m, a, now, fx),
      failed: (m, now, fx) => this.#probeFailed(m, now, fx),
    });
  }

  // ---------------------------------------------------------------- queries

  /** The unicast address this node advertises for itself. */
  get addr(): Address {
    return this.#addr;
  }

  /**
   * The host's address changed (DHCP, Wi-Fi roaming, an interface that came up late). Peers
   * that hear us directly learn it from the datagrams; this fixes what we tell them second-hand.
   */
  readdress(addr: Address): void {
    this.#addr = addr;
  }

  get incarnation(): number {
    return this.#inc;
  }
  get heartbeatMs(): number {
    return heartbeatIntervalMs(this.profile, this.#present + 1);
  }
  get measuredLoss(): number {
    return this.#loss.loss;
  }
  get health(): number {
    return this.#awareness.score;
  }
  get viewHash(): number {
    return this.#view;
  }
  /** Members currently alive or suspect, not counting this node. */
  get presentCount(): number {
    return this.#present;
  }

  member(id: NodeId): Readonly<Member> | undefined {
    return this.#members.get(id);
  }

  members(): IterableIterator<Readonly<Member>> {
    return this.#members.values();
  }

  /**
   * Why this node holds `id` suspect, for operators: who accused it (this node's id among them
   * once its own probe failed), how many confirmations that makes, and how long until the
   * suspicion runs out unrefuted (it can shrink as more accusers agree).
   */
  suspicionOf(id: NodeId, now: number): { accusers: string[]; confirmations: number; msLeft: number; sinceMs: number } | undefined {
    const s = this.#members.get(id)?.suspicion;
    if (!s) return undefined;
    return {
      accusers: [...s.sources].sort(),
      confirmations: Math.max(0, s.sources.size - 1),
      msLeft: Math.max(0, nextDeadline(s, this.#bounds) - now),
      sinceMs: now - s.startedAt,
    };
  }

  statusOf(id: NodeId): MemberStatus | undefined {
    if (id === this.self.id) return this.#left ? 'left' : 'alive';
    return this.#members.get(id)?.status;
  }

  /**
   * Would an accusation change anything here? False when the target is unknown, in another life,
   * past that incarnation, no longer present, or already accused by this accuser. The host skips
   * checking the signature of accusations the core ignores anyway.
   */
  accusationIsNews(a: Suspect | Dead): boolean {
    if (a.target.id === this.self.id) return a.target.gen === this.self.gen && !this.#left && a.inc >= this.#inc;
    const m = this.#members.get(a.target.id);
    if (!m || m.gen !== a.target.gen || a.inc < m.inc) return false;
    if (a.type === MsgType.Dead) return true; // counted in deadReports
    if (!isPresent(m)) return false;
    return !m.suspicion?.sources.has(a.from.id) && !m.heldAccusations?.has(a.from.id);
  }

  get(ownerId: NodeId, key: string, now: number): Value | undefined {
    return this.kv.get(ownerId, key, now)?.value ?? undefined;
  }

  // ---------------------------------------------------------------- entry points

  start(now: number, fx: Effects): void {
    if (this.#running) return;
    this.#running = true;
    // Stagger the first heartbeat a little: a whole fleet powered on by one switch would
    // otherwise heartbeat in lock-step forever.
    this.#hbDue = now + Math.floor(this.#rng.next() * 20);
    fx.setTimer(this.#hbDue, { kind: 'heartbeat' });
    this.#sweepDue = now + this.#sweepInterval();
    fx.setTimer(this.#sweepDue, { kind: 'sweep' });
    this.#aeDue = now + jittered(this.profile.antiEntropyMs, 0.5, this.#rng.next());
    fx.setTimer(this.#aeDue, { kind: 'anti-entropy' });
    this.#gcDue = now + 1000;
    fx.setTimer(this.#gcDue, { kind: 'gc' });
    this.#contactSeeds(now, fx);
  }

  /**
   * Handle one datagram's messages. `viaMulticast` says whether it arrived through the group
   * (true) or was addressed to this node (false); it drives the per-peer multicast fallback.
   */
  receive(now: number, from: Address, msgs: readonly Message[], fx: Effects, viaMulticast = true): void {
    if (!this.#running) return;
    this.#rxMulticast = viaMulticast;
    // Deltas first, then the rest: a heartbeat in the same datagram must not trigger a pull
    // for what the datagram itself carries.
    for (const m of msgs) if (m.type === MsgType.Delta) this.#dispatch(now, from, m, fx);
    for (const m of msgs) if (m.type !== MsgType.Delta) this.#dispatch(now, from, m, fx);
  }

  timer(now: number, token: TimerToken, fx: Effects): void {
    if (!this.#running) return;
    switch (token.kind) {
      case 'heartbeat':
        if (now + TIMER_SLACK_MS < this.#hbDue) return;
        this.#onHeartbeatTimer(now, fx);
        return;
      case 'sweep':
        if (now + TIMER_SLACK_MS < this.#sweepDue) return;
        // A sweep this late means this node was stalled (an overloaded device): what looks like
        // everyone's silence is our own. Count it against our health, as Lifeguard does for a
        // node that finds itself suspected, and start no probe until the backlog is read.
        if (now - this.#sweepDue > STALL_MS) {
          this.#awareness.apply(1);
          this.stats.count('stalls');
          this.#stalledUntil = now + this.#sweepInterval();
        }
        this.#sweep(now, fx);
        this.#sweepDue = now + this.#sweepInterval();
        fx.setTimer(this.#sweepDue, { kind: 'sweep' });
        return;
      case 'anti-entropy':
        if (now + TIMER_SLACK_MS < this.#aeDue) return;
        this.#antiEntropyRound(now, fx);
        this.#aeDue = now + jittered(this.profile.antiEntropyMs, 0.2, this.#rng.next());
        fx.setTimer(this.#aeDue, { kind: 'anti-entropy' });
        return;
      case 'gc':
        if (now + TIMER_SLACK_MS < this.#gcDue) return;
        this.#gc(now, fx);
        this.#gcDue = now + 1000;
        fx.setTimer(this.#gcDue, { kind: 'gc' });
        return;
      case 'flush':
        if (now + TIMER_SLACK_MS < this.#flushDue) return;
        this.#flushDue = Infinity;
        this.#flush(now, fx);
        return;
      case 'probe-timeout':
        this.#prober.onTimeout(token.probe, now, fx);
        return;
    }
  }

  /** Publish one of this node's own keys. Returns the new version. */
  set(now: number, key: string, value: Value, fx: Effects, ttlMs = 0): number {
    const e = this.kv.write(this.self, key, value, ttlMs, now, this.#signKv);
    this.#announceOwn(now, fx);
    this.#emitKv(this.self, { key, value, version: e.version }, fx);
    return e.version;
  }

  delete(now: number, key: string, fx: Effects): void {
    if (!this.kv.owner(this.self.id)?.entries.get(key)) return;
    const e = this.kv.write(this.self, key, null, 0, now, this.#signKv);
    this.#announceOwn(now, fx);
    this.#emitKv(this.self, { key, value: null, version: e.version }, fx);
  }

  /** Graceful goodbye: tell the fleet, then go quiet. The caller keeps delivering timers until the repeats are out. */
  leave(now: number, fx: Effects): void {
    if (this.#left) return;
    this.#left = true;
    this.#hbDue = Infinity;
    this.#aeDue = Infinity;
    const msg: Leave = { type: MsgType.Leave, from: this.self, inc: this.#inc };
    this.#queue(`leave:${this.self.id}`, msg, now, fx);
  }

  readonly #signKv = (e: KvEntry): Uint8Array | undefined => this.#signer?.kv(this.self, e);

  /** An accusation by this node, signed when there is a signer. */
  #accusation<T extends Suspect | Dead>(a: T): T {
    return this.#signer ? { ...a, sig: this.#signer.accusation(a) } : a;
  }

  // ---------------------------------------------------------------- dispatch

  #dispatch(now: number, from: Address, m: Message, fx: Effects): void {
    this.stats.received(m.type);
    // Identity is the host's business (runtime/trust): it has already checked these.
    if (m.type === MsgType.Passport || m.type === MsgType.WhoIs) return;
    if (m.type !== MsgType.Ack && m.from.id === this.self.id) {
      // Our own multicast looped back, a previous life of ours still in flight, or a spoof.
      this.stats.count('ignored-self');
      return;
    }
    switch (m.type) {
      case MsgType.Heartbeat:
        return this.#onHeartbeat(now, from, m, fx);
      case MsgType.Ping:
        return this.#onPing(now, from, m, fx);
      case MsgType.Ack:
        return this.#prober.onAck(m, now, fx);
      case MsgType.PingReq:
        return this.#onPingReq(now, from, m, fx);
      case MsgType.Suspect:
      case MsgType.Dead:
        return this.#onAccusation(now, from, m, fx);
      case MsgType.Leave:
        return this.#onLeave(now, from, m, fx);
      case MsgType.Digest:
        return this.#onDigest(now, from, m, fx);
      case MsgType.Delta:
        return this.#onDelta(now, from, m, fx);
    }
  }

  /**
   * First-hand contact with a member: learn it, notice a restart, refresh its address. Returns
   * undefined when the message comes from an older life of the member, which must never win.
   */
  #direct(now: number, ref: NodeRef, addr: Address, fx: Effects): Member | undefined {
    let m = this.#members.get(ref.id);
    if (!m) {
      m = newMember(ref.id, ref.gen, 0, addr, now, this.heartbeatMs, this.kv.ensure(ref));
      this.#add(m, now, fx);
    } else if (ref.gen < m.gen) {
      this.stats.count('stale-generation');
      return undefined;
    } else if (ref.gen > m.gen) {
      this.#restarted(m, ref.gen, 0, addr, now, fx);
    }
    m.addr = addr;
    m.lastDirect = now;
    return m;
  }

  #add(m: Member, now: number, fx: Effects): void {
    this.#members.set(m.id, m);
    this.#sortedIds = undefined;
    this.#present++;
    this.#view = (this.#view ^ memberHash(m.id, m.gen)) >>> 0;
    fx.emit({ type: 'member-joined', member: { id: m.id, gen: m.gen }, addr: m.addr });
  }

  #restarted(m: Member, gen: number, inc: number, addr: Address, now: number, fx: Effects): void {
    const previousGen = m.gen;
    const previous = m.status;
    if (isPresent(m)) this.#view = (this.#view ^ memberHash(m.id, m.gen)) >>> 0;
    else this.#present++;
    m.gen = gen;
    m.inc = inc;
    m.addr = addr;
    m.status = 'alive';
    m.statusSince = now;
    m.suspicion = undefined;
    m.heldAccusations = undefined;
    m.deadReports = 0;
    m.probe = undefined;
    m.hbSeq = 0;
    m.directSeq = 0;
    m.advertisedKvMax = 0;
    m.lastProgress = now;
    this.#view = (this.#view ^ memberHash(m.id, m.gen)) >>> 0;
    this.#broadcasts.cancel(`accuse:${m.id}`);
    // Everything the fleet remembers of the old life loses to the new one, key/values included.
    this.kv.drop(m.id);
    m.kv = this.kv.ensure(m);
    fx.emit({ type: 'member-restarted', member: { id: m.id, gen }, previousGen });
    if (previous !== 'alive') {
      fx.emit({ type: 'member-status', member: { id: m.id, gen }, status: 'alive', previous, sources: [] });
    }
  }

  #setStatus(m: Member, status: MemberStatus, now: number, fx: Effects, sources: readonly string[] = []): void {
    const previous = m.status;
    if (previous === status) return;
    const wasPresent = isPresent(m);
    m.status = status;
    m.statusSince = now;
    const present = isPresent(m);
    if (wasPresent && !present) {
      this.#present--;
      this.#view = (this.#view ^ memberHash(m.id, m.gen)) >>> 0;
    } else if (!wasPresent && present) {
      this.#present++;
      this.#view = (this.#view ^ memberHash(m.id, m.gen)) >>> 0;
    }
    if (status !== 'suspect') m.suspicion = undefined;
    if (status === 'alive') m.deadReports = 0;
    fx.emit({ type: 'member-status', member: { id: m.id, gen: m.gen }, status, previous, sources });
  }

  // ---------------------------------------------------------------- liveness

  #onHeartbeat(now: number, from: Address, hb: Heartbeat, fx: Effects): void {
    const m = this.#direct(now, hb.from, from, fx);
    if (!m || m.status === 'left') return;
    if (this.#multicast) {
      // A heartbeat addressed to us while we both use the group means the sender does not
      // hear our multicast: it asks us to heartbeat to it directly for a while.
      // Only a flagged heartbeat asks: one sent under a lease, or a refutation sent straight to
      // its accuser, must not, or two peers would keep renewing each other's lease forever.
      if (this.#rxMulticast) m.lastMulticast = now;
      else if (hb.unicastMe) m.unicastUntil = now + UNICAST_LEASE_INTERVALS * this.heartbeatMs;
    }
    if (hb.seq > m.directSeq) {
      // Without multicast a peer heartbeats to a random few, so gaps are not loss.
      if (m.directSeq > 0 && this.#multicast) this.#loss.record(hb.seq - m.directSeq);
      m.directSeq = hb.seq;
    }
    if (hb.seq > m.hbSeq) {
      m.hbSeq = hb.seq;
      this.#progress(m, now);
    }
    // Believed only within bounds: it paces silence thresholds (runtime/core/timing.ts).
    m.hbIntervalMs = advertisedIntervalMs(this.profile, this.#present + 1, hb.intervalMs);
    m.advertisedKvMax = hb.kvMax;
    m.view = hb.view;
    this.#heardFrom(m, hb.inc, now, fx);
    if (hb.kvMax > m.kv.max) this.#pull(m, now, fx);
  }

  /**
   * First-hand sign of life at incarnation `inc`. Clears our own suspicion; a member we hold
   * dead stays dead until it refutes with a higher incarnation, so we tell it.
   */
  #heardFrom(m: Member, inc: number, now: number, fx: Effects): void {
    if (m.status === 'dead') {
      if (inc > m.inc) {
        m.inc = inc;
        m.lastProgress = now;
        this.#setStatus(m, 'alive', now, fx);
      } else {
        this.#notify(m, MsgType.Dead, now, fx);
      }
      return;
    }
    if (inc > m.inc) {
      m.inc = inc;
      m.heldAccusations = undefined;
    }
    if (m.status === 'suspect') {
      this.#broadcasts.cancel(`accuse:${m.id}`);
      m.lastProgress = now;
      const stillAccused = m.suspicion !== undefined && inc <= m.suspicion.inc;
      this.#setStatus(m, 'alive', now, fx);
      // Others may still hold the accusation; only the member itself can clear it everywhere.
      if (stillAccused) this.#notify(m, MsgType.Suspect, now, fx);
    }
  }

  /** Tell a member (rate-limited) that we held it suspect or dead, so it refutes for everyone. */
  #notify(m: Member, type: typeof MsgType.Suspect | typeof MsgType.Dead, now: number, fx: Effects): void {
    if (now - m.lastNotified < this.profile.probeTimeoutMs * 5) return;
    m.lastNotified = now;
    const target = { id: m.id, gen: m.gen };
    fx.send(m.addr, [this.#accusation({ type, from: this.self, target, inc: m.inc })]);
  }

  #onPing(now: number, from: Address, p: Ping, fx: Effects): void {
    const m = this.#direct(now, p.from, from, fx);
    if (m) this.#heardFrom(m, m.inc, now, fx);
    if (p.target.id !== this.self.id) return;
    const ack: Ack = { type: MsgType.Ack, from: this.self, probe: p.probe, inc: this.#inc };
    fx.send(from, [ack]);
  }

  #onPingReq(now: number, from: Address, r: PingReq, fx: Effects): void {
    this.#direct(now, r.from, from, fx);
    if (r.target.id === this.self.id) {
      fx.send(from, [{ type: MsgType.Ack, from: this.self, probe: r.probe, inc: this.#inc }]);
      return;
    }
    this.#prober.relay(r, from, now, fx);
  }

  #probeAnswered(m: Member, a: Ack, now: number, fx: Effects): void {
    if (a.from.gen > m.gen) {
      this.#restarted(m, a.from.gen, a.inc, m.addr, now, fx);
      return;
    }
    m.lastProgress = now;
    this.#heardFrom(m, a.inc, now, fx);
  }

  #probeFailed(m: Member, now: number, fx: Effects): void {
    this.#accuse(m, this.self.id, now, fx);
    const s = m.suspicion;
    // Speak up only while the accusation is still news: once enough others have said it, one
    // more voice adds nothing but a multicast to every device (N accusers x N receivers).
    if (s?.sources.has(this.self.id) && s.sources.size <= this.profile.suspicionConfirmations) {
      const target = { id: m.id, gen: m.gen };
      const msg = this.#accusation<Suspect>({ type: MsgType.Suspect, from: this.self, target, inc: s.inc });
      this.#queue(`accuse:${m.id}`, msg, now, fx);
      fx.send(m.addr, [msg]);
    }
  }

  /** Record `source`'s accusation of `m`; the first one turns the member suspect. */
  #accuse(m: Member, source: string, now: number, fx: Effects): void {
    if (!isPresent(m)) return;
    if (!m.suspicion) {
      const sources = new Set([source]);
      // Accusations we held back earlier join in, if recent enough to be about this silence.
      for (const [id, at] of m.heldAccusations ?? []) if (now - at < this.profile.suspicionMaxMs) sources.add(id);
      m.heldAccusations = undefined;
      m.suspicion = { inc: m.inc, startedAt: now, sources };
      this.#setStatus(m, 'suspect', now, fx, [source]);
      this.stats.count('suspicions');
    } else {
      m.suspicion.sources.add(source);
    }
    this.#checkSuspicion(m, now, fx);
  }

  #checkSuspicion(m: Member, now: number, fx: Effects): void {
    const s = m.suspicion;
    if (!s || verdict(s, now, this.#bounds) !== 'dead') return;
    const sources = [...s.sources];
    this.#setStatus(m, 'dead', now, fx, sources);
    this.stats.count('declared-dead');
    if (s.sources.has(this.self.id) && this.#deadHeard(m) < this.profile.suspicionConfirmations) {
      // Our declaration counts as one independent source for everyone else, never as proof.
      const d = this.#accusation<Dead>({ type: MsgType.Dead, from: this.self, target: { id: m.id, gen: m.gen }, inc: s.inc });
      this.#queue(`accuse:${m.id}`, d, now, fx);
    } else {
      this.#broadcasts.cancel(`accuse:${m.id}`);
    }
  }

  #deadHeard(m: Member): number {
    return m.deadReports;
  }

  #onAccusation(now: number, from: Address, a: Suspect | Dead, fx: Effects): void {
    // Accusations are relayed without multicast, so the datagram's source need not be the
    // accuser: it says nothing about the accuser's address or liveness.
    if (a.target.id === this.self.id) {
      if (a.target.gen !== this.self.gen || this.#left) return;
      if (a.inc >= this.#inc) this.#refute(now, a, from, fx);
      // An accuser behind on our incarnation missed the refutation; show it our current one.
      else fx.send(from, [this.#heartbeat()]);
      return;
    }
    const m = this.#members.get(a.target.id);
    if (!m || m.gen !== a.target.gen || a.inc < m.inc) return;
    if (a.type === MsgType.Dead) m.deadReports++;
    if (!isPresent(m)) return;
    const isNewHeld = !m.heldAccusations?.has(a.from.id) && !m.suspicion?.sources.has(a.from.id);
    // First-hand evidence beats hearsay: if we heard the member recently, the accuser is the one
    // with the bad link, and we will not add to the pile.
    const fresh = (this.#silenceThreshold(m) * 0.5);
    if (now - m.lastDirect < fresh) {
      this.stats.count('accusations-held');
      (m.heldAccusations ??= new Map()).set(a.from.id, now);
      // Without multicast, "heard recently" means one of a few random heartbeats in the last
      // seconds: weak evidence. Check now instead of waiting for our own silence threshold; if
      // the probe fails, the held accusation counts with ours.
      if (!this.#multicast && m.probe === undefined) this.#prober.start(m, now, fx);
      if (isNewHeld && !this.#multicast) this.#relay(`relay-accuse:${m.id}:${a.from.id}`, a, now, fx);
      return;
    }
    const isNew = !m.suspicion?.sources.has(a.from.id);
    this.#accuse(m, a.from.id, now, fx);
    // See for ourselves: our own failed probe is what makes us a second source.
    if (m.status === 'suspect' && m.probe === undefined && !m.suspicion?.sources.has(this.self.id)) {
      this.#prober.start(m, now, fx);
    }
    if (isNew && !this.#multicast) this.#relay(`relay-accuse:${m.id}:${a.from.id}`, a, now, fx);
  }

  #refute(now: number, a: Suspect | Dead, from: Address, fx: Effects): void {
    this.#inc = a.inc + 1;
    this.#awareness.apply(1);
    this.stats.count('refutations');
    fx.emit({ type: 'suspected-self', by: a.from, inc: a.inc });
    const hb = this.#heartbeat();
    this.#sendHeartbeat(hb, now, fx);
    fx.send(from, [hb]);
    // Without multicast a refutation would spread only by gossip, slower than the accusers'
    // suspicion runs out at high loss: tell everyone directly. Refutations are rare events.
    if (!this.#multicast) {
      for (const m of this.#members.values()) if (m.status === 'alive' || m.status === 'suspect') if (m.addr !== from) fx.send(m.addr, [hb]);
    }
  }

  #onLeave(now: number, from: Address, l: Leave, fx: Effects): void {
    const m = this.#members.get(l.from.id);
    if (!m || l.from.gen < m.gen) return;
    // Relayed too: `from` may be a relayer's address, so keep the one we have.
    if (l.from.gen > m.gen) this.#restarted(m, l.from.gen, l.inc, m.addr, now, fx);
    if (m.status === 'left') return;
    m.inc = Math.max(m.inc, l.inc);
    this.#setStatus(m, 'left', now, fx, [m.id]);
    if (!this.#multicast) this.#relay(`relay-leave:${m.id}`, l, now, fx);
  }

  // ---------------------------------------------------------------- state

  #onDelta(now: number, from: Address, d: Delta, fx: Effects): void {
    if (d.owner.id === this.self.id) return; // only we speak for our own keys
    if (d.from.id === d.owner.id) {
      if (!this.#direct(now, d.from, from, fx)) return;
    } else {
      this.#direct(now, d.from, from, fx);
    }
    const m = this.#members.get(d.owner.id);
    if (!m || m.gen !== d.owner.gen) return;
    const applied: Applied[] = [];
    this.kv.apply(d.owner, d, now, applied);
    if (applied.length === 0) return;
    this.stats.count('kv-applied', applied.length);
    for (const a of applied) this.#emitKv(d.owner, a, fx);
    if (!this.#multicast) this.#relay(`relay-kv:${d.owner.id}:${d.toV}`, { ...d, from: this.self }, now, fx);
  }

  #emitKv(owner: NodeRef, a: Applied, fx: Effects): void {
    fx.emit({ type: 'kv-changed', owner, key: a.key, value: a.value, version: a.version });
  }

  /** Repeat our own fresh changes; each new change restarts the schedule for everything still fresh. */
  #announceOwn(now: number, fx: Effects): void {
    const own = this.kv.owner(this.self.id)!;
    if (!this.#hasOwnFresh()) this.#ownFreshBase = own.max - 1;
    const chunks = this.kv.deltaFor(this.self.id, this.#ownFreshBase, this.#entryBudget(), kvEntrySize, 8);
    chunks.forEach((c, i) => {
      const d: Delta = { type: MsgType.Delta, from: this.self, owner: this.self, ...c };
      this.#queue(`own-kv:${i}`, d, now, fx, repeatsFor(this.#loss.loss, this.profile.repeatOffsetsMs.length));
    });
  }

  #hasOwnFresh(): boolean {
    return this.#broadcasts.has('own-kv:0');
  }

  /** Ask an owner directly for what we lack, at most once per probe timeout. */
  #pull(m: Member, now: number, fx: Effects): void {
    if (now - m.lastPull < this.profile.probeTimeoutMs || !isPresent(m)) return;
    m.lastPull = now;
    this.stats.count('pulls');
    const entry = this.#entryOf(m);
    const d: Digest = { type: MsgType.Digest, from: this.self, lo: m.id, hi: m.id, reply: false, entries: [entry] };
    fx.send(m.addr, [d]);
  }

  // ---------------------------------------------------------------- anti-entropy

  #entryOf(m: Member): DigestEntry {
    const kvMax = m.kv.gen === m.gen ? m.kv.max : 0;
    return { id: m.id, gen: m.gen, inc: m.inc, status: m.status, hb: m.hbSeq, kvMax, addr: m.addr };
  }

  #selfEntry(): DigestEntry {
    return {
      id: this.self.id,
      gen: this.self.gen,
      inc: this.#inc,
      status: this.#left ? 'left' : 'alive',
      hb: this.#seq,
      kvMax: this.kv.maxVersion(this.self.id),
      addr: this.#addr,
    };
  }

  #sorted(): NodeId[] {
    if (!this.#sortedIds) {
      this.#sortedIds = [this.self.id, ...this.#members.keys()].sort();
    }
    return this.#sortedIds;
  }

  #antiEntropyRound(now: number, fx: Effects): void {
    if (this.#left) return;
    this.#aeRound++;
    // Prefer a peer whose view differs from ours. Sampling a few members keeps a round O(1)
    // in fleet size; a persistent difference is found within a few rounds anyway.
    const ids = this.#sorted();
    let peer: Member | undefined;
    for (let i = 0; i < AE_SAMPLE && ids.length > 1; i++) {
      const m = this.#members.get(ids[Math.floor(this.#rng.next() * ids.length)]!);
      if (m && isPresent(m) && m.view !== this.#view) {
        peer = m;
        break;
      }
    }
    if (!peer && (!this.#multicast || this.#aeRound % this.profile.fullSyncEvery === 0)) peer = this.#randomPresent(1)[0];
    if (!peer) {
      if (this.#present === 0) this.#contactSeeds(now, fx);
      return;
    }
    fx.send(peer.addr, [this.#digestSlice(true)]);
    this.stats.count('digests-sent');
  }

  /** The next slice of our view that fits one datagram, continuing where the last round stopped. */
  #digestSlice(reply: boolean): Digest {
    const ids = this.#sorted();
    if (this.#aeCursor >= ids.length) this.#aeCursor = 0;
    const { entries, next } = fillDigest(ids, this.#aeCursor, (id) => this.#entryById(id), this.#digestBudget());
    this.#aeCursor = next;
    const lo = entries[0]?.id ?? this.self.id;
    const hi = entries[entries.length - 1]?.id ?? this.self.id;
    return { type: MsgType.Digest, from: this.self, lo, hi, reply, entries };
  }

  #entryById(id: NodeId): DigestEntry {
    return id === this.self.id ? this.#selfEntry() : this.#entryOf(this.#members.get(id)!);
  }

  #digestBudget(): number {
    return this.profile.datagramBudget - 1 - DIGEST_OVERHEAD;
  }


  #onDigest(now: number, from: Address, d: Digest, fx: Effects): void {
    const newcomer = !this.#members.has(d.from.id);
    const sender = this.#direct(now, d.from, from, fx);
    if (sender) this.#heardFrom(sender, sender.inc, now, fx);
    const want: DigestEntry[] = [];
    const tell: DigestEntry[] = [];
    const deltas: Delta[] = [];
    const listed = new Set<NodeId>();
    let chunks = 0;
    const sendDelta = (owner: NodeRef, fromV: number): void => {
      if (chunks >= MAX_DELTA_CHUNKS) return;
      for (const c of this.kv.deltaFor(owner.id, fromV, this.#entryBudget(), kvEntrySize, MAX_DELTA_CHUNKS - chunks)) {
        deltas.push({ type: MsgType.Delta, from: this.self, owner, ...c });
        chunks++;
      }
    };
    for (const e of d.entries) {
      listed.add(e.id);
      if (e.id === this.self.id) {
        if (e.gen === this.self.gen && (e.status === 'suspect' || e.status === 'dead') && e.inc >= this.#inc && !this.#left) {
          this.#refute(now, { type: MsgType.Suspect, from: d.from, target: this.self, inc: e.inc }, from, fx);
        }
        if (e.gen < this.self.gen) tell.push(this.#selfEntry());
        const mine = this.kv.maxVersion(this.self.id);
        if (e.gen === this.self.gen && e.kvMax < mine) sendDelta(this.self, e.kvMax);
        continue;
      }
      const m = this.#learn(now, e, fx);
      if (!m) continue;
      if (e.gen < m.gen || e.inc < m.inc || (m.status === 'left' && e.status !== 'left')) tell.push(this.#entryOf(m));
      if (e.gen !== m.gen) continue;
      const mine = m.kv.max;
      if (mine > e.kvMax) sendDelta({ id: m.id, gen: m.gen }, e.kvMax);
      else if (mine < e.kvMax) want.push(this.#entryOf(m));
    }
    // Members inside a full slice's range that the sender did not list: it has never heard of
    // them. Only slices (reply=true) list every member in range; replies and pulls do not.
    for (const id of d.reply ? this.#sorted() : []) {
      if (id < d.lo || id > d.hi || listed.has(id) || id === d.from.id) continue;
      const e = this.#entryById(id);
      if (e.status === 'alive' || e.status === 'suspect' || e.status === 'left') tell.push(e);
    }
    for (const batch of packDatagrams(deltas, this.profile.datagramBudget - 1, this.#size)) fx.send(from, batch);
    if (want.length > 0 || tell.length > 0) {
      const reply = [...want, ...tell];
      const { entries } = fillDigest(reply, 0, (e) => e, this.#digestBudget());
      fx.send(from, [{ type: MsgType.Digest, from: this.self, lo: d.lo, hi: d.hi, reply: false, entries }]);
    }
    // A stranger asking for a reply is joining through us (we are its seed): hand it our whole
    // view now instead of letting it discover the fleet one anti-entropy slice at a time.
    if (newcomer && d.reply) {
      for (const slice of this.#wholeView(JOIN_VIEW_DATAGRAMS)) fx.send(from, [slice]);
    }
  }

  /** Our view as consecutive digest slices, at most `max` datagrams' worth. */
  #wholeView(max: number): Digest[] {
    const ids = this.#sorted();
    const out: Digest[] = [];
    let i = 0;
    while (i < ids.length && out.length < max) {
      // The dead are left out: a joiner has no use for them.
      const { entries, next } = fillDigest(ids, i, (id) => {
        const e = this.#entryById(id);
        return e.status === 'dead' ? undefined : e;
      }, this.#digestBudget());
      i = next;
      if (entries.length === 0) break;
      out.push({ type: MsgType.Digest, from: this.self, lo: entries[0]!.id, hi: entries[entries.length - 1]!.id, reply: false, entries });
    }
    return out;
  }


  /**
   * Take in what a digest entry says about a member: a member we never heard of, a restart,
   * a refutation, a goodbye, or heartbeat progress relayed second-hand. Accusations are never
   * taken from digests: those travel only as Suspect/Dead messages that name their source.
   */
  #learn(now: number, e: DigestEntry, fx: Effects): Member | undefined {
    let m = this.#members.get(e.id);
    if (!m) {
      if (e.status !== 'alive' && e.status !== 'suspect') return undefined;
      m = newMember(e.id, e.gen, e.inc, e.addr, now, this.heartbeatMs, this.kv.ensure(e));
      m.hbSeq = e.hb;
      this.#add(m, now, fx);
      return m;
    }
    if (e.gen < m.gen) return m;
    if (e.gen > m.gen) {
      if (e.status !== 'alive' && e.status !== 'suspect') return m;
      this.#restarted(m, e.gen, e.inc, e.addr, now, fx);
      m.hbSeq = e.hb;
      return m;
    }
    if (e.status === 'left' && m.status !== 'left') {
      m.inc = Math.max(m.inc, e.inc);
      this.#setStatus(m, 'left', now, fx, [m.id]);
      return m;
    }
    if (e.inc > m.inc && e.status === 'alive') {
      m.inc = e.inc;
      m.heldAccusations = undefined;
      if (m.status === 'suspect' || m.status === 'dead') {
        this.#broadcasts.cancel(`accuse:${m.id}`);
        m.lastProgress = now;
        this.#setStatus(m, 'alive', now, fx);
      }
    }
    if (e.hb > m.hbSeq) {
      m.hbSeq = e.hb;
      if (isPresent(m)) this.#progress(m, now);
    }
    return m;
  }

  // ---------------------------------------------------------------- periodic work

  #heartbeat(): Heartbeat {
    return {
      type: MsgType.Heartbeat,
      from: this.self,
      inc: this.#inc,
      seq: ++this.#seq,
      intervalMs: this.heartbeatMs,
      kvMax: this.kv.maxVersion(this.self.id),
      view: this.#view,
    };
  }

  #onHeartbeatTimer(now: number, fx: Effects): void {
    if (this.#left) return;
    this.#sendHeartbeat(this.#heartbeat(), now, fx);
    const interval = this.heartbeatMs;
    // Start-up heartbeats come at a random fraction of the interval: faster convergence, and
    // a fleet powered on by one switch does not stay phase-locked in synchronized waves.
    const next = this.#burst-- > 0 ? Math.max(20, Math.floor(interval * (0.15 + 0.3 * this.#rng.next()))) : jittered(interval, 0.1, this.#rng.next());
    this.#hbDue = now + next;
    fx.setTimer(this.#hbDue, { kind: 'heartbeat' });
  }

  /** Heartbeat to the group (or a few peers), carrying any news that is nearly due anyway. */
  #sendHeartbeat(hb: Heartbeat, now: number, fx: Effects): void {
    // Sized with the unicast flag, which a copy of this heartbeat may carry.
    const budget = this.profile.datagramBudget - 1 - this.#size({ ...hb, unicastMe: true });
    const news = this.#broadcasts.take(now, 20, budget);
    const msgs = [...news, hb];
    if (this.#multicast) {
      fx.send(MULTICAST, msgs);
      const deaf = this.#findUnicastExtras(now);
      if (this.#unicastExtras.length > 0) {
        const asking = [...news, { ...hb, unicastMe: true }];
        for (const m of this.#unicastExtras) fx.send(m.addr, deaf.has(m) ? asking : msgs);
      }
    } else {
      const peers = this.#randomPresent(this.profile.unicastFanout);
      for (const p of peers) fx.send(p.addr, msgs);
      if (peers.length === 0) for (const s of this.#seeds) fx.send(s, msgs);
    }
    this.#scheduleFlush(now, fx);
  }

  /**
   * Members to reach by unicast as well as the group, kept in #unicastExtras for the flushes
   * too: those whose multicast has stopped reaching us, and those that asked us. Returns the
   * former, whose copy of the heartbeat asks them to do the same.
   */
  #findUnicastExtras(now: number): Set<Member> {
    const out: Member[] = [];
    const deafSet = new Set<Member>();
    const intervals = silenceIntervals(this.profile, this.#loss.loss) + DEAF_EXTRA_INTERVALS;
    const own = this.heartbeatMs;
    for (const m of this.#members.values()) {
      if (m.status !== 'alive' && m.status !== 'suspect') continue;
      const deaf = now - m.lastMulticast > intervals * Math.max(own, m.hbIntervalMs);
      if (deaf) deafSet.add(m);
      if (deaf || m.unicastUntil > now) out.push(m);
    }
    if (out.length > 0) this.stats.count('unicast-fallback-peers', out.length);
    this.#unicastExtras = out;
    return deafSet;
  }

  #contactSeeds(now: number, fx: Effects): void {
    if (this.#seeds.length === 0 || this.#left) return;
    const digest: Digest = {
      type: MsgType.Digest,
      from: this.self,
      lo: this.self.id,
      hi: this.self.id,
      reply: true,
      entries: [this.#selfEntry()],
    };
    for (const s of this.#seeds) if (s !== this.#addr) fx.send(s, [digest]);
  }

  #sweepInterval(): number {
    return Math.min(500, Math.max(50, Math.floor(this.heartbeatMs / 4)));
  }

  /** The member's heartbeat counter advanced: reset its silence, and learn how often that happens. */
  #progress(m: Member, now: number): void {
    const gap = now - m.lastProgress;
    if (gap > 0) m.progressGapMs = m.progressGapMs * 0.8 + gap * 0.2;
    m.lastProgress = now;
  }

  /** How long `m` may be silent before we probe it. */
  #silenceThreshold(m: Member): number {
    const k = silenceIntervals(this.profile, this.#loss.loss);
    // The member's advertised interval can be stale while the fleet grows (intervals lengthen
    // with fleet size), so never expect heartbeats faster than our own interval for this fleet.
    const interval = Math.max(m.hbIntervalMs, this.heartbeatMs);
    const expected = this.#multicast
      ? interval
      : // Without multicast, news of a member's heartbeats arrives at random, first- or
        // second-hand; expect it as often as it has been arriving, never faster than it beats.
        Math.max(interval, m.progressGapMs);
    // Not scaled by local health: measured loss already lengthens k, and Lifeguard's health
    // multiplier belongs on probe timeouts. Scaling both made a node that had been suspected
    // itself take three times longer than its peers to notice a real death.
    return k * expected;
  }

  #sweep(now: number, fx: Effects): void {
    // Computed once per sweep: this loop visits every member several times a second.
    const k = silenceIntervals(this.profile, this.#loss.loss);
    const ownInterval = this.heartbeatMs;
    for (const m of this.#members.values()) {
      if (m.status !== 'alive' && m.status !== 'suspect') continue;
      if (m.suspicion) {
        this.#checkSuspicion(m, now, fx);
        if (m.status !== 'suspect') continue;
      }
      if (!this.#multicast) {
        // Our own accusation stands on one failed probe, which is weak evidence at high loss:
        // keep checking while the suspicion runs. One answer clears it.
        if (m.status === 'suspect' && m.probe === undefined && now - m.lastProbeAt >= this.profile.probeIntervalMs) {
          this.#prober.start(m, now, fx);
        }
        continue;
      }
      if (m.probe !== undefined || now < this.#stalledUntil) continue;
      if (m.suspicion?.sources.has(this.self.id)) continue;
      const threshold = k * Math.max(m.hbIntervalMs, ownInterval);
      if (now - m.lastProgress > threshold) this.#prober.start(m, now, fx);
    }
    if (!this.#multicast && now >= this.#prober.nextRoundAt) this.#prober.round(now, fx);
  }

  #gc(now: number, fx: Effects): void {
    this.#loss.decay(0.9);
    const expired: string[] = [];
    this.kv.sweepOwner(this.self.id, true, now, this.profile.tombstoneRetentionMs, expired);
    for (const key of expired) this.delete(now, key, fx);
    // Retention is measured in minutes: scanning every member and replica each second is waste.
    const ticks = ++this.#gcTicks;
    if (ticks % REPLICA_GC_EVERY === 0) {
      for (const [id] of this.kv.owners()) {
        if (id !== this.self.id) this.kv.sweepOwner(id, false, now, this.profile.tombstoneRetentionMs, expired);
      }
    }
    if (ticks % MEMBER_GC_EVERY !== 0) return;
    for (const m of [...this.#members.values()]) {
      if ((m.status === 'dead' || m.status === 'left') && now - m.statusSince >= this.profile.deadRetentionMs) {
        this.#members.delete(m.id);
        this.#sortedIds = undefined;
        this.kv.drop(m.id);
        fx.emit({ type: 'member-removed', member: { id: m.id, gen: m.gen } });
      }
    }
  }

  // ---------------------------------------------------------------- dissemination plumbing

  #queue(subject: string, msg: Message, now: number, fx: Effects, repeats?: number): void {
    this.#broadcasts.add(subject, msg, this.#size(msg), now, repeats);
    this.#scheduleFlush(now, fx);
  }

  /** Without multicast, news spreads epidemically: whoever learns something new passes it on a couple of times. */
  #relay(subject: string, msg: Message, now: number, fx: Effects): void {
    this.#queue(subject, msg, now, fx, 2);
  }

  #scheduleFlush(now: number, fx: Effects): void {
    const due = this.#broadcasts.nextDue();
    if (due === undefined) return;
    const at = Math.max(now, due);
    if (at >= this.#flushDue && this.#flushDue > now) return;
    this.#flushDue = at;
    fx.setTimer(at, { kind: 'flush' });
  }

  #flush(now: number, fx: Effects): void {
    const budget = this.profile.datagramBudget - 1;
    for (;;) {
      const msgs = this.#broadcasts.take(now, 5, budget);
      if (msgs.length === 0) break;
      if (this.#multicast) {
        fx.send(MULTICAST, msgs);
        for (const m of this.#unicastExtras) if (isPresent(m)) fx.send(m.addr, msgs);
      } else for (const p of this.#randomPresent(this.profile.unicastFanout)) fx.send(p.addr, msgs);
      if (!this.#broadcasts.hasDue(now, 5)) break;
    }
    this.#scheduleFlush(now, fx);
  }

  #randomPresent(count: number, exclude?: NodeId): Member[] {
    const pool: Member[] = [];
    for (const m of this.#members.values()) if (isPresent(m) && m.id !== exclude && m.status === 'alive') pool.push(m);
    // Partial Fisher-Yates: only the first `count` positions need shuffling.
    const n = Math.min(count, pool.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.#rng.next() * (pool.length - i));
      const t = pool[i]!;
      pool[i] = pool[j]!;
      pool[j] = t;
    }
    return pool.slice(0, n);
  }

  #entryBudget(): number {
    return this.profile.datagramBudget - 1 - DELTA_OVERHEAD;
  }


}
