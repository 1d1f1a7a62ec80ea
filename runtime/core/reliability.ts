// The "unreliable" verdict: hysteresis for a device that keeps going silent and coming back (at
// the edge of Wi-Fi range, on a flapping link). Each status change is an event, a log line, an
// LED change and an alert, so such a device must not cycle alive, suspect, dead, alive.
//
// A member that comes back, in the same life, from our death verdict or (with the multicast
// group) from our suspicion is unreliable at this node, unless its heartbeat counter shows it
// was stopped itself (see cameBack). Unreliable is present, like alive, but
// - it is probed only after a longer silence: what a live member with half its measured
//   delivery fraction stays unheard for with probability silenceProbability, and at least 1.5
//   times the longest silence it came back from, never over unreliableSilenceMaxMs;
// - it is alive again once it has been back that long (the same 1.5 outages, and at least
//   silenceMaxIntervals heartbeats, capped), is heard first-hand, and the loss of its
//   heartbeats is within unreliableLossMargin of the fleet's.
// The first silence of a device that starts losing most of its datagrams cannot be told from a
// death, so it is suspected once; what follows is one steady "unreliable", not alive and
// suspect again each time its heartbeats miss a second in a row. A healthy member suspected by
// bad luck spends the hold (four seconds on a LAN) unreliable before it is alive again.
// A truly dead unreliable device is still declared dead: after that longer silence, the usual
// probe and suspicion run (at most unreliableSilenceMaxMs plus a probe and a suspicion).
// Each observer judges from what reaches it; digests carry an unreliable member as alive.

import type { Effects } from './effects.js';
import type { Member } from './member.js';
import { heartbeatMs, memberIntervalMs, setStatus } from './membership.js';
import type { NodeState } from './node-state.js';
import { deliveryAfter, stoppedWhileSilent, unreliableHoldMs, unreliableSilenceMs } from './timing.js';

/** A heartbeat of `m` reached us directly, `gap` sequence numbers after the previous one. */
export function delivered(s: NodeState, m: Member, gap: number): void {
  m.delivery = deliveryAfter(s.profile, m.delivery, gap);
}

/**
 * `m`, suspect or dead at this node in this life, was heard from again (first- or second-hand):
 * unreliable, unless it was only suspected and this node spreads without multicast, or it was
 * stopped itself and this is its first such return within unreliableSilenceMaxMs.
 */
export function cameBack(s: NodeState, m: Member, now: number, fx: Effects, fromDeath: boolean, seq?: number, relayed = false): void {
  // A second return within the unreliable silence (with the group: silence is the evidence).
  const again = s.spreading.gapsAreLoss && now - m.returnedAt < s.profile.unreliableSilenceMaxMs;
  const outage = now - m.silentSince;
  // Its heartbeat counter counts what it sent, whatever the link lost: a member whose counter
  // when it comes back (`seq`: from its first heartbeat to reach us, or the count a digest
  // relays) shows it sent next to nothing while silent was stopped itself (frozen, CPU-starved,
  // an SD card stall), not cut off. One such return says nothing of its link, whatever its
  // delivery before; a second within unreliableSilenceMaxMs (again) still makes it unreliable. A
  // relayed count (`relayed`) is the relayer's latest and can lag the member's own, which reads
  // as fewer sent. From a member whose heartbeats reached us like the fleet's before the silence
  // that lag is short, and a frozen member is what it says; from one whose heartbeats were
  // already mostly lost (its delivery below the fleet's by more than unreliableLossMargin) the
  // relayer heard it as rarely as we did, and the count proves nothing: that member was losing
  // its link. A member could claim this only of itself. It sent at the fleet's interval, as we
  // do (its view of the fleet and ours agree): what it advertised may be slack it asked for in
  // its join or after a stall (periodic.ts), which says nothing of how often it sent. Where its
  // interval is in truth longer than ours, a cut-off member can pass for a stopped one: alive
  // at once, and unreliable at its next return.
  const lossyBefore = 1 - m.delivery > s.loss.loss + s.profile.unreliableLossMargin;
  const stoppedItself = seq !== undefined && !(relayed && lossyBefore) && stoppedWhileSilent(seq - m.silentSeq, outage, heartbeatMs(s));
  // Without multicast a suspicion rests on one failed probe, not on silence: weak evidence at
  // high loss, and common, so there only a death makes a member unreliable.
  const unreliable = stoppedItself ? m.outageMs > 0 || again : fromDeath || m.outageMs > 0 || s.spreading.gapsAreLoss;
  if (stoppedItself) s.stats.count('came-back-from-own-stall');
  m.returnedAt = now;
  m.lastProgress = now;
  s.stats.count('came-back');
  if (!unreliable) {
    setStatus(s, m, 'alive', now, fx);
    return;
  }
  m.outageMs = Math.max(m.outageMs, outage);
  setStatus(s, m, 'unreliable', now, fx);
}

