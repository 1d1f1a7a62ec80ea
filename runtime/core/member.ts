// What this node knows about one other member of the fleet.

import type { Address, MemberStatus, NodeId, Verdict } from './messages.js';
import type { OwnerState } from './kv-store.js';
import type { Suspicion } from './suspicion.js';

export interface Member {
  readonly id: NodeId;
  gen: number;
  inc: number;
  status: MemberStatus;
  /** Its status with a suspicion folded into the verdict it had before (messages.ts: Verdict). */
  verdict: Verdict;
  addr: Address;
  /** Local time of the last status change (dead/left retention counts from here). */
  statusSince: number;
  /** Local time of the last message received from the member itself (first-hand evidence). */
  lastDirect: number;
  /** Local time the member's heartbeat counter last advanced, first- or second-hand. Silence counts from here. */
  lastProgress: number;
  /** Smoothed time between advances of its heartbeat counter as seen here (paces unicast silence). */
  progressGapMs: number;
  /** Highest heartbeat seq known, from its heartbeats or relayed in digests. */
  hbSeq: number;
  /** Highest heartbeat seq received directly; gaps feed the loss estimate. */
  directSeq: number;
  /**
   * Whether one of its regular streams of heartbeats has reached us: the group, or the direct
   * copies it sends because the group does not bring us its own. Until then the direct ones are
   * one-offs (a reply to an accuser, a refutation), spaced by whatever prompted them, and the
   * gap from the last of them to the first of a stream is not loss. Cleared after a stall of
   * ours for a member whose copies we ask for, whose next copy may come after a lapse. Not
   * cleared when the group stops bringing its heartbeats: a member on a lossy link goes deaf
   * now and then, and its gaps are what judges it unreliable (reliability.ts).
   */
  streamed: boolean;
  /** The interval the member says it heartbeats at. */
  hbIntervalMs: number;
  /** Our replica of its key/value state (replaced when it restarts). */
  kv: OwnerState;
  /** Its key/value watermark as it last advertised it. */
  advertisedKvMax: number;
  /**
   * Local time this node first learnt (from a heartbeat or a digest) that the member has key/value
   * changes it does not hold; cleared once it holds them. How long a change took to arrive.
   */
  behindSince: number | undefined;
  /** Its last advertised view hash. */
  view: number;
  /** Set while this node holds the member suspect. */
  suspicion: Suspicion | undefined;
  /**
   * Accusations heard while we still had first-hand evidence of life: not acted on, but kept
   * (accuser id -> when) so that if our own probe later fails they count as the other sources.
   */
  heldAccusations: Map<string, number> | undefined;
  /** Probe in flight for this member, if any. */
  probe: number | undefined;
  /** Local time our last probe of it started. */
  lastProbeAt: number;
  /** Rate limit for telling a member that we hold it suspect or dead. */
  lastNotified: number;
  /** Rate limit for pulling its key/values when behind. */
  lastPull: number;
  /**
   * Local time its heartbeat last reached us through the multicast group (creation time until
   * then). When this goes stale while the member is alive, its multicast does not reach us
   * (Wi-Fi client isolation, IGMP snooping without a querier) and we ask for unicast.
   */
  lastMulticast: number;
  /**
   * Found not to reach us through the group, and not heard through it since. A stall of ours
   * does not clear it: not hearing the group while stopped says nothing of the group, and the
   * member's direct copies to us would lapse with its lease while we judged it afresh.
   */
  groupDeaf: boolean;
  /**
   * Fraction of its heartbeats that reach us directly, smoothed per expected heartbeat (1 until
   * measured; only measured where gaps in its sequence are loss). Judges an unreliable member.
   */
  delivery: number;
  /** The longest silence it came back from since it was last plainly alive (0 while it never did). */
  outageMs: number;
  /** Its last heartbeat progress before the current suspicion began: the start of the silence it may come back from. */
  silentSince: number;
  /** Its heartbeat seq known here when the current suspicion began: what it sent during that silence counts from it. */
  silentSeq: number;
  /** Local time it last came back from a suspicion or a death in this life. */
  returnedAt: number;
  /** Until this local time the member has asked us, by heartbeating to us directly, to heartbeat to it directly. */
  unicastUntil: number;
}

export function newMember(
  id: NodeId,
  gen: number,
  inc: number,
  addr: Address,
  now: number,
  hbIntervalMs: number,
  progressGapMs: number,
  kv: OwnerState,
): Member {
  return {
    kv,
    id,
    gen,
    inc,
    status: 'alive',
    verdict: 'alive',
    addr,
    statusSince: now,
    lastDirect: -Infinity,
    lastProgress: now,
    hbSeq: 0,
    directSeq: 0,
    streamed: false,
    progressGapMs,
    hbIntervalMs,
    advertisedKvMax: 0,
    behindSince: undefined,
    view: 0,
    suspicion: undefined,
    heldAccusations: undefined,
    probe: undefined,
    lastProbeAt: -Infinity,
    lastNotified: -Infinity,
    lastPull: -Infinity,
    lastMulticast: now,
    groupDeaf: false,
    unicastUntil: -Infinity,
    delivery: 1,
    outageMs: 0,
    silentSince: now,
    silentSeq: 0,
    returnedAt: -Infinity,
  };
}

/**
 * What the world outside the core may know of a member: a frozen copy, so nobody can change
 * the core's table or read fields that only its own logic keeps consistent.
 */
export interface MemberView {
  readonly id: NodeId;
  readonly gen: number;
  readonly inc: number;
  readonly status: MemberStatus;
  /** Local time of the last status change. */
  readonly statusSince: number;
  readonly addr: Address;
  /** Local time of the last message from the member itself; -Infinity until there is one. */
  readonly lastHeardAt: number;
  /** Local time its heartbeat last came through the multicast group (when it was learnt, until one does). */
  readonly lastGroupAt: number;
  /** Highest heartbeat sequence seen from it, first- or second-hand. */
  readonly heartbeatSeq: number;
  /** The heartbeat interval it advertised, as far as this node believes it (bounded). */
  readonly heartbeatIntervalMs: number;
}

export function viewOf(m: Member): MemberView {
  return Object.freeze({ id: m.id, gen: m.gen, inc: m.inc, status: m.status, statusSince: m.statusSince, addr: m.addr, lastHeardAt: m.lastDirect, lastGroupAt: m.lastMulticast, heartbeatSeq: m.hbSeq, heartbeatIntervalMs: m.hbIntervalMs });
}

export function isPresent(m: Member): boolean {
  return m.status === 'alive' || m.status === 'suspect' || m.status === 'unreliable';
}
