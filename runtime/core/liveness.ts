// Liveness: our own heartbeats, what a member's heartbeats and probe answers tell us, and the
// sweep that turns silence into probes (failure detection proper, with multicast) or runs the
// probe rounds (without). What a failed probe means is accusations.ts's business.

import { checkSuspicion, notify, spokeUp, spreadRefutation } from './accusations.js';
import { scheduleFlush } from './dissemination.js';
import type { Effects } from './effects.js';
import { isPresent, type Member } from './member.js';
import { direct, heartbeatMs, memberIntervalMs, restarted, stallSlack } from './membership.js';
import { MsgType, type Ack, type Address, type Heartbeat, type Ping, type PingReq } from './messages.js';
import type { NodeState } from './node-state.js';
import { deafToAll } from './isolation.js';
import { cameBack, delivered, review, silenceFor } from './reliability.js';
import { pull } from './state-gossip.js';
import { advertisedIntervalMs, silenceIntervals, silenceThresholdMs, smoothedGapMs } from './timing.js';

/**
 * Our next heartbeat (each call advances the sequence), or with `again` the last one's number
 * once more. Receivers count gaps in the sequence as lost datagrams and judge a returning
 * member by how many it sent while silent, so a reply to one peer must not take a number.
 */
export function heartbeat(s: NodeState, again = false): Heartbeat {
  return {
    type: MsgType.Heartbeat,
    from: s.self,
    inc: s.inc,
    seq: again ? s.seq : ++s.seq,
    // Stalls of our own would read as silences: ask members to allow for them.
    intervalMs: Math.max(heartbeatMs(s), stallSlack(s)),
    kvMax: s.kv.maxVersion(s.self.id),
    view: s.view,
  };
}

/**
 * A heartbeat for an accuser that is behind on our incarnation. It takes a new number at most
 * once per heartbeat interval: a node back from a stall answers a backlog of accusations at
 * once, and as many fresh numbers would read as lost heartbeats everywhere and hide that it sent
 * nothing while stopped (reliability.ts). Spaced replies, as from a device on a lossy link, each
 * count as a heartbeat, so the accusers hear it advance.
 */
export function replyHeartbeat(s: NodeState, now: number): Heartbeat {
  const again = now - s.replySeqAt < heartbeatMs(s);
  if (!again) s.replySeqAt = now;
  return heartbeat(s, again);
}

/** Heartbeat to the group (or a few peers), carrying any news that is nearly due anyway. */
export function sendHeartbeat(s: NodeState, hb: Heartbeat, now: number, fx: Effects): void {
  // Sized with the unicast flag, which a copy of this heartbeat may carry; one byte of the
  // datagram is the wire version.
  const budget = s.profile.datagramBudget - 1 - s.size({ ...hb, unicastMe: true });
  const news = s.broadcasts.take(now, s.profile.heartbeatNewsSlackMs, budget);
  s.spreading.sendHeartbeat(s, news, hb, now, fx);
  scheduleFlush(s, now, fx);
}

export function onHeartbeat(s: NodeState, now: number, from: Address, hb: Heartbeat, fx: Effects): void {
  const m = direct(s, now, hb.from, from, fx);
  if (!m || m.status === 'left') return;
  s.spreading.heardHeartbeat(s, m, hb, now);
  let gap = 0;
  if (hb.seq > m.directSeq) {
    if (m.directSeq > 0 && s.spreading.gapsAreLoss && m.streamed) {
      gap = hb.seq - m.directSeq;
      s.loss.record(gap);
    }
    m.directSeq = hb.seq;
    if (s.rxMulticast || hb.unicastMe) m.streamed = true;
  }
  if (hb.seq > m.hbSeq) {
    m.hbSeq = hb.seq;
    progress(s, m, now);
  }
  // Believed only within bounds: it paces silence thresholds (runtime/core/timing.ts).
  m.hbIntervalMs = advertisedIntervalMs(s.profile, s.present + 1, hb.intervalMs);
  m.advertisedKvMax = hb.kvMax;
  m.view = hb.view;
  heardFrom(s, m, hb.inc, now, fx, hb.seq);
  // After the verdict: a member coming back is judged on how it delivered before the silence.
  if (gap > 0) delivered(s, m, gap);
  if (hb.kvMax > m.kv.max) pull(s, m, now, fx);
}

/**
 * First-hand sign of life at incarnation `inc` (and heartbeat `seq`, when it is a heartbeat).
 * Clears our own suspicion; a member we hold dead stays dead until it refutes with a higher
 * incarnation, so we tell it.
 */