/**
 * An unreliable member was heard first-hand after `silenceMs` without (a relayed count of
 * heartbeats it sent before the silence is no sign that it is back). A silence that its
 * delivery makes improbable (the silence we would probe it after, without the allowance for
 * its past outages) is another outage, even when shorter than that allowance: its hold starts
 * again. A link that keeps going down stays one steady "unreliable" for as long as it does,
 * instead of dead, unreliable, alive at every cycle; the price is that it is alive again only
 * a hold (1.5 outages, at most unreliableSilenceMaxMs) after its last outage. A device that
 * loses 80% of its datagrams is rarely that silent (its delivery puts that at 15–22 s), so it
 * is alive soon after its loss ends.
 */
export function silentAgain(s: NodeState, m: Member, now: number, silenceMs: number): void {
  if (m.status !== 'unreliable' || !s.spreading.gapsAreLoss) return;
  const outage = unreliableSilenceMs(s.profile, m.delivery, memberIntervalMs(s, m), 0);
  if (silenceMs < outage) return;
  m.returnedAt = now;
  m.outageMs = Math.max(m.outageMs, silenceMs);
  s.stats.count('unreliable-silent-again');
}

/** Silence (ms) after which `m` is probed, given the fleet's threshold for it. */
export function silenceFor(s: NodeState, m: Member, fleetThresholdMs: number, intervalMs: number): number {
  if (m.status !== 'unreliable') return fleetThresholdMs;
  return Math.max(fleetThresholdMs, unreliableSilenceMs(s.profile, m.delivery, intervalMs, m.outageMs));
}

/** An unreliable member that has been back long enough, is heard, and delivers like the fleet is alive again. */
export function review(s: NodeState, m: Member, now: number, fx: Effects, fleetThresholdMs: number, intervalMs: number): void {
  if (m.status !== 'unreliable') return;
  if (now - m.returnedAt < unreliableHoldMs(s.profile, m.outageMs, intervalMs)) return;
  // Heard by us, not only of: a digest's heartbeat counter says someone heard it at some point,
  // and a link that just went down again would pass for one that came back.
  const heard = s.spreading.gapsAreLoss ? m.lastDirect : m.lastProgress;
  if (now - heard >= fleetThresholdMs) return;
  if (s.spreading.gapsAreLoss && 1 - m.delivery > s.loss.loss + s.profile.unreliableLossMargin) return;
  m.outageMs = 0;
  setStatus(s, m, 'alive', now, fx);
}

/** Why `m` is unreliable here, for operators; undefined when it is not. */
export function reliabilityOf(s: NodeState, m: Member, now: number, intervalMs: number): { outageMs: number; backForMs: number; holdMsLeft: number; delivery: number; fleetDelivery: number } | undefined {
  if (m.status !== 'unreliable') return undefined;
  return {
    outageMs: m.outageMs,
    backForMs: now - m.returnedAt,
    holdMsLeft: Math.max(0, m.returnedAt + unreliableHoldMs(s.profile, m.outageMs, intervalMs) - now),
    delivery: m.delivery,
    fleetDelivery: 1 - s.loss.loss,
  };
}
