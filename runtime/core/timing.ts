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
 * them all with probability under 1e-3, within the schedule's length. Measured loss at this
 * node stands in for its receivers' (on one segment they share the medium).
 */
export function repeatsFor(loss: number, max: number): number {
  const p = Math.min(Math.max(loss, 0.01), 0.9);
  return Math.min(max, Math.max(2, Math.ceil(Math.log(1e-3) / Math.log(p))));
}
