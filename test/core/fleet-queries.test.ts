import { describe, expect, it } from 'vitest';
import { MULTICAST, type CoreEvent } from '../../runtime/core/effects.js';
import { MsgType, type Heartbeat, type Query, type QueryReply } from '../../runtime/core/messages.js';
import { Node } from '../../runtime/core/node.js';
import { profiles } from '../../runtime/core/profiles.js';
import { ASKER_RATE, MAX_QUERY_PAYLOAD, REPLY_COPY_OFFSETS_MS } from '../../runtime/core/queries.js';
import { lcg, Recorder, roughSize } from './recorder.js';

function node(id: string, multicast = true): Node {
  return new Node({ id, gen: 1, addr: `sim:${id}`, profile: profiles.lan, rng: lcg(id.length), size: roughSize, multicast });
}

function hb(id: string): Heartbeat {
  return { type: MsgType.Heartbeat, from: { id, gen: 1 }, inc: 0, seq: 1, intervalMs: 250, kvMax: 0, view: 0 };
}

function query(from: string, qid: number, prefix = '', name = 'version'): Query {
  return { type: MsgType.Query, from: { id: from, gen: 1 }, qid, name, payload: new Uint8Array([1]), prefix, timeoutMs: 3000 };
}

/** pi-b, started at 0, has heard pi-a's heartbeat at 1 ms. */
function heardByB(): { b: Node; fx: Recorder } {
  const b = node('pi-b');
  const fx = new Recorder();
  b.start(0, fx);
  b.receive(1, 'sim:pi-a', [hb('pi-a')], fx);
  return { b, fx };
}

const asked = (fx: Recorder): Extract<CoreEvent, { type: 'query' }>[] => fx.events.filter((e): e is Extract<CoreEvent, { type: 'query' }> => e.type === 'query');
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Fire every 'queries' timer due by `until`, in order. */
function runTimers(n: Node, fx: Recorder, until: number): void {
  for (;;) {
    const due = fx.timers.filter((t) => t.token.kind === 'queries' && t.at <= until).sort((x, y) => x.at - y.at)[0];
    if (!due) return;
    fx.timers.splice(fx.timers.indexOf(due), 1);
    n.timer(due.at, due.token, fx);
  }
}

