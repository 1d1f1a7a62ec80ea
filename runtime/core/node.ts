// The murmur protocol core: one node's state machine. Sans-IO: every entry point takes "now"
// and an Effects sink; it never reads a clock, a socket or a random source of its own.
//
// How the pieces fit (see README "Protocol"), one file each:
// - membership.ts: the member table and the view hash.
// - liveness.ts: each node heartbeats (multicast when it can). Silence longer than k intervals,
//   k chosen from measured loss, starts a SWIM probe (probing.ts): direct pings, then indirect.
// - accusations.ts: a failed probe is this node's accusation. Others collect accusations as
//   independent sources; dead needs two sources plus a Lifeguard timeout, or the maximum
//   timeout unrefuted (suspicion.ts). Any first-hand sign of life clears a suspicion; the
//   accused refutes by bumping its incarnation.
// - state-gossip.ts, anti-entropy.ts: per-owner versioned key/values, fresh changes repeated a
//   few times (dissemination.ts), the rest repaired by scuttlebutt anti-entropy (digests and
//   deltas) with peers whose view hash differs.
// - spreading.ts: with the multicast group or without it (multicast-fallback.ts for peers
//   the group does not reach).
// - periodic.ts: the timers. timing.ts: every timing formula. node-state.ts: what they share.
// This file builds the state and holds the entry points and the dispatch.

import { accusationIsNews, onAccusation, probeFailed, suspicionOf } from './accusations.js';
import { onDigest } from './anti-entropy.js';
import { Awareness } from './awareness.js';
import { Broadcasts } from './broadcasts.js';
import { queue } from './dissemination.js';
import type { Effects, MessageSize, Rng, TimerToken } from './effects.js';
import { KvStore, type LiveValue } from './kv-store.js';
import { onHeartbeat, onPing, onPingReq, probeAnswered, silenceThreshold } from './liveness.js';
import { LossEstimator } from './loss-estimator.js';
import { isPresent, viewOf, type Member, type MemberView } from './member.js';
import { isDeaf } from './multicast-fallback.js';
import { reliabilityOf } from './reliability.js';
import { heartbeatMs, memberIntervalMs, onLeave, randomPresent, stallSlack, statusOf } from './membership.js';
import {
  MsgType,
  type Address,
  type Dead,
  type KvEntry,
  type Leave,
  type MemberStatus,
  type Message,
  type NodeId,
  type NodeRef,
  type Query,
  type QueryReply,
  type ReplyStatus,
  type Suspect,
  type Value,
} from './messages.js';
import type { NodeState } from './node-state.js';
import { noteStall, onTimer, startTimers, stopOwnTimers } from './periodic.js';
import { Prober } from './probing.js';
import type { Profile } from './profiles.js';
import { QueryBook } from './queries.js';
import { MulticastSpreading, probeSilenceMs, UnicastSpreading } from './spreading.js';
import { deleteOwn, onDelta, writeOwn } from './state-gossip.js';
import { NodeStats } from './stats.js';
import { memberHash } from './view-hash.js';

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
  query?(q: Query): Uint8Array;
  queryReply?(r: QueryReply): Uint8Array;
}

export class Node {
  readonly self: NodeRef;
  readonly profile: Profile;
  readonly stats: NodeStats;
  readonly #s: NodeState;
  readonly #queries = new QueryBook();

