// Timing maths as pure functions, so each can be table-tested (memberlist keeps its suspicion
// formula the same way). Every timeout in the core comes from one of these.

import type { Profile } from './profiles.js';

/**
 * Heartbeat interval for a fleet of `n` nodes. With multicast every node hears every heartbeat,
 * so the segment-wide rate is capped and the interval grows with the fleet.
 */
export function heartbeatIntervalMs(profile: Profile, n: number): number {
  const counted = Math.min(Math.max(1, n), profile.maxFleetSize);
  const scaled = Math.ceil((1000 * counted) / profile.segmentHeartbeatsPerS);
  return Math.max(profile.heartbeatMinMs, scaled);
}

/**
 * The interval a member advertises, as far as this node believes it in a fleet of `n`: at most
 * advertisedIntervalFactor times our own interval, never above maxAdvertisedIntervalMs, never
 * below the profile's minimum. Silence thresholds are a multiple of it, so this bounds them.
 */
export function advertisedIntervalMs(profile: Profile, n: number, advertised: number): number {
  const most = Math.min(profile.maxAdvertisedIntervalMs, profile.advertisedIntervalFactor * heartbeatIntervalMs(profile, n));
  return Math.min(most, Math.max(profile.heartbeatMinMs, advertised));
}

/**
 * How many heartbeat intervals of silence make a peer locally suspect. Missing k heartbeats in a
 * row at independent loss p happens with probability p^k; choose the smallest k that keeps it
 * under `silenceProbability`. A node that measures more loss therefore waits longer before it
 * accuses anyone (Lifeguard's point: a node in trouble should trust its own view less).
 */
export function silenceIntervals(profile: Profile, loss: number): number {
  const p = Math.min(Math.max(loss, 0), 0.95);
  const k = p <= 0 ? profile.silenceMinIntervals : Math.ceil(Math.log(profile.silenceProbability) / Math.log(p));
  return Math.min(profile.silenceMaxIntervals, Math.max(profile.silenceMinIntervals, k));
}

/**
 * Direct pings and helpers for one probe at measured loss `loss`. A live member answers a direct
 * ping (two datagrams) with probability (1-p)^2 and one through a helper (four) with (1-p)^4; the
 * probe fails when all of them miss. Start from the profile's counts and add direct pings first
 * (fewer datagrams for the same gain), then helpers (paths that avoid our own link), until the
 * failure probability is within probeMissProbability or both reach their maxima.
 */
export function probeFanout(profile: Profile, loss: number): { readonly pings: number; readonly helpers: number } {
  const p = Math.min(Math.max(loss, 0), 0.95);
  const missDirect = 1 - (1 - p) ** 2;
  const missIndirect = 1 - (1 - p) ** 4;
  let pings = profile.directPings;
  let helpers = profile.indirectProbes;
  const miss = (): number => missDirect ** pings * missIndirect ** helpers;
  while (miss() > profile.probeMissProbability && pings < profile.maxDirectPings) pings++;
  while (miss() > profile.probeMissProbability && helpers < profile.maxIndirectProbes) helpers++;
  return { pings, helpers };
}

/**
 * Lifeguard suspicion timeout (memberlist suspicion.go): starts at max and shrinks
 * logarithmically toward min as independent confirmations arrive, reaching min at `expected`.
 */
export function suspicionTimeoutMs(minMs: number, maxMs: number, confirmations: number, expected: number): number {
  if (expected <= 0) return minMs;
  const frac = Math.log(confirmations + 1) / Math.log(expected + 1);
  const t = Math.floor(maxMs - frac * (maxMs - minMs));
  return Math.max(minMs, t);
}

/** Lifeguard local-health scaling: timeouts grow linearly with the awareness score. */
export function scaleByHealth(ms: number, score: number): number {
  return ms * (1 + score);
}

/** Symmetric jitter of ±fraction, so a fleet that booted together does not stay in lock-step. */
export function jittered(ms: number, fraction: number, u: number): number {
  return Math.round(ms * (1 - fraction + 2 * fraction * u));
}

/**
 * Transmissions of a fresh change: enough that a receiver losing `loss` of datagrams misses
 * them all with probability under the profile's bound, within the repeat schedule's length,
 * and never fewer than two. Measured loss at this node stands in for its receivers' (on one
 * segment they share the medium). The clamps keep the logarithm finite.
 */
export function repeatsFor(profile: Profile, loss: number): number {
  const p = Math.min(Math.max(loss, 0.01), 0.9);
  const max = profile.repeatOffsetsMs.length;
  return Math.min(max, Math.max(2, Math.ceil(Math.log(profile.repeatMissProbability) / Math.log(p))));
}