describe('fleet queries in the core', () => {
  it('the asker sends its query as news to the group and asks its own agent too', () => {
    const a = node('pi-a');
    const fx = new Recorder();
    a.start(0, fx);
    fx.clear();
    const qid = a.ask(10, 'version', new Uint8Array(), '', 3000, fx);
    const flush = fx.timers.find((t) => t.token.kind === 'flush')!;
    a.timer(flush.at, flush.token, fx);
    const sent = fx.sends.filter((s) => s.to === MULTICAST).flatMap((s) => s.msgs);
    expect(sent.some((m) => m.type === MsgType.Query && m.qid === qid && m.name === 'version')).toBe(true);
    expect(asked(fx).map((e) => e.asker.id)).toEqual(['pi-a']);
  });

  it('a device answers a query once, sends the answer to the asker on the copy schedule, and the asker keeps the first', () => {
    const { b, fx } = heardByB();
    fx.clear();
    b.receive(5, 'sim:pi-a', [query('pi-a', 1)], fx);
    b.receive(40, 'sim:pi-a', [query('pi-a', 1)], fx);
    expect(asked(fx)).toHaveLength(1);
    expect(b.stats.get('query-repeats')).toBe(1);
    expect(b.answer(50, { id: 'pi-a', gen: 1 }, 1, 'ok', text('0.1.0'), fx)).toBe(true);
    // Answered once: a second answer to the same query sends nothing.
    expect(b.answer(51, { id: 'pi-a', gen: 1 }, 1, 'ok', text('again'), fx)).toBe(false);
    runTimers(b, fx, 5000);
    const replies = fx.sends.filter((s) => s.msgs.some((m) => m.type === MsgType.QueryReply));
    expect(replies).toHaveLength(REPLY_COPY_OFFSETS_MS.length);
    expect(replies.every((s) => s.to === 'sim:pi-a')).toBe(true);

    const a = node('pi-a');
    const fa = new Recorder();
    a.start(0, fa);
    a.receive(1, 'sim:pi-b', [hb('pi-b'), hb('pi-c')], fa);
    const qid = a.ask(2, 'version', new Uint8Array(), '', 3000, fa);
    const reply = replies[0]!.msgs[0] as QueryReply;
    for (let i = 0; i < 3; i++) a.receive(100 + i, 'sim:pi-b', [{ ...reply, qid }], fa);
    const got = fa.events.filter((e) => e.type === 'query-reply');
    expect(got).toHaveLength(1);
    expect(a.stats.get('query-replies-ignored')).toBe(2);
    runTimers(a, fa, 3002);
    const done = fa.events.find((e) => e.type === 'query-done');
    // pi-a itself never answered its own query here, and pi-c never did either.
    expect(done).toEqual({ type: 'query-done', qid, answered: ['pi-b'], missing: ['pi-a', 'pi-c'] });
  });

  it('only devices whose id starts with the prefix answer; all of them relay without multicast', () => {
    const b = node('kitchen-1', false);
    const fx = new Recorder();
    b.start(0, fx);
    b.receive(1, 'sim:pi-a', [hb('pi-a'), hb('pi-x')], fx);
    fx.clear();
    b.receive(5, 'sim:pi-a', [query('pi-a', 1, 'hall-')], fx);
    expect(asked(fx)).toHaveLength(0);
    const flush = fx.timers.find((t) => t.token.kind === 'flush')!;
    b.timer(flush.at, flush.token, fx);
    expect(fx.sent(MsgType.Query)).not.toHaveLength(0);
  });

  it('reply copies due after the query\'s timeout are not sent', () => {
    const { b, fx } = heardByB();
    b.receive(5, 'sim:pi-a', [query('pi-a', 1)], fx);
    fx.clear();
    // Answered 2.5 s into a 3 s query: the copies at 0 and 250 ms go, those at 750 and 1,500 ms would be too late.
    b.answer(2505, { id: 'pi-a', gen: 1 }, 1, 'ok', text('slow'), fx);
    runTimers(b, fx, 10_000);
    expect(fx.sent(MsgType.QueryReply)).toHaveLength(2);
  });

  it('an answer after the query timed out is not sent', () => {
    const { b, fx } = heardByB();
    b.receive(5, 'sim:pi-a', [query('pi-a', 1)], fx);
    fx.clear();
    expect(b.answer(3006, { id: 'pi-a', gen: 1 }, 1, 'ok', text('late'), fx)).toBe(false);
    expect(fx.sends).toHaveLength(0);
    expect(b.stats.get('query-answers-late')).toBe(1);
  });

  it('a reply body over the limit goes out as an error saying so', () => {
    const { b, fx } = heardByB();
    b.receive(5, 'sim:pi-a', [query('pi-a', 1)], fx);
    b.answer(6, { id: 'pi-a', gen: 1 }, 1, 'ok', new Uint8Array(4096), fx);
    const r = fx.sent(MsgType.QueryReply)[0]!;
    expect(r.status).toBe('error');
    expect(new TextDecoder().decode(r.body)).toMatch(/reply of 4096 bytes is over the 512-byte limit/);
  });

  it('queries past an asker\'s rate are dropped and counted, neither answered nor relayed', () => {
    const b = node('pi-b', false);
    const fx = new Recorder();
    b.start(0, fx);
    b.receive(1, 'sim:pi-a', [hb('pi-a'), hb('pi-c')], fx);
    fx.clear();
    // 1,000 queries in one second from one asker.
    for (let i = 0; i < 1000; i++) b.receive(10 + i, 'sim:pi-a', [query('pi-a', i + 1)], fx);
    const accepted = asked(fx).length;
    expect(accepted).toBeLessThanOrEqual(ASKER_RATE.burst + ASKER_RATE.perS * 1);
    expect(b.stats.get('query-rate-limited')).toBe(1000 - accepted);
    // Reported for the log once at the first drop, not once per drop.
    expect(fx.events.filter((e) => e.type === 'query-rate-limited')).toEqual([{ type: 'query-rate-limited', asker: { id: 'pi-a', gen: 1 }, dropped: 1 }]);
    // Another asker is not held back by the first one's flood.
    b.receive(1011, 'sim:pi-c', [query('pi-c', 1)], fx);
    expect(asked(fx).at(-1)!.asker.id).toBe('pi-c');
    expect(b.statusOf('pi-a')).toBe('alive');
  });

  it('refuses to ask a query whose payload does not fit a datagram, naming the limit', () => {
    const a = node('pi-a');
    const fx = new Recorder();
    a.start(0, fx);
    expect(() => a.ask(1, 'version', new Uint8Array(1 << 20), '', 3000, fx)).toThrow(
      `query payload: 1048576 bytes is over the ${MAX_QUERY_PAYLOAD}-byte limit (a query travels in one datagram)`,
    );
    expect(() => a.ask(1, 'version', new Uint8Array(), '', 10, fx)).toThrow(/query timeout: expected 100 to 60000 ms, got 10/);
    expect(a.queriesOutstanding).toBe(0);
  });
});
