// The node's periodic work: heartbeat, silence sweep, anti-entropy round, housekeeping, and
// the flush of queued news. Each timer's due time is kept here; the host never cancels a
// timer, so a token that fires before its kind's due time is stale and ignored. A timer that
// fires far too late means this node itself was stalled (noteStall).

import { antiEntropyRound, contactSeeds } from './anti-entropy.js';
import { flush } from './dissemination.js';
import type { Effects, TimerToken } from './effects.js';
import { heartbeat, sendHeartbeat, sweep } from './liveness.js';
import { collectDeparted, heartbeatMs, regularSweepMs } from './membership.js';
import type { NodeState } from './node-state.js';
import { expireOwn, purgeReplicas } from './state-gossip.js';
import { antiEntropyDelayMs, firstHeartbeatDelayMs, heartbeatDelayMs, isEarly, isStalled, longestHeartbeatGapMs, nextDueMs, shareableLateMs, stallSlackMs } from './timing.js';

export function startTimers(s: NodeState, now: number, fx: Effects): void {
  s.joining = { since: now, until: now + s.profile.joinQuietMs };
  // Stagger the first heartbeat a little: a whole fleet powered on by one switch would
  // otherwise heartbeat in lock-step forever.
  s.hbDue = now + firstHeartbeatDelayMs(s.profile, s.rng.next());
  fx.setTimer(s.hbDue, { kind: 'heartbeat' });
  s.sweepDue = now + regularSweepMs(s);
  fx.setTimer(s.sweepDue, { kind: 'sweep' });
  s.aeDue = now + antiEntropyDelayMs(s.profile, true, s.rng.next());
  setAntiEntropyTimer(s, fx);
  s.gcDue = now + s.profile.gcIntervalMs;
  setHousekeepingTimer(s, fx);
  contactSeeds(s, fx);
}

// Anti-entropy and housekeeping need no precision: each may wait for our next heartbeat and
// share its wake-up (timing.ts shareableLateMs), as each wake-up of an otherwise idle device
// costs about as much as the work it does.
function setAntiEntropyTimer(s: NodeState, fx: Effects): void {
  fx.setTimer(s.aeDue, { kind: 'anti-entropy' }, shareableLateMs(s.profile, heartbeatMs(s), s.profile.antiEntropyMs));
}

function setHousekeepingTimer(s: NodeState, fx: Effects): void {
  fx.setTimer(s.gcDue, { kind: 'gc' }, shareableLateMs(s.profile, heartbeatMs(s), s.profile.gcIntervalMs));
}

export function onTimer(s: NodeState, now: number, token: TimerToken, fx: Effects): void {
  switch (token.kind) {
    case 'heartbeat':
      if (isEarly(s.profile, now, s.hbDue)) return;
      noteStall(s, now, s.hbDue);
      heartbeatTick(s, now, fx);
      return;
    case 'sweep':
      if (isEarly(s.profile, now, s.sweepDue)) return;
      noteStall(s, now, s.sweepDue);
      // Our heartbeat, due in this same wake-up, goes first: the sweep then knows when the next
      // one comes, and the sweep after this one waits for it (scheduleSweep). Its own timer
      // fires next and finds nothing due.
      if (s.hbDue <= now) {
        noteStall(s, now, s.hbDue);
        heartbeatTick(s, now, fx);
      }
      runSweep(s, now, fx);
      return;
    case 'anti-entropy':
      if (isEarly(s.profile, now, s.aeDue)) return;
      antiEntropyRound(s, fx);
      s.aeDue = nextDueMs(s.aeDue, now, antiEntropyDelayMs(s.profile, false, s.rng.next()));
      setAntiEntropyTimer(s, fx);
      return;
    case 'gc':
      if (isEarly(s.profile, now, s.gcDue)) return;
      housekeeping(s, now, fx);
      s.gcDue = nextDueMs(s.gcDue, now, s.profile.gcIntervalMs);
      setHousekeepingTimer(s, fx);
      return;
    case 'flush':
      if (isEarly(s.profile, now, s.flushDue)) return;
      s.flushDue = Infinity;
      flush(s, now, fx);
      return;
    case 'probe-timeout': {
      const due = s.prober.dueOf(token.probe);
      if (due !== undefined) noteStall(s, now, due);
      s.prober.onTimeout(token.probe, now, fx);
      return;
    }
      return;
  }
}

/**
 * A timer due at `dueAt` fired at `now`. This late means this node was stalled (SIGSTOP, a
 * CPU-starved or overloaded process, an SD card stall): what looks like everyone's silence is
 * our own. Count it against our health once per stall, as Lifeguard does for a node that finds
 * itself suspected; silence counts again only from now (listeningSince), and no probe starts
 * until the backlog is read.
 */
