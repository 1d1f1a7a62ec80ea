// Fleet queries: ask every device a question and gather the answers.
//
// The asker's Query travels as news (dissemination.ts): through the multicast group on the
// repeat schedule, or epidemically from peer to peer without it, each device relaying it the
// first time it hears it. A device whose id starts with the query's prefix asks its agent for
// the answer (a 'query' event; the core never runs anything itself) and sends the agent's
// answer (Node.answer) straight to the asker, several times on a fixed schedule: a reply is one
// unicast datagram, lost independently each time, and the asker keeps the first copy per device.
// At the deadline the asker reports who answered and which present members of the prefix did not.
//
// Each asker gets a token bucket at every device: past it, its queries are dropped and counted
// (neither answered nor relayed), so one device cannot make the fleet run commands at its pace.

import { queue } from './dissemination.js';
import type { Effects } from './effects.js';
import { isPresent } from './member.js';
import type { Address, NodeId, NodeRef, Query, QueryReply, ReplyStatus } from './messages.js';
import { MsgType } from './messages.js';
import type { NodeState } from './node-state.js';
import { UnicastSpreading } from './spreading.js';

/** Payload bytes a query may carry: with its signature and names it must fit one datagram. */
export const MAX_QUERY_PAYLOAD = 512;
/** Body bytes a reply may carry, for the same reason. */
export const MAX_REPLY_BODY = 512;
/** Query names are short words like "version" or "disk-free". */
export const MAX_QUERY_NAME = 64;
/** A query waits at least this long (a round trip on a busy Wi-Fi) and at most this long. */
export const MIN_QUERY_TIMEOUT_MS = 100;
export const MAX_QUERY_TIMEOUT_MS = 60_000;
/**
 * When each copy of a reply goes out, after the answer is ready. Each copy is lost on its own:
 * at 10% loss all four are lost one time in ten thousand (with three, the worst of ten queries
 * at N=128 reached 99.2%, too close to the 99% goal: BENCHMARKS.md), and the last is out well
 * within a 3 s deadline. Copies are spread so that a burst of loss does not take them all.
 * Copies due after the query's timeout are not sent: the asker has stopped listening.
 */
export const REPLY_COPY_OFFSETS_MS: readonly number[] = [0, 250, 750, 1500];
/**
 * Queries each device accepts from one asker: a person asks a few questions, a script may poll
 * every second; a burst of ten covers a few scripts at once. A flood past this is dropped at
 * every device before anything runs.
 */
export const ASKER_RATE = { perS: 2, burst: 10 } as const;
/** Queries remembered (to hear each once) and answers pending, at most: the rate bounds honest use far below. */
const MAX_HEARD = 4096;
/** Drops from one asker are reported (an event, for the log) at most this often. */
const REPORT_EVERY_MS = 10_000;
/** A query is remembered this long past its own timeout, for repeats still in flight. */
const HEARD_SLACK_MS = 5_000;

interface Pending {
  readonly asker: NodeRef;
  readonly qid: number;
  /** The datagram that brought the query, when the asker's own address is not known. */
  readonly via: Address;
  readonly expires: number;
}

interface Asked {
  readonly prefix: string;
  readonly deadline: number;
  readonly answered: Set<NodeId>;
}

interface Copy {
  readonly at: number;
  readonly asker: NodeId;
  readonly via: Address;
  readonly msg: QueryReply;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** One node's queries: those it heard, those it owes an answer, those it asked. */
export class QueryBook {
  readonly #heard = new Map<string, number>();
  readonly #pending = new Map<string, Pending>();
  readonly #asked = new Map<number, Asked>();
  readonly #buckets = new Map<NodeId, Bucket>();
  readonly #drops = new Map<NodeId, { at: number; dropped: number }>();
  #copies: Copy[] = [];
  #nextQid = 1;
  #timerAt = Infinity;

  get outstanding(): number {
    return this.#asked.size;
  }

