// Sending news: fresh changes, accusations and goodbyes are queued in Broadcasts and go out
// on its repeat schedule, batched into as few datagrams as the budget allows. Where they go
// (the group, or a few random peers) is the spreading strategy's choice.

import type { Effects } from './effects.js';
import type { Message } from './messages.js';
import type { NodeState } from './node-state.js';

/** Queue news about `subject` (replacing older news on it) for `repeats` sends, default the whole schedule. */
export function queue(s: NodeState, subject: string, msg: Message, now: number, fx: Effects, repeats?: number): void {
  s.broadcasts.add(subject, msg, s.size(msg), now, repeats);
  scheduleFlush(s, now, fx);
}

/** Make sure a flush timer is set for the next news due, unless one already comes in time. */
export function scheduleFlush(s: NodeState, now: number, fx: Effects): void {
  const due = s.broadcasts.nextDue();
  if (due === undefined) return;
  const at = Math.max(now, due);
  if (at >= s.flushDue && s.flushDue > now) return;
  s.flushDue = at;
  fx.setTimer(at, { kind: 'flush' });
}

/** Send all news due now, a datagram at a time, then wait for the next. */
export function flush(s: NodeState, now: number, fx: Effects): void {
  // One byte of every datagram is the wire version in front of the messages.
  const budget = s.profile.datagramBudget - 1;
  for (;;) {
    const msgs = s.broadcasts.take(now, s.profile.flushSlackMs, budget);
    if (msgs.length === 0) break;
    s.spreading.flush(s, msgs, fx);
    if (!s.broadcasts.hasDue(now, s.profile.flushSlackMs)) break;
  }
  scheduleFlush(s, now, fx);
}
