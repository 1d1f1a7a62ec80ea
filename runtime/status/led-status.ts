// Decides what the status LED says, from what the node knows. Pure: the agent feeds it a
// snapshot once a second with the time, so the whole state machine is table-tested.
//
// Precedence, highest first: identify, error, booting, searching/isolated, degraded, healthy.
// An unreliable peer (it went silent and came back, and is given longer silences until it
// delivers like the rest) is reachable, so it never counts toward isolation or a partition, and
// it keeps the LED degraded for as long as it lasts: one steady state, not a blink per change.
// Bad news shows at once; "degraded" is held for a while after it clears, so a lossy link
// does not make the LED flap between two rhythms a person cannot tell apart at a glance.

import type { LedStatus } from '../../hal/leds/patterns.js';

export type PeerStatus = 'alive' | 'unreliable' | 'suspect' | 'dead' | 'left';

export interface StatusSnapshot {
  /** Local monotonic ms. */
  readonly now: number;
  /** Other members (not this device) and what this device thinks of them. */
  readonly peers: ReadonlyArray<{ readonly id: string; readonly status: PeerStatus }>;
  /** This device's own health score (Lifeguard awareness, 0 = fine). */
  readonly health: number;
  /** Measured datagram loss, 0..1. */
  readonly loss: number;
  /** Problems that need a person (hardware, config, key mismatch); empty when none. */
  readonly problems: readonly string[];
  /** Someone asked this device to identify itself and the request has not expired. */
  readonly identify: boolean;
}

export interface StatusDecision {
  readonly status: LedStatus;
  /** Why, in words for the log and `murmur status`. */
  readonly reasons: readonly string[];
}

export interface StatusThresholds {
  /** Booting lasts at most this long, or until the first peer is heard. */
  readonly bootMs: number;
  /** Health score at which this device counts itself slow (awareness goes 0..8). */
  readonly slowHealth: number;
  /** Loss at which the link counts as bad. */
  readonly highLoss: number;
  /** A partition is suspected when this share of peers (and at least 2) became unreachable within the window. */
  readonly partitionShare: number;
  readonly partitionWindowMs: number;
  /** Degraded is held this long after its last cause clears. */
  readonly degradedHoldMs: number;
}

export const DEFAULT_THRESHOLDS: StatusThresholds = {
  bootMs: 5000,
  // A single missed ack raises awareness by one; three means it keeps happening.
  slowHealth: 3,
  // Above the core's prior (20% until enough heartbeats are seen), so a fresh node is not "degraded".
  highLoss: 0.25,
  partitionShare: 0.3,
  partitionWindowMs: 30_000,
  degradedHoldMs: 10_000,
};

export class LedStatusMachine {
  readonly #t: StatusThresholds;
  readonly #startedAt: number;
  /** When each peer last went from reachable to unreachable, for the partition rule. */
  readonly #lostAt = new Map<string, number>();
  readonly #last = new Map<string, PeerStatus>();
  #hadPeers = false;
  #degradedUntil = -Infinity;
  #degradedReasons: readonly string[] = [];

  constructor(startedAt: number, thresholds: Partial<StatusThresholds> = {}) {
    this.#startedAt = startedAt;
    this.#t = { ...DEFAULT_THRESHOLDS, ...thresholds };
  }

  update(s: StatusSnapshot): StatusDecision {
    const t = this.#t;
    let alive = 0;
    let unreachable = 0;
    const seen = new Set<string>();
    for (const p of s.peers) {
      if (p.status === 'left') continue;
      seen.add(p.id);
      const before = this.#last.get(p.id);
      this.#last.set(p.id, p.status);
      if (p.status === 'alive' || p.status === 'unreliable') {
        alive++;
        this.#lostAt.delete(p.id);
      } else {
        unreachable++;
        if (before === 'alive' || before === 'unreliable' || (before === undefined && !this.#lostAt.has(p.id))) this.#lostAt.set(p.id, s.now);
      }
    }
    // Forget members the node itself has forgotten (garbage-collected or left).
    for (const id of this.#last.keys()) if (!seen.has(id)) this.#forget(id);
    if (alive > 0) this.#hadPeers = true;

    if (s.identify) return { status: 'identify', reasons: ['identify requested'] };
    if (s.problems.length > 0) return { status: 'error', reasons: s.problems };
    if (alive === 0) {
      if (s.now - this.#startedAt < t.bootMs && !this.#hadPeers) return { status: 'booting', reasons: ['starting'] };
      if (this.#hadPeers && unreachable > 0) return { status: 'isolated', reasons: [`no peer reachable (${unreachable} known, all suspect or dead)`] };
      return { status: 'searching', reasons: ['no peer heard yet'] };
    }

    const reasons: string[] = [];
    const suspect = s.peers.filter((p) => p.status === 'suspect').length;
    if (suspect > 0) reasons.push(`${suspect} peer${suspect === 1 ? '' : 's'} suspect`);
    const unreliable = s.peers.filter((p) => p.status === 'unreliable').length;
    if (unreliable > 0) reasons.push(`${unreliable} peer${unreliable === 1 ? '' : 's'} unreliable`);
    let recentlyLost = 0;
    for (const at of this.#lostAt.values()) if (s.now - at <= t.partitionWindowMs) recentlyLost++;
    const known = alive + unreachable;
    if (recentlyLost >= 2 && recentlyLost >= t.partitionShare * known) reasons.push(`partition suspected (${recentlyLost} of ${known} peers lost within ${t.partitionWindowMs / 1000} s)`);
    if (s.loss >= t.highLoss) reasons.push(`high loss (${Math.round(s.loss * 100)}%)`);
    if (s.health >= t.slowHealth) reasons.push(`this device is slow (health ${s.health})`);
    if (reasons.length > 0) {
      this.#degradedUntil = s.now + t.degradedHoldMs;
      this.#degradedReasons = reasons;
      return { status: 'degraded', reasons };
    }
    if (s.now < this.#degradedUntil) return { status: 'degraded', reasons: this.#degradedReasons.map((r) => `${r}, cleared`) };
    return { status: 'healthy', reasons: [`${alive} peer${alive === 1 ? '' : 's'} alive`] };
  }

  #forget(id: string): void {
    this.#last.delete(id);
    this.#lostAt.delete(id);
  }
}
