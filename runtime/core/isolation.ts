// A node that hears none of its peers, while several were each heartbeating several times a
// second just before, has lost its own link (a cable pulled, Wi-Fi out of range, its interface
// down); they did not all fall silent at the same moment. Like a stall, that silence is its own:
// it starts no probe, a probe that fails meanwhile accuses nobody, and members' silence counts
// again only from when it hears someone. Only for so long (deafToAllMaxMs): a fleet that really
// did die around it is still declared dead, that much later. Without the multicast group a node
// hears each peer only now and then, and this does not apply.

import type { NodeState } from './node-state.js';

/** Someone was heard first-hand: silence before this, while we heard nobody, was ours. */
export function heardSomeone(s: NodeState, now: number): void {
  s.lastHeardAny = now;
  if (s.deafToAllSince === undefined) return;
  s.deafToAllSince = undefined;
  s.heardAgainAt = now;
}

/**
 * At a sweep: whether we hear nobody, and have for long enough that no member's silence is
 * evidence. `k` intervals of `intervalMs` make one member's silence suspicious; half that from
 * every member at once, when at least deafToAllMinMembers were heard within those k intervals
 * before it, means our own link.
 */
export function deafToAll(s: NodeState, now: number, k: number, intervalMs: number): boolean {
  if (s.deafToAllSince === undefined) {
    // Never having heard anyone is not having lost them.
    if (!s.spreading.gapsAreLoss || s.lastHeardAny === -Infinity) return false;
    const quiet = now - Math.max(s.lastHeardAny, s.listeningSince);
    if (quiet < Math.ceil(k / 2) * intervalMs || talkersBefore(s, s.lastHeardAny - k * intervalMs) < s.profile.deafToAllMinMembers) return false;
    s.deafToAllSince = now - quiet;
    s.stats.count('deaf-to-all');
  }
  return isDeafToAll(s, now);
}

/** Whether we are deaf to every member now, and not so long that their silence counts again. */
export function isDeafToAll(s: NodeState, now: number): boolean {
  return s.deafToAllSince !== undefined && now - s.deafToAllSince < s.profile.deafToAllMaxMs;
}

/**
 * When silence of ours ended: after a stall, or after hearing nobody. A member's silence, or a
 * probe's, that began before is not evidence against it.
 */
export function ownSilenceEnded(s: NodeState): number {
  return Math.max(s.listeningSince, s.heardAgainAt);
}

/** Members heard first-hand since `since`, counted up to deafToAllMinMembers. */
function talkersBefore(s: NodeState, since: number): number {
  let n = 0;
  for (const m of s.members.values()) if (m.lastDirect >= since && ++n >= s.profile.deafToAllMinMembers) break;
  return n;
}