  /** Ask the fleet. Returns the query's number, which the 'query-reply' and 'query-done' events carry. */
  ask(s: NodeState, now: number, name: string, payload: Uint8Array, prefix: string, timeoutMs: number, fx: Effects): number {
    checkQuery(name, payload, prefix, timeoutMs);
    const qid = this.#nextQid++;
    const unsigned: Query = { type: MsgType.Query, from: s.self, qid, name, payload, prefix, timeoutMs };
    const q: Query = s.signer?.query ? { ...unsigned, sig: s.signer.query(unsigned) } : unsigned;
    this.#asked.set(qid, { prefix, deadline: now + timeoutMs, answered: new Set() });
    this.#heard.set(keyOf(s.self, qid), now + timeoutMs + HEARD_SLACK_MS);
    s.stats.count('queries-asked');
    queue(s, `query:${keyOf(s.self, qid)}`, q, now, fx);
    // Without the group, news reaches each device through a few random relays, and at 10% loss
    // about one device in 200 hears none of them. A question is rare and its answers cost a
    // datagram per device anyway: send it to each present member directly as well.
    if (s.spreading instanceof UnicastSpreading) for (const m of s.members.values()) if (isPresent(m)) fx.send(m.addr, [q]);
    this.#schedule(now + timeoutMs, fx);
    if (s.self.id.startsWith(prefix)) this.#owe(s, q, s.addr, now, fx);
    return qid;
  }

