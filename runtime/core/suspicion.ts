// One node's suspicion of a member. Nobody is declared dead on one observer's word: the record
// collects independent sources (accusers' node ids, and this node's own id once its own probe
// failed), and the Lifeguard timeout shrinks as they accumulate.

import { suspicionTimeoutMs } from './timing.js';

export interface Suspicion {
  /** The member's incarnation that is under suspicion; a higher one refutes it. */
  readonly inc: number;
  readonly startedAt: number;
  readonly sources: Set<string>;
}

export interface SuspicionBounds {
  readonly minMs: number;
  readonly maxMs: number;
  readonly expectedConfirmations: number;
}

export type Verdict = 'wait' | 'dead';

/**
 * Dead when at least two independent sources agree and the (shrinking) timeout has run, or when
 * the maximum timeout has run with nobody refuting. First-hand evidence of life clears the
 * record before this is ever asked, so "unrefuted" really means nobody heard from the member.
 */
export function verdict(s: Suspicion, now: number, b: SuspicionBounds): Verdict {
  const elapsed = now - s.startedAt;
  if (elapsed >= b.maxMs) return 'dead';
  if (s.sources.size < 2) return 'wait';
  const confirmations = s.sources.size - 1;
  return elapsed >= suspicionTimeoutMs(b.minMs, b.maxMs, confirmations, b.expectedConfirmations) ? 'dead' : 'wait';
}

/** When to look at this suspicion again (its verdict can only change then or on new input). */
export function nextDeadline(s: Suspicion, b: SuspicionBounds): number {
  const confirmations = Math.max(0, s.sources.size - 1);
  const t = s.sources.size < 2 ? b.maxMs : suspicionTimeoutMs(b.minMs, b.maxMs, confirmations, b.expectedConfirmations);
  return s.startedAt + t;
}