export function heardFrom(s: NodeState, m: Member, inc: number, now: number, fx: Effects, seq?: number): void {
  if (m.status === 'dead') {
    if (inc > m.inc) {
      m.inc = inc;
      cameBack(s, m, now, fx, true, seq);
    } else {
      notify(s, m, MsgType.Dead, now, fx);
    }
    return;
  }
  if (inc > m.inc) {
    m.inc = inc;
    m.heldAccusations = undefined;
  }
  if (m.status === 'suspect') {
    s.broadcasts.cancel(`accuse:${m.id}`);
    const stillAccused = m.suspicion !== undefined && inc <= m.suspicion.inc;
    const spoke = spokeUp(s, m.suspicion);
    cameBack(s, m, now, fx, false, seq);
    // Others may still hold the accusation; only the member itself can clear it everywhere.
    if (stillAccused) notify(s, m, MsgType.Suspect, now, fx);
    else if (spoke) spreadRefutation(s, m, now, fx);
  }
}

/** The member's heartbeat counter advanced: reset its silence, and learn how often that happens. */
export function progress(s: NodeState, m: Member, now: number): void {
  const gap = now - m.lastProgress;
  if (gap > 0) m.progressGapMs = smoothedGapMs(s.profile, m.progressGapMs, gap);
  m.lastProgress = now;
}

/** How long `m` may be silent before we probe it (at our measured loss unless `loss` is given). */
export function silenceThreshold(s: NodeState, m: Member, loss = s.loss.loss): number {
  const k = silenceIntervals(s.profile, loss);
  const interval = memberIntervalMs(s, m);
  // Not scaled by local health: measured loss already lengthens k, and Lifeguard's health
  // multiplier belongs on probe timeouts. Scaling both made a node that had been suspected
  // itself take three times longer than its peers to notice a real death.
  return silenceFor(s, m, silenceThresholdMs(k, s.spreading.expectedGapMs(m, interval)), interval);
}

/**
 * Verdicts on suspicions that ran out, and probes of members that went silent. Returns when the
 * next sweep is wanted: the earliest moment a member's silence passes its threshold, or `now`
 * while anything needs watching closely (a suspicion, an unreliable member, hearing nobody).
 */
export function sweep(s: NodeState, now: number, fx: Effects): number {
  // Computed once per sweep: this loop visits every member several times a second.
  const k = silenceIntervals(s.profile, s.loss.loss);
  const ownInterval = heartbeatMs(s);
  let next = Infinity;
  // Hearing nobody is our link's doing: no new probes (as after a stall).
  if (deafToAll(s, now, k, ownInterval)) {
    s.stalledUntil = Math.max(s.stalledUntil, now + 1);
    next = now;
  }
  for (const m of s.members.values()) {
    if (!isPresent(m)) continue;
    if (m.suspicion) {
      checkSuspicion(s, m, now, fx);
      if (m.status !== 'suspect') continue;
      next = now;
    }
    if (m.status === 'unreliable') {
      const interval = memberIntervalMs(s, m, ownInterval);
      review(s, m, now, fx, silenceThresholdMs(k, s.spreading.expectedGapMs(m, interval)), interval);
      next = now;
    }
    next = Math.min(next, s.spreading.sweepMember(s, m, now, fx, k, ownInterval));
  }
  s.spreading.endSweep(s, now, fx);
  return next;
}

export function onPing(s: NodeState, now: number, from: Address, p: Ping, fx: Effects): void {
  const m = direct(s, now, p.from, from, fx);
  if (m) heardFrom(s, m, m.inc, now, fx);
  if (p.target.id !== s.self.id) return;
  const ack: Ack = { type: MsgType.Ack, from: s.self, probe: p.probe, inc: s.inc };
  fx.send(from, [ack]);
}

export function onPingReq(s: NodeState, now: number, from: Address, r: PingReq, fx: Effects): void {
  direct(s, now, r.from, from, fx);
  if (r.target.id === s.self.id) {
    fx.send(from, [{ type: MsgType.Ack, from: s.self, probe: r.probe, inc: s.inc }]);
    return;
  }
  s.prober.relay(r, from, now, fx);
}

/** Our own probe of `m` was answered. */
export function probeAnswered(s: NodeState, m: Member, a: Ack, now: number, fx: Effects): void {
  if (a.from.gen > m.gen) {
    restarted(s, m, a.from.gen, a.inc, m.addr, now, fx);
    return;
  }
  m.lastProgress = now;
  heardFrom(s, m, a.inc, now, fx);
}
