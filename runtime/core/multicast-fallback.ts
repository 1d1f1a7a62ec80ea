// Per-peer fallback to unicast for a node that uses the multicast group. Wi-Fi client
// isolation or IGMP snooping without a querier can stop the group from reaching some devices
// while unicast still works. A member whose heartbeats stop arriving through the group gets
// ours directly, flagged to ask for the same back; a member that asks gets a lease of direct
// heartbeats and news, renewed by each flagged heartbeat it sends.

import type { Heartbeat } from './messages.js';
import { isPresent, type Member } from './member.js';
import { heartbeatMs } from './membership.js';
import type { NodeState } from './node-state.js';
import { deafThresholdMs, silenceIntervals, unicastLeaseMs } from './timing.js';

/** Whether `m`'s heartbeats have stopped coming through the group to us for longer than loss explains. */
export function isDeaf(s: NodeState, m: Member, now: number): boolean {
  return m.groupDeaf || silentOnGroup(s, m, now, silenceIntervals(s.profile, s.loss.loss), heartbeatMs(s));
}

/** Whether `m` has been silent on the group past the deaf threshold for `k` intervals of silence and our interval `ownMs`. */
function silentOnGroup(s: NodeState, m: Member, now: number, k: number, ownMs: number): boolean {
  return groupSilenceMs(s, m, now) > deafThresholdMs(s.profile, k, ownMs, m.hbIntervalMs);
}

/**
 * How long `m`'s heartbeats have not come through the group while we listened: a node that was
 * stalled (or is behind reading) has not heard the group, which says nothing of the group.
 */
function groupSilenceMs(s: NodeState, m: Member, now: number): number {
  return now - Math.max(m.lastMulticast, s.listeningSince);
}

export class MulticastFallback {
  /** Members that get our heartbeats and news by unicast besides the group, refreshed each heartbeat. */
  extras: Member[] = [];

  /** A heartbeat of `m` arrived, through the group or addressed to us. */
  heard(s: NodeState, m: Member, hb: Heartbeat, now: number): void {
    // A heartbeat addressed to us while we both use the group means the sender does not
    // hear our multicast: it asks us to heartbeat to it directly for a while.
    // Only a flagged heartbeat asks: one sent under a lease, or a refutation sent straight to
    // its accuser, must not, or two peers would keep renewing each other's lease forever.
    if (s.rxMulticast) {
      m.lastMulticast = now;
      m.groupDeaf = false;
    } else if (hb.unicastMe) m.unicastUntil = now + unicastLeaseMs(s.profile, heartbeatMs(s));
  }

  /**
   * Members to reach by unicast as well as the group, kept in `extras` for the flushes too:
   * those whose multicast has stopped reaching us, and those that asked us. Returns the
   * former, whose copy of the heartbeat asks them to do the same.
   */
  refresh(s: NodeState, now: number): Set<Member> {
    const out: Member[] = [];
    const deafSet = new Set<Member>();
    const k = silenceIntervals(s.profile, s.loss.loss);
    const own = heartbeatMs(s);
    for (const m of s.members.values()) {
      if (!isPresent(m)) continue;
      if (silentOnGroup(s, m, now, k, own)) m.groupDeaf = true;
      const deaf = m.groupDeaf;
      if (deaf) deafSet.add(m);
      if (deaf || m.unicastUntil > now) out.push(m);
    }
    if (out.length > 0) s.stats.count('unicast-fallback-peers', out.length);
    if (deafSet.size > 0) s.stats.count('group-deaf-peers', deafSet.size);
    this.extras = out;
    return deafSet;
  }
}