  constructor(opts: NodeOptions) {
    if (!Number.isSafeInteger(opts.gen) || opts.gen < 1) {
      throw new Error(`node ${opts.id}: generation must be a positive integer from the boot counter, got ${opts.gen}`);
    }
    const self = { id: opts.id, gen: opts.gen };
    const profile = opts.profile;
    const stats = new NodeStats();
    const awareness = new Awareness(profile.awarenessMax);
    const spreading = opts.multicast ? new MulticastSpreading(profile) : new UnicastSpreading(profile);
    const s: NodeState = {
      self,
      addr: opts.addr,
      profile,
      stats,
      // Caps per owner, the same at every replica: see Profile.ownerMaxKeys.
      kv: new KvStore({ maxKeys: profile.ownerMaxKeys, maxBytes: profile.ownerMaxBytes }),
      rng: opts.rng,
      size: opts.size,
      seeds: opts.seeds ?? [],
      signer: opts.signer,
      spreading,
      bounds: {
        minMs: spreading.suspicionMinMs,
        maxMs: profile.suspicionMaxMs,
        expectedConfirmations: profile.suspicionConfirmations,
      },
      broadcasts: new Broadcasts(profile.repeatOffsetsMs),
      loss: new LossEstimator(profile),
      awareness,
      prober: new Prober({
        self,
        profile,
        stats,
        awareness,
        rng: opts.rng,
        // Without multicast no loss is measured (the estimate stays at its prior): probes keep
        // the profile's counts there.
        loss: () => (s.spreading.gapsAreLoss ? s.loss.loss : 0),
        member: (id) => s.members.get(id),
        members: () => s.members.values(),
        randomPresent: (count, exclude) => randomPresent(s, count, exclude),
        answered: (m, a, now, fx) => probeAnswered(s, m, a, now, fx),
        failed: (m, now, fx) => probeFailed(s, m, now, fx),
      }),
      inc: 0,
      seq: 0,
      replySeqAt: -Infinity,
      running: false,
      left: false,
      members: new Map<NodeId, Member>(),
      sortedIds: undefined,
      present: 0,
      view: memberHash(self.id, self.gen),
      burst: profile.joinBurstHeartbeats,
      aeRound: 0,
      gcTicks: 0,
      aeCursor: 0,
      ownFreshBase: 0,
      hbDue: Infinity,
      sweepDue: Infinity,
      aeDue: Infinity,
      gcDue: Infinity,
      flushDue: Infinity,
      stalledUntil: -Infinity,
      listeningSince: -Infinity,
      recentStalls: [],
      joinEndedAt: -Infinity,
      joining: undefined,
      heardAgainAt: -Infinity,
      lastHeardAny: -Infinity,
      deafToAllSince: undefined,
      rxMulticast: true,
      rxSourceIsAddress: true,
    };
    s.kv.ensure(self);
    this.#s = s;
    this.self = self;
    this.profile = profile;
    this.stats = stats;
  }

  // ---------------------------------------------------------------- queries

  /** The unicast address this node advertises for itself. */
  get addr(): Address {
    return this.#s.addr;
  }

  /**
   * The host's address changed (DHCP, Wi-Fi roaming, an interface that came up late). Peers
   * that hear us directly learn it from the datagrams; this fixes what we tell them second-hand.
   */
  readdress(addr: Address): void {
    this.#s.addr = addr;
  }

  /** The address this node holds for member `id`. */
  addrOf(id: NodeId): Address | undefined {
    return this.#s.members.get(id)?.addr;
  }

  /** The unicast addresses this node contacts while it knows nobody. */
  get seeds(): readonly Address[] {
    return this.#s.seeds;
  }

  /**
   * Replace the seed addresses: the host resolves seed names (DNS, mDNS) and addresses change.
   * The next contact with the seeds (at the next anti-entropy round while alone) uses these.
   */
  reseed(seeds: readonly Address[]): void {
    this.#s.seeds = [...seeds];
  }

