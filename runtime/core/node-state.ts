// Everything one node knows and keeps, in one plain object. The protocol's concepts live in
// their own files (membership, liveness, accusations, anti-entropy, state gossip,
// dissemination, periodic timers) as functions that take this object first; Node builds it
// once and hands it to them. Nothing here is visible outside the core.

import type { Awareness } from './awareness.js';
import type { Broadcasts } from './broadcasts.js';
import type { MessageSize, Rng } from './effects.js';
import type { KvStore } from './kv-store.js';
import type { LossEstimator } from './loss-estimator.js';
import type { Member } from './member.js';
import type { Address, NodeId, NodeRef } from './messages.js';
import type { Signer } from './node.js';
import type { Prober } from './probing.js';
import type { Profile } from './profiles.js';
import type { Spreading } from './spreading.js';
import type { NodeStats } from './stats.js';
import type { SuspicionBounds } from './suspicion.js';

export interface NodeState {
  readonly self: NodeRef;
  /** The unicast address this node advertises for itself. */
  addr: Address;
  readonly profile: Profile;
  readonly stats: NodeStats;
  readonly kv: KvStore;
  readonly rng: Rng;
  readonly size: MessageSize;
  /** Unicast addresses to contact at start (and whenever the node knows nobody); replaced when seed names resolve anew. */
  seeds: readonly Address[];
  readonly signer: Signer | undefined;
  /** How heartbeats and news reach the fleet: through the multicast group, or peer to peer. */
  readonly spreading: Spreading;
  readonly bounds: SuspicionBounds;
  readonly broadcasts: Broadcasts;
  readonly loss: LossEstimator;
  readonly awareness: Awareness;
  readonly prober: Prober;

  /** Our incarnation: bumped to refute an accusation of this life. */
  inc: number;
  /** Our heartbeat counter. */
  seq: number;
  /** When a reply to a behind accuser last took a heartbeat number (liveness.ts replyHeartbeat). */
  replySeqAt: number;
  running: boolean;
  left: boolean;

  // Membership (membership.ts).
  readonly members: Map<NodeId, Member>;
  /** Our id and every member's, sorted; rebuilt on demand after a member comes or goes. */
  sortedIds: NodeId[] | undefined;
  /** Members alive or suspect, not counting this node. */
  present: number;
  /** XOR of the hashes of every present (member, generation), this node included. */
  view: number;

  // Periodic work (periodic.ts).
  /** Join-burst heartbeats still to come. */
  burst: number;
  aeRound: number;
  gcTicks: number;
  /** Where the next anti-entropy slice of our view starts. */
  aeCursor: number;
  /** Version below our oldest change still being repeated. */
  ownFreshBase: number;
  /** Due times of the periodic timers; a token firing earlier is stale and ignored. */
  hbDue: number;
  sweepDue: number;
  aeDue: number;
  gcDue: number;
  flushDue: number;
  /** No new probes before this: the node just came out of a stall, or hears nobody (isolation.ts). */
  stalledUntil: number;
  /**
   * When this node last came out of a stall (periodic.ts noteStall): silence before it is ours,
   * not the members', so silence thresholds, group deafness and probe failures count from it.
   */
  listeningSince: number;
  /**
   * When this node last heard someone again after hearing nobody (isolation.ts): members'
   * silence and probe failures count from it. Group deafness does not: the group may be what
   * failed, and the unicast fallback must go on.
   */
  heardAgainAt: number;
  /**
   * The slack each of our recent stalls asks for (timing.ts stallSlackMs), oldest first: those
   * of the last stallSlackHoldMs, and of a stall that began in the join only until
   * joinStallHoldMs past its end. Our heartbeats advertise at least the largest (liveness.ts
   * heartbeat), so members allow such a stall before they suspect us.
   */
  recentStalls: { at: number; slackMs: number; inJoin: boolean }[];
  /** When the join ended (its last `until`): a stall in it is held only joinStallHoldMs past this. */
  joinEndedAt: number;
  /**
   * While this node joins (periodic.ts startTimers, membership.ts add): when it started, and
   * until when it counts as joining; undefined once the join is over (housekeeping). Its
   * heartbeats meanwhile ask for the slack of a joinStallMs stall (membership.ts stallSlack).
   */
  joining: { since: number; until: number } | undefined;
  /** When a member was last heard first-hand (isolation.ts). */
  lastHeardAny: number;
  /** Since when this node has heard no member while it knows several (isolation.ts); undefined while it hears someone. */
  deafToAllSince: number | undefined;
  /** Whether the datagram being handled came through the multicast group. */
  rxMulticast: boolean;
  /**
   * Whether the datagram being handled may move its sender's address to its source: the host
   * says no for one that could have been redirected by whoever captured it.
   */
  rxSourceIsAddress: boolean;
}
