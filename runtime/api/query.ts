// The stream behind POST /v1/query: one fleet query asked by a local program (`murmur query`),
// each reply as it arrives, then who did not answer. The core does the asking and gathering
// (runtime/core/queries.ts); this routes its events to the connection that asked.

import type { CoreEvent } from '../core/effects.js';
import type { ReplyStatus } from '../core/messages.js';

export type QueryStreamEvent =
  | { readonly type: 'asked'; readonly qid: number; readonly from: string; readonly name: string; readonly prefix: string; readonly timeoutMs: number; readonly expected: number }
  | { readonly type: 'reply'; readonly from: string; readonly status: ReplyStatus; readonly body: string; readonly ms: number }
  | { readonly type: 'done'; readonly answered: number; readonly missing: readonly string[]; readonly ms: number };

export interface QuerySink {
  readonly send: (e: QueryStreamEvent) => void;
  /** The stream is over (after 'done'). */
  readonly end: () => void;
}

export interface QueryAsker {
  readonly id: string;
  /** Throws a RangeError naming what is wrong with the query. */
  ask(name: string, payload: Uint8Array, prefix: string, timeoutMs: number): number;
  /** Present members whose id starts with `prefix`, this node included when it matches. */
  expected(prefix: string): number;
  now(): number;
}

/** Queries one node may have open at once: each holds a connection and the asker's rate is small anyway. */
export const MAX_OPEN_QUERIES = 8;

export class TooManyQueriesError extends Error {}

export class QueryHub {
  readonly #asker: QueryAsker;
  readonly #open = new Map<number, { readonly sink: QuerySink; readonly at: number }>();
  readonly #decoder = new TextDecoder();

  constructor(asker: QueryAsker) {
    this.#asker = asker;
  }

  get open(): number {
    return this.#open.size;
  }

  /** Ask, and stream what comes back to `sink`. Returns the stop function (the client went away). */
  ask(name: string, payload: Uint8Array, prefix: string, timeoutMs: number, sink: QuerySink): () => void {
    if (this.#open.size >= MAX_OPEN_QUERIES) throw new TooManyQueriesError(`${MAX_OPEN_QUERIES} queries are already open on this node; wait for one to finish`);
    const at = this.#asker.now();
    const expected = this.#asker.expected(prefix);
    const qid = this.#asker.ask(name, payload, prefix, timeoutMs);
    this.#open.set(qid, { sink, at });
    sink.send({ type: 'asked', qid, from: this.#asker.id, name, prefix, timeoutMs, expected });
    return () => this.#open.delete(qid);
  }

  /** A core event; never throws (it runs inside the core's event path). */
  observe(e: CoreEvent): void {
    if (e.type !== 'query-reply' && e.type !== 'query-done') return;
    const q = this.#open.get(e.qid);
    if (!q) return;
    const ms = Math.round(this.#asker.now() - q.at);
    try {
      if (e.type === 'query-reply') {
        q.sink.send({ type: 'reply', from: e.from.id, status: e.status, body: this.#decoder.decode(e.body), ms });
        return;
      }
      this.#open.delete(e.qid);
      q.sink.send({ type: 'done', answered: e.answered.length, missing: e.missing, ms });
      q.sink.end();
    } catch {
      // The connection is gone; its 'close' removes it.
      this.#open.delete(e.qid);
    }
  }
}
