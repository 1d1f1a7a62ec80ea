// What the core asks of the world. The core never performs I/O; every entry point takes an
// `Effects` sink and reports what it wants done through its three verbs (send, setTimer, emit),
// as foca does. The UDP agent and the simulator each implement it; a test can simply record.

import type { Address, MemberStatus, Message, NodeId, NodeRef, ReplyStatus, Value, Verdict } from './messages.js';

/** Destination meaning "the multicast group on every joined interface". */
export const MULTICAST: Address = '*';

/** Randomness is injected so a simulator can replay a run from its seed. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

/**
 * Timers are tokens that say what they are about. The core recognises stale tokens itself
 * (e.g. a probe timeout for a probe that already succeeded), so the runtime never has to cancel.
 */
export type TimerToken =
  | { readonly kind: 'heartbeat' }
  | { readonly kind: 'sweep' }
  | { readonly kind: 'anti-entropy' }
  | { readonly kind: 'flush' }
  | { readonly kind: 'probe-timeout'; readonly probe: number }
  | { readonly kind: 'gc' }
  | { readonly kind: 'queries' };

export type CoreEvent =
  | { readonly type: 'member-joined'; readonly member: NodeRef; readonly addr: Address }
  | { readonly type: 'member-restarted'; readonly member: NodeRef; readonly previousGen: number }
  | {
      readonly type: 'member-status';
      readonly member: NodeRef;
      readonly status: MemberStatus;
      readonly previous: MemberStatus;
      /** The verdict after and before this change: equal when it only begins or ends a suspicion. */
      readonly verdict: Verdict;
      readonly previousVerdict: Verdict;
      /** Node ids whose accusations (or own evidence, for this node's id) led here. */
      readonly sources: readonly string[];
    }
  | { readonly type: 'member-removed'; readonly member: NodeRef }
  | {
      readonly type: 'kv-changed';
      readonly owner: NodeRef;
      readonly key: string;
      readonly value: Value | null;
      readonly version: number;
    }
  | { readonly type: 'suspected-self'; readonly by: NodeRef; readonly inc: number }
  /** A query this node should answer (Node.answer), its own queries included. */
  | {
      readonly type: 'query';
      readonly asker: NodeRef;
      readonly qid: number;
      readonly name: string;
      readonly payload: Uint8Array;
      readonly timeoutMs: number;
    }
  /** A reply to one of this node's queries, the first from that device. */
  | { readonly type: 'query-reply'; readonly qid: number; readonly from: NodeRef; readonly status: ReplyStatus; readonly body: Uint8Array }
  /** Queries from `asker` past its rate were dropped: the first drop, then at most one report every 10 s with the count since the last. */
  | { readonly type: 'query-rate-limited'; readonly asker: NodeRef; readonly dropped: number }
  /** One of this node's queries reached its deadline: who answered, and the present members of its prefix who did not. */
  | { readonly type: 'query-done'; readonly qid: number; readonly answered: readonly NodeId[]; readonly missing: readonly NodeId[] };

export interface Effects {
  /** Every message in one call goes into one datagram; the core keeps it within the budget. */
  send(to: Address, msgs: readonly Message[]): void;
  /**
   * Fire `token` at virtual/real time `at` (ms). Setting a token kind again does not cancel the
   * old one. `lateMs`: the token may fire up to that much later, so a host whose every wake-up
   * costs (a device) can fire it with another timer; a host may ignore it.
   */
  setTimer(at: number, token: TimerToken, lateMs?: number): void;
  emit(event: CoreEvent): void;
}

/** Measures a message's encoded size in bytes, so the core can pack datagrams against the budget. */
export type MessageSize = (msg: Message) => number;