  get incarnation(): number {
    return this.#s.inc;
  }
  get heartbeatMs(): number {
    return heartbeatMs(this.#s);
  }
  get measuredLoss(): number {
    return this.#s.loss.loss;
  }
  get health(): number {
    return this.#s.awareness.score;
  }
  /** The heartbeat interval this node asks members to allow for its stalls or its join (ms); 0 when none. */
  get stallSlackMs(): number {
    return stallSlack(this.#s);
  }
  /** Whether this node is still joining: it started, or met a new member, lately (profiles.ts joinQuietMs). */
  get joining(): boolean {
    return this.#s.joining !== undefined;
  }
  get viewHash(): number {
    return this.#s.view;
  }
  /** Members currently alive or suspect, not counting this node. */
  get presentCount(): number {
    return this.#s.present;
  }

  /** A snapshot of what this node knows of member `id` (never this node itself). */
  member(id: NodeId): MemberView | undefined {
    const m = this.#s.members.get(id);
    return m && viewOf(m);
  }

  /** Snapshots of every member in the table, whatever its status, this node excluded. */
  members(): MemberView[] {
    return Array.from(this.#s.members.values(), viewOf);
  }

  /** Whether `id` is in this node's member table, in any status (this node itself is not). */
  isKnown(id: NodeId): boolean {
    return this.#s.members.has(id);
  }

  /**
   * Why this node holds `id` suspect, for operators: who accused it (this node's id among them
   * once its own probe failed), how many confirmations that makes, and how long until the
   * suspicion runs out unrefuted (it can shrink as more accusers agree).
   */
  suspicionOf(id: NodeId, now: number): { accusers: string[]; confirmations: number; msLeft: number; sinceMs: number } | undefined {
    return suspicionOf(this.#s, id, now);
  }

  /**
   * Why this node holds `id` unreliable, for operators: the longest silence it came back from,
   * how long it has been back, how long it stays unreliable at least, and the fraction of its
   * heartbeats that reach this node against the fleet's. Undefined unless it is unreliable.
   */
  reliabilityOf(id: NodeId, now: number): { outageMs: number; backForMs: number; holdMsLeft: number; delivery: number; fleetDelivery: number } | undefined {
    const m = this.#s.members.get(id);
    return m && reliabilityOf(this.#s, m, now, memberIntervalMs(this.#s, m));
  }

  /**
   * How the multicast group carries traffic between this node and `id` (undefined without the
   * group, or for a member not present): whether its group traffic stopped reaching us (we then
   * heartbeat to it directly and ask it to do the same), and whether it asked us for direct
   * heartbeats because ours stopped reaching it.
   */
  groupPathOf(id: NodeId, now: number): { groupSilentMs: number; notHeardOnGroup: boolean; doesNotHearUs: boolean } | undefined {
    const m = this.#s.members.get(id);
    if (!m || !(this.#s.spreading instanceof MulticastSpreading) || !isPresent(m)) return undefined;
    return { groupSilentMs: now - m.lastMulticast, notHeardOnGroup: isDeaf(this.#s, m, now), doesNotHearUs: m.unicastUntil > now };
  }

  /**
   * How much silence of `id` this node allows before it probes: the interval it expects between
   * its heartbeats (what it advertised, slack for its join or its stalls included; never less
   * than ours), ours, and the silence that makes it probe. Only with multicast, where silence
   * is what starts a probe.
   */
  silenceAllowedOf(id: NodeId): { intervalMs: number; fleetIntervalMs: number; silenceMs: number } | undefined {
    const m = this.#s.members.get(id);
    if (!m || !(this.#s.spreading instanceof MulticastSpreading) || !isPresent(m)) return undefined;
    const intervalMs = memberIntervalMs(this.#s, m);
    return { intervalMs, fleetIntervalMs: heartbeatMs(this.#s), silenceMs: Math.round(probeSilenceMs(this.#s, silenceThreshold(this.#s, m), intervalMs)) };
  }

  statusOf(id: NodeId): MemberStatus | undefined {
    return statusOf(this.#s, id);
  }

  /**
   * Would an accusation change anything here? False when the target is unknown, in another life,
   * past that incarnation, no longer present, or already accused by this accuser. The host skips
   * checking the signature of accusations the core ignores anyway.
   */
  accusationIsNews(a: Suspect | Dead): boolean {
    return accusationIsNews(this.#s, a);
  }

  get(ownerId: NodeId, key: string, now: number): Value | undefined {
    return this.#s.kv.get(ownerId, key, now)?.value ?? undefined;
  }

  /** One key of an owner, when it holds a value: not deleted, not expired. */
  liveValue(ownerId: NodeId, key: string, now: number): LiveValue | undefined {
    const e = this.#s.kv.get(ownerId, key, now);
    if (!e || e.value === null) return undefined;
    return Object.freeze({ value: e.value, version: e.version, ttlMs: e.ttlMs, at: e.at });
  }

  /** Every key of an owner that holds a value (empty for an owner we hold nothing of). */
  liveValues(ownerId: NodeId, now: number): Map<string, LiveValue> {
    const out = new Map<string, LiveValue>();
    for (const key of this.#s.kv.owner(ownerId)?.entries.keys() ?? []) {
      const v = this.liveValue(ownerId, key, now);
      if (v) out.set(key, v);
    }
    return out;
  }

  /** The version held for `key` of this owner's life, tombstones included, if any. */
  heldVersion(owner: NodeRef, key: string): number | undefined {
    return this.#s.kv.heldVersion(owner, key);
  }

  /** The highest version held of this owner's life (0 when none). */
  highestHeld(owner: NodeRef): number {
    return this.#s.kv.highestHeld(owner);
  }

  /** How much this node holds of an owner's keys (tombstones included), for the per-owner caps. */
  holdingOf(ownerId: NodeId): { entries: number; bytes: number } | undefined {
    const o = this.#s.kv.owner(ownerId);
    return o ? { entries: o.entries.size, bytes: o.bytes } : undefined;
  }

  /** Key/value entries refused because their owner was at its cap of keys or bytes. */
  get ownerCapRefused(): number {
    return this.#s.kv.ownerCapRefused;
  }

  /** Whether any key/value state of the owner is kept here, values or tombstones (its replica is dropped with the member). */
  holdsStateOf(ownerId: NodeId): boolean {
    return this.#s.kv.owner(ownerId) !== undefined;
  }

  /** Has this node not heard this query yet? The host checks signatures only of those. */
  queryIsNews(q: Query): boolean {
    return this.#queries.queryIsNews(q);
  }

  /** Would this reply be news to one of this node's queries? The host checks signatures only of those. */
  queryReplyIsNews(r: QueryReply): boolean {
    return this.#queries.replyIsNews(this.#s, r);
  }

  /** This node's queries still waiting for their deadline. */
  get queriesOutstanding(): number {
    return this.#queries.outstanding;
  }

  // ---------------------------------------------------------------- entry points

  start(now: number, fx: Effects): void {
    if (this.#s.running) return;
    this.#s.running = true;
    startTimers(this.#s, now, fx);
  }

  /**
   * Handle one datagram's messages. `viaMulticast` says whether it arrived through the group
   * (true) or was addressed to this node (false); it drives the per-peer multicast fallback.
   * `sourceIsAddress` false: `from` is where to answer, but not evidence of where the sender
   * is, so members keep the addresses they have (runtime/crypto/addressing.ts says which).
   */
  receive(now: number, from: Address, msgs: readonly Message[], fx: Effects, viaMulticast = true, sourceIsAddress = true): void {
    if (!this.#s.running) return;
    // A sweep overdue by a stall means these datagrams may be a backlog read late (the host
    // reads before it runs late timers): note the stall before they are acted on.
    noteStall(this.#s, now, this.#s.sweepDue);
    this.#s.rxMulticast = viaMulticast;
    this.#s.rxSourceIsAddress = sourceIsAddress;
    // Deltas first, then the rest: a heartbeat in the same datagram must not trigger a pull
    // for what the datagram itself carries.
    for (const m of msgs) if (m.type === MsgType.Delta) this.#dispatch(now, from, m, fx);
    for (const m of msgs) if (m.type !== MsgType.Delta) this.#dispatch(now, from, m, fx);
  }

  timer(now: number, token: TimerToken, fx: Effects): void {
    if (!this.#s.running) return;
    if (token.kind === 'queries') return this.#queries.onTimer(this.#s, now, fx);
    onTimer(this.#s, now, token, fx);
  }

  /** Publish one of this node's own keys. Returns the new version. */
  set(now: number, key: string, value: Value, fx: Effects, ttlMs = 0): number {
    return writeOwn(this.#s, now, key, value, ttlMs, fx);
  }

  delete(now: number, key: string, fx: Effects): void {
    deleteOwn(this.#s, now, key, fx);
  }

  /**
   * Ask the fleet (queries.ts): returns the query's number, carried by the 'query-reply' events
   * and the final 'query-done'. Throws a RangeError naming what is wrong with the query.
   */
  ask(now: number, name: string, payload: Uint8Array, prefix: string, timeoutMs: number, fx: Effects): number {
    return this.#queries.ask(this.#s, now, name, payload, prefix, timeoutMs, fx);
  }

  /** The answer to a 'query' event. False when the query is unknown or its time is up (nothing sent). */
  answer(now: number, asker: NodeRef, qid: number, status: ReplyStatus, body: Uint8Array, fx: Effects): boolean {
    return this.#queries.answer(this.#s, now, asker, qid, status, body, fx);
  }

  /** Graceful goodbye: tell the fleet, then go quiet. The caller keeps delivering timers until the repeats are out. */
  leave(now: number, fx: Effects): void {
    const s = this.#s;
    if (s.left) return;
    s.left = true;
    stopOwnTimers(s);
    const msg: Leave = { type: MsgType.Leave, from: s.self, inc: s.inc };
    queue(s, `leave:${s.self.id}`, msg, now, fx);
  }

  // ---------------------------------------------------------------- dispatch

  #dispatch(now: number, from: Address, m: Message, fx: Effects): void {
    const s = this.#s;
    s.stats.received(m.type);
    // Identity is the host's business (runtime/trust): it has already checked these.
    if (m.type === MsgType.Passport || m.type === MsgType.WhoIs) return;
    if (m.type !== MsgType.Ack && m.from.id === s.self.id) {
      // Our own multicast looped back, a previous life of ours still in flight, or a spoof.
      s.stats.count('ignored-self');
      return;
    }
    switch (m.type) {
      case MsgType.Heartbeat:
        return onHeartbeat(s, now, from, m, fx);
      case MsgType.Ping:
        return onPing(s, now, from, m, fx);
      case MsgType.Ack:
        return s.prober.onAck(m, now, fx);
      case MsgType.PingReq:
        return onPingReq(s, now, from, m, fx);
      case MsgType.Suspect:
      case MsgType.Dead:
        return onAccusation(s, now, from, m, fx);
      case MsgType.Leave:
        return onLeave(s, now, m, fx);
      case MsgType.Digest:
        return onDigest(s, now, from, m, fx);
      case MsgType.Delta:
        return onDelta(s, now, from, m, fx);
      case MsgType.Query:
        return this.#queries.onQuery(s, now, from, m, fx);
      case MsgType.QueryReply:
        return this.#queries.onReply(s, now, m, fx);
    }
  }
}