/** Delay of the first heartbeat after start, for `u` uniform in [0, 1). */
export function firstHeartbeatDelayMs(profile: Profile, u: number): number {
  return Math.floor(u * profile.startStaggerMs);
}

/**
 * Delay until the next heartbeat. During the join burst heartbeats come at a random fraction
 * of the interval: faster convergence, and a fleet powered on by one switch does not stay
 * phase-locked in synchronized waves. After it, the interval with a little jitter.
 */
export function heartbeatDelayMs(profile: Profile, intervalMs: number, inJoinBurst: boolean, u: number): number {
  if (!inJoinBurst) return jittered(intervalMs, profile.heartbeatJitter, u);
  const fraction = profile.joinBurstMinFraction + profile.joinBurstSpreadFraction * u;
  return Math.max(profile.joinBurstMinMs, Math.floor(intervalMs * fraction));
}

/** The longest our next heartbeat can be away, at interval `intervalMs` after the join burst: the interval and its jitter. */
export function longestHeartbeatGapMs(profile: Profile, intervalMs: number): number {
  return Math.ceil(intervalMs * (1 + profile.heartbeatJitter));
}

/**
 * How late a timer that needs no precision (anti-entropy, housekeeping), due every `everyMs`,
 * may fire: long enough to wait for our next heartbeat, whose wake-up it can then share, never
 * more than half its own period.
 */
export function shareableLateMs(profile: Profile, heartbeatMs: number, everyMs: number): number {
  return Math.min(longestHeartbeatGapMs(profile, heartbeatMs), Math.floor(everyMs / 2));
}

/**
 * The next due time of a timer that comes every `delayMs` and was due at `dueAt`: counted from
 * the due time, so firing it late (shareableLateMs) does not make it rarer; from `now` when it
 * fired a whole period late (a stall), so a backlog of rounds is not run back to back.
 */
export function nextDueMs(dueAt: number, now: number, delayMs: number): number {
  return dueAt + delayMs > now ? dueAt + delayMs : now + delayMs;
}

/** The silence sweep's regular pace: a few times per heartbeat interval, within fixed bounds. */
export function sweepIntervalMs(profile: Profile, heartbeatMs: number): number {
  return Math.min(profile.sweepMaxMs, Math.max(profile.sweepMinMs, Math.floor(heartbeatMs / profile.sweepsPerHeartbeat)));
}

/** Delay of the first anti-entropy round after start (widely spread), and of each later one. */
export function antiEntropyDelayMs(profile: Profile, first: boolean, u: number): number {
  return jittered(profile.antiEntropyMs, first ? profile.antiEntropyStartJitter : profile.antiEntropyJitter, u);
}

/** Delay until the next round of SWIM probing without multicast. */
export function probeRoundDelayMs(profile: Profile, u: number): number {
  return jittered(profile.probeIntervalMs, profile.probeRoundJitter, u);
}

/** How long a direct ping waits for its Ack; the indirect stage waits twice as long. Both grow with poor local health. */
export function probeTimeoutMs(profile: Profile, stage: 1 | 2, healthScore: number): number {
  return scaleByHealth(stage === 1 ? profile.probeTimeoutMs / 2 : profile.probeTimeoutMs, healthScore);
}

/** Whether a periodic timer fired before its due time, so its token is stale. */
export function isEarly(profile: Profile, now: number, dueAt: number): boolean {
  return now + profile.timerSlackMs < dueAt;
}

/**
 * The heartbeat interval a node with interval `intervalMs`, in a fleet of `n`, advertises after
 * a stall that made a timer `lateMs` late. Members see a stall as a silence of up to the stall
 * plus an interval (the last heartbeat before it went out up to an interval earlier), and
 * suspect after at least silenceMinIntervals advertised intervals of silence: those must cover
 * it with an interval to spare. Never more than members believe (advertisedIntervalMs).
 */
export function stallSlackMs(profile: Profile, lateMs: number, intervalMs: number, n: number): number {
  return advertisedIntervalMs(profile, n, Math.ceil((lateMs + 2 * intervalMs) / profile.silenceMinIntervals));
}

/** Whether a periodic timer fired so late that the node itself must have been stalled. */
export function isStalled(profile: Profile, now: number, dueAt: number): boolean {
  return now - dueAt > profile.stallMs;
}

/**
 * Silence (ms) after which a member is probed: `k` intervals (from silenceIntervals) of the gap
 * expected between news of its heartbeats.
 */
export function silenceThresholdMs(k: number, expectedGapMs: number): number {
  return k * expectedGapMs;
}

