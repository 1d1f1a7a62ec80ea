// Fleet queries in the simulator: every running node answers the way an agent would (after a
// short think time, on its own timer), and one query at a time is asked and measured. The
// scenario test and `bench:sim --query` share this, so the figure printed is the one asserted.

import type { NodeRef } from '../core/messages.js';
import type { Fleet } from './fleet.js';

export interface QueryResult {
  readonly asker: string;
  /** Nodes running when the query was asked, the asker included. */
  readonly live: number;
  /** Virtual ms from asking to each reply, in arrival order. */
  readonly replyMs: readonly number[];
  /** Who the asker reported as not having answered at the deadline. */
  readonly missing: readonly string[];
  /** Replies that arrived within `withinMs` of asking, over `live`. */
  readonly fraction: number;
}

/** How long a simulated agent takes to answer a built-in query. */
const THINK_MS = 5;

/**
 * Make every node of the fleet answer queries: `body(id, name)` is the answer, or undefined for
 * a query the node does not know (answered "unknown"). Returns nothing; lasts for the fleet's life.
 */
export function answerQueries(fleet: Fleet, body: (id: string, name: string) => string | undefined = (id) => `v0.1.0 ${id}`): void {
  fleet.onEvent((_now, id, e) => {
    if (e.type !== 'query') return;
    const asker: NodeRef = e.asker;
    fleet.after(THINK_MS, () => {
      if (!fleet.isRunning(id)) return;
      const b = body(id, e.name);
      fleet.host(id).answer(asker, e.qid, b === undefined ? 'unknown' : 'ok', new TextEncoder().encode(b ?? ''));
    });
  });
}

/** Ask one query from `asker` and run until its deadline has passed. */
export function runQuery(fleet: Fleet, asker: string, opts: { name?: string; prefix?: string; timeoutMs: number; withinMs?: number }): QueryResult {
  const start = fleet.now;
  const replyMs: number[] = [];
  let missing: readonly string[] | undefined;
  let qid = -1;
  fleet.onEvent((now, id, e) => {
    if (id !== asker) return;
    if (e.type === 'query-reply' && e.qid === qid) replyMs.push(now - start);
    if (e.type === 'query-done' && e.qid === qid) missing = e.missing;
  });
  const live = fleet.runningIds().filter((id) => id.startsWith(opts.prefix ?? '')).length;
  qid = fleet.host(asker).ask(opts.name ?? 'version', new Uint8Array(), opts.prefix ?? '', opts.timeoutMs);
  fleet.runUntil(() => missing !== undefined, { maxMs: opts.timeoutMs + 1000, what: `query ${qid} from ${asker} to finish` });
  const within = opts.withinMs ?? opts.timeoutMs;
  return { asker, live, replyMs, missing: missing ?? [], fraction: replyMs.filter((t) => t <= within).length / live };
}