export function noteStall(s: NodeState, now: number, dueAt: number): void {
  if (!isStalled(s.profile, now, dueAt)) return;
  s.stalledUntil = Math.max(s.stalledUntil, now + regularSweepMs(s));
  const slackMs = stallSlackMs(s.profile, now - dueAt, heartbeatMs(s), s.present + 1);
  // Judged by when it began, whichever late timer notices it first (housekeeping may end the
  // join before a late heartbeat or sweep fires).
  s.recentStalls.push({ at: now, slackMs, inJoin: dueAt < (s.joining?.until ?? s.joinEndedAt) });
  // Timers due before the stall was noted fire late in the same stall.
  if (dueAt <= s.listeningSince) return;
  s.listeningSince = now;
  s.awareness.apply(1);
  s.stats.count('stalls');
  // The direct copies of members the group does not bring us come under a lease that our own
  // requests renew, and we sent none while stopped: the gap before their next copy is not loss.
  for (const m of s.members.values()) if (m.groupDeaf) m.streamed = false;
}

function runSweep(s: NodeState, now: number, fx: Effects): void {
  scheduleSweep(s, now, sweep(s, now, fx), fx);
}

/**
 * When the sweep after this one runs, given the earliest moment the sweep found a member's
 * silence would pass its threshold (`deadline`; `now` while something needs watching closely).
 * Silence crosses a threshold only at a moment known in advance (a member's last heartbeat plus
 * what its silence may be), so the sweep runs then, not at a fixed pace of four per heartbeat
 * interval: each wake-up of an otherwise idle device costs about as much as the work it does,
 * and sweeps were most of them. Something the sweep watches closely (a suspicion, an
 * unreliable member, hearing nobody) keeps the regular pace (regularSweepMs). Never later than
 * one heartbeat interval, so what the sweep does not foresee (a probe that failed without an
 * accusation, a member's interval that shrank) waits no longer than that; and then it runs
 * with our next heartbeat when that comes sooner, so the two share a wake-up. When it does not
 * (our next heartbeat is up to a tenth of an interval later, its jitter, or not timed yet when
 * the sweep fires just before it in one wake-up), the sweep may wait that tenth for it.
 */
export function scheduleSweep(s: NodeState, now: number, deadline: number, fx: Effects): void {
  const hbMs = heartbeatMs(s);
  const latest = now + hbMs;
  const withOurHeartbeat = s.hbDue > now ? Math.min(s.hbDue, latest) : latest;
  s.sweepDue = deadline <= now ? now + regularSweepMs(s) : Math.min(withOurHeartbeat, deadline);
  const regular = s.sweepDue === latest && deadline > latest;
  fx.setTimer(s.sweepDue, { kind: 'sweep' }, regular ? longestHeartbeatGapMs(s.profile, hbMs) - hbMs : 0);
}

/** After a goodbye: no more heartbeats or anti-entropy; sweeps, housekeeping and flushes go on, so the goodbye's repeats go out. */
export function stopOwnTimers(s: NodeState): void {
  s.hbDue = Infinity;
  s.aeDue = Infinity;
}

function heartbeatTick(s: NodeState, now: number, fx: Effects): void {
  if (s.left) return;
  sendHeartbeat(s, heartbeat(s), now, fx);
  const next = heartbeatDelayMs(s.profile, heartbeatMs(s), s.burst-- > 0, s.rng.next());
  s.hbDue = now + next;
  fx.setTimer(s.hbDue, { kind: 'heartbeat' });
}

/** Once a second: the loss estimate forgets a little, and expired or retained-too-long state goes. */
function housekeeping(s: NodeState, now: number, fx: Effects): void {
  s.loss.decay(s.profile.lossDecay);
  if (s.joining && now >= s.joining.until) {
    s.joinEndedAt = s.joining.until;
    s.joining = undefined;
  }
  const p = s.profile;
  const over = (x: { at: number; inJoin: boolean }): boolean =>
    now - x.at > p.stallSlackHoldMs || (x.inJoin && !s.joining && now - s.joinEndedAt > p.joinStallHoldMs);
  if (s.recentStalls.some(over)) s.recentStalls = s.recentStalls.filter((x) => !over(x));
  expireOwn(s, now, fx);
  // Retention is measured in minutes: scanning every member and replica each second is waste.
  const ticks = ++s.gcTicks;
  if (ticks % s.profile.replicaGcEvery === 0) purgeReplicas(s, now);
  if (ticks % s.profile.memberGcEvery === 0) collectDeparted(s, now, fx);
}