  /** A query arrived (the gatekeeper has checked the asker's signature). */
  onQuery(s: NodeState, now: number, from: Address, q: Query, fx: Effects): void {
    const key = keyOf(q.from, q.qid);
    if (this.#heard.has(key)) return s.stats.count('query-repeats');
    this.#forgetOld(now);
    this.#heard.set(key, now + q.timeoutMs + HEARD_SLACK_MS);
    if (!this.#spend(q.from.id, now)) return this.#dropped(s, q.from, now, fx);
    s.stats.count('queries-heard');
    s.spreading.relay(s, `query:${key}`, q, now, fx);
    if (q.from.id === s.self.id || !s.self.id.startsWith(q.prefix)) return;
    this.#owe(s, q, from, now, fx);
  }

  /** Has this node not heard this query yet? The host checks signatures only of those. */
  queryIsNews(q: Query): boolean {
    return !this.#heard.has(keyOf(q.from, q.qid));
  }

  /** Would this reply be news to a query of ours? The host checks signatures only of those. */
  replyIsNews(s: NodeState, r: QueryReply): boolean {
    if (r.asker.id !== s.self.id || r.asker.gen !== s.self.gen) return false;
    const a = this.#asked.get(r.qid);
    return a !== undefined && !a.answered.has(r.from.id);
  }

  onReply(s: NodeState, now: number, r: QueryReply, fx: Effects): void {
    if (!this.replyIsNews(s, r)) return s.stats.count('query-replies-ignored');
    const a = this.#asked.get(r.qid)!;
    if (now > a.deadline) return s.stats.count('query-replies-late');
    a.answered.add(r.from.id);
    s.stats.count('query-replies');
    fx.emit({ type: 'query-reply', qid: r.qid, from: r.from, status: r.status, body: r.body });
  }

  /**
   * The agent's answer to a 'query' event. False when the query is unknown or past its
   * timeout (nothing is sent). A body too large for a datagram becomes an error reply.
   */
  answer(s: NodeState, now: number, asker: NodeRef, qid: number, status: ReplyStatus, body: Uint8Array, fx: Effects): boolean {
    const key = keyOf(asker, qid);
    const p = this.#pending.get(key);
    if (!p) return false;
    this.#pending.delete(key);
    if (now > p.expires) {
      s.stats.count('query-answers-late');
      return false;
    }
    if (body.length > MAX_REPLY_BODY) {
      s.stats.count('query-answers-too-large');
      body = new TextEncoder().encode(`reply of ${body.length} bytes is over the ${MAX_REPLY_BODY}-byte limit`);
      status = 'error';
    }
    const unsigned: QueryReply = { type: MsgType.QueryReply, from: s.self, asker, qid, status, body };
    const r: QueryReply = s.signer?.queryReply ? { ...unsigned, sig: s.signer.queryReply(unsigned) } : unsigned;
    if (asker.id === s.self.id && asker.gen === s.self.gen) {
      this.onReply(s, now, r, fx);
      return true;
    }
    s.stats.count('query-answers');
    for (const off of REPLY_COPY_OFFSETS_MS) {
      if (off > 0 && now + off > p.expires) break;
      this.#copies.push({ at: now + off, asker: asker.id, via: p.via, msg: r });
    }
    this.#sendDue(s, now, fx);
    return true;
  }

  /** The 'queries' timer: reply copies due, and deadlines of our own queries. */
  onTimer(s: NodeState, now: number, fx: Effects): void {
    if (now < this.#timerAt) return;
    this.#timerAt = Infinity;
    this.#sendDue(s, now, fx);
    for (const [qid, a] of this.#asked) {
      if (a.deadline > now) {
        this.#schedule(a.deadline, fx);
        continue;
      }
      this.#asked.delete(qid);
      fx.emit({ type: 'query-done', qid, answered: [...a.answered], missing: missing(s, a) });
    }
  }

  #owe(s: NodeState, q: Query, via: Address, now: number, fx: Effects): void {
    if (this.#pending.size >= MAX_HEARD) return s.stats.count('query-pending-full');
    this.#pending.set(keyOf(q.from, q.qid), { asker: q.from, qid: q.qid, via, expires: now + q.timeoutMs });
    fx.emit({ type: 'query', asker: q.from, qid: q.qid, name: q.name, payload: q.payload, timeoutMs: q.timeoutMs });
  }

  #sendDue(s: NodeState, now: number, fx: Effects): void {
    const later: Copy[] = [];
    for (const c of this.#copies) {
      if (c.at > now) {
        later.push(c);
        continue;
      }
      // The asker's address as the member table has it now: it may have moved since it asked.
      const m = s.members.get(c.asker);
      fx.send(m && m.gen === c.msg.asker.gen ? m.addr : c.via, [c.msg]);
    }
    this.#copies = later;
    for (const c of later) this.#schedule(c.at, fx);
  }

  #schedule(at: number, fx: Effects): void {
    if (at >= this.#timerAt) return;
    this.#timerAt = at;
    fx.setTimer(at, { kind: 'queries' });
  }

  #spend(asker: NodeId, now: number): boolean {
    let b = this.#buckets.get(asker);
    if (!b) {
      if (this.#buckets.size >= MAX_HEARD) this.#buckets.clear();
      b = { tokens: ASKER_RATE.burst, at: now };
      this.#buckets.set(asker, b);
    }
    b.tokens = Math.min(ASKER_RATE.burst, b.tokens + ((now - b.at) * ASKER_RATE.perS) / 1000);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  #dropped(s: NodeState, asker: NodeRef, now: number, fx: Effects): void {
    s.stats.count('query-rate-limited');
    let d = this.#drops.get(asker.id);
    if (!d) {
      if (this.#drops.size >= MAX_HEARD) this.#drops.clear();
      d = { at: -Infinity, dropped: 0 };
      this.#drops.set(asker.id, d);
    }
    d.dropped++;
    if (now - d.at < REPORT_EVERY_MS) return;
    fx.emit({ type: 'query-rate-limited', asker, dropped: d.dropped });
    d.at = now;
    d.dropped = 0;
  }

  #forgetOld(now: number): void {
    if (this.#heard.size < MAX_HEARD) return;
    for (const [k, until] of this.#heard) if (until < now) this.#heard.delete(k);
    for (const [k, p] of this.#pending) if (p.expires < now) this.#pending.delete(k);
    // Still full of live entries: forget the oldest (a Map iterates in insertion order).
    while (this.#heard.size >= MAX_HEARD) this.#heard.delete(this.#heard.keys().next().value!);
  }
}

/** Throws a RangeError naming what is wrong with a query before it is asked. */
export function checkQuery(name: string, payload: Uint8Array, prefix: string, timeoutMs: number): void {
  if (name.length === 0 || name.length > MAX_QUERY_NAME) throw new RangeError(`query name: expected 1 to ${MAX_QUERY_NAME} characters, got ${name.length}`);
  if (payload.length > MAX_QUERY_PAYLOAD) {
    throw new RangeError(`query payload: ${payload.length} bytes is over the ${MAX_QUERY_PAYLOAD}-byte limit (a query travels in one datagram)`);
  }
  if (prefix.length > MAX_QUERY_NAME) throw new RangeError(`query device prefix: expected at most ${MAX_QUERY_NAME} characters, got ${prefix.length}`);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < MIN_QUERY_TIMEOUT_MS || timeoutMs > MAX_QUERY_TIMEOUT_MS) {
    throw new RangeError(`query timeout: expected ${MIN_QUERY_TIMEOUT_MS} to ${MAX_QUERY_TIMEOUT_MS} ms, got ${timeoutMs}`);
  }
}

function keyOf(asker: NodeRef, qid: number): string {
  return `${asker.id}\u0000${asker.gen}\u0000${qid}`;
}

/** Present members of the prefix (and this node, when it matches) that have not answered. */
function missing(s: NodeState, a: Asked): NodeId[] {
  const out: NodeId[] = [];
  if (s.self.id.startsWith(a.prefix) && !a.answered.has(s.self.id)) out.push(s.self.id);
  for (const m of s.members.values()) {
    if (m.status !== 'alive' && m.status !== 'suspect') continue;
    if (m.id.startsWith(a.prefix) && !a.answered.has(m.id)) out.push(m.id);
  }
  return out.sort();
}