/**
 * Whether a member that comes back after `outageMs` of silence, having sent `sent` heartbeats
 * since it went silent (by its counter), was stopped itself rather than cut off: a live member
 * on a dead link sends one every `intervalMs` throughout; a frozen one sends none until it
 * resumes. Half the outage's worth leaves room for jitter and a last heartbeat or two lost
 * before the silence. At least one must be new: a return with no heartbeat proves nothing.
 */
export function stoppedWhileSilent(sent: number, outageMs: number, intervalMs: number): boolean {
  return sent >= 1 && 2 * sent * intervalMs <= outageMs;
}

/**
 * A member's delivery fraction after a heartbeat that arrived `gap` sequence numbers after the
 * previous one: gap - 1 expected heartbeats missed (at most deliveryMaxGap), then one received.
 */
export function deliveryAfter(profile: Profile, previous: number, gap: number): number {
  const w = profile.deliveryWeight;
  const g = Math.min(Math.max(1, gap), profile.deliveryMaxGap);
  return previous * Math.pow(1 - w, g) + w;
}

/**
 * Silence (ms) before an unreliable member is probed: the intervals in which a live member with
 * half its delivery fraction stays unheard with at most silenceProbability, `outageFactor` times the
 * longest silence it came back from, and at least the longest silence the fleet's loss can ask
 * for (silenceMaxIntervals): its delivery is measured over few heartbeats when it first comes
 * back. Never over unreliableSilenceMaxMs.
 */
export function unreliableSilenceMs(profile: Profile, delivery: number, intervalMs: number, outageMs: number): number {
  // Smoothed over about ten expected heartbeats, the fraction of a device that loses most of
  // them often reads twice what really arrives: judge on half of it.
  const miss = Math.min(Math.max(1 - delivery / 2, 0.01), 0.99);
  const k = Math.max(profile.silenceMaxIntervals, Math.ceil(Math.log(profile.silenceProbability) / Math.log(miss)));
  return Math.min(profile.unreliableSilenceMaxMs, Math.max(k * intervalMs, profile.unreliableOutageFactor * outageMs));
}

/**
 * How long a member that came back from an outage of `outageMs` stays unreliable at least:
 * `outageFactor` outages, and silenceMaxIntervals of its heartbeats so that its delivery
 * fraction is measured on what came after its return; never over unreliableSilenceMaxMs.
 */
export function unreliableHoldMs(profile: Profile, outageMs: number, intervalMs: number): number {
  return Math.min(profile.unreliableSilenceMaxMs, Math.max(profile.silenceMaxIntervals * intervalMs, profile.unreliableOutageFactor * outageMs));
}

/** First-hand contact more recent than this outweighs another node's accusation. */
export function freshEvidenceMs(profile: Profile, silenceMs: number): number {
  return silenceMs * profile.freshEvidenceFraction;
}

/**
 * Silence of a member's multicast (ms) after which the group is taken not to reach us from it:
 * a few intervals past the silence threshold, at the slower of our interval and its own.
 */
export function deafThresholdMs(profile: Profile, k: number, ownIntervalMs: number, memberIntervalMs: number): number {
  return (k + profile.deafExtraIntervals) * Math.max(ownIntervalMs, memberIntervalMs);
}

/** How long a direct heartbeat that asks for one back keeps us sending them. */
export function unicastLeaseMs(profile: Profile, heartbeatMs: number): number {
  return profile.unicastLeaseIntervals * heartbeatMs;
}

/** Least time between two notices to one member that we hold it suspect or dead. */
export function notifyIntervalMs(profile: Profile): number {
  return profile.probeTimeoutMs * profile.notifyEveryProbeTimeouts;
}

/** Least time between two pulls of one owner's key/values: one probe timeout, a round trip with room. */
export function pullIntervalMs(profile: Profile): number {
  return profile.probeTimeoutMs;
}

/** An accusation held back this long ago still counts toward a suspicion that starts now. */
export function heldAccusationMaxAgeMs(profile: Profile): number {
  return profile.suspicionMaxMs;
}

/** The smoothed gap between advances of a member's heartbeat counter, after one more gap. */
export function smoothedGapMs(profile: Profile, previousMs: number, gapMs: number): number {
  return previousMs * (1 - profile.progressGapWeight) + gapMs * profile.progressGapWeight;
}

/** The gap expected between advances of a new member's heartbeat counter, before any is seen. */
export function initialProgressGapMs(profile: Profile, heartbeatMs: number): number {
  return heartbeatMs * profile.initialProgressGapIntervals;
}
