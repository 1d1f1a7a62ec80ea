// A node that hears no member at all, while it knows several that each heartbeat several times
// a second, has lost its own link (a cable pulled, Wi-Fi out of range, its interface down); the
// whole fleet did not fall silent at the same moment. Like a stall, that silence is its own: it
// starts no probe, a probe that fails meanwhile accuses nobody, and members' silence counts
// again only from when it hears someone. Only for so long (unreliableSilenceMaxMs): a fleet that
// really did die around it is still declared dead, that much later. Without the multicast group
// a node hears each peer only now and then, and this does not apply.

import type { NodeState } from './node-state.js';

/** Someone was heard first-hand: silence before this, while we heard nobody, was ours. */
export function heardSomeone(s: NodeState, now: number): void {
  s.lastHeardAny = now;
  if (s.deafToAllSince === undefined) return;
  s.deafToAllSince = undefined;
  s.listeningSince = Math.max(s.listeningSince, now);
}

/**
 * At a sweep: whether we hear nobody, and have for long enough that no member's silence is
 * evidence. `k` intervals of `intervalMs` make one member's silence suspicious; half that from
 * every member at once means our own link.
 */
export function deafToAll(s: NodeState, now: number, k: number, intervalMs: number): boolean {
  if (!s.spreading.gapsAreLoss || s.present < s.profile.deafToAllMinMembers) return false;
  const quiet = now - Math.max(s.lastHeardAny, s.listeningSince);
  if (quiet < Math.ceil(k / 2) * intervalMs) return false;
  if (s.deafToAllSince === undefined) {
    s.deafToAllSince = now - quiet;
    s.stats.count('deaf-to-all');
  }
  return isDeafToAll(s, now);
}

/** Whether we are deaf to every member now, and not so long that their silence counts again. */
export function isDeafToAll(s: NodeState, now: number): boolean {
  return s.deafToAllSince !== undefined && now - s.deafToAllSince < s.profile.unreliableSilenceMaxMs;
}
