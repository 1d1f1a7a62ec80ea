// The interval a node advertises in its heartbeats: the slack it asks for after a stall of its
// own, and what a device holding the fleet key can do to liveness with heartbeats alone (they
// are not signed): the interval it advertises and the members it invents. Driven in virtual time.
import { describe, expect, it } from 'vitest';
import type { TimerToken } from '../../runtime/core/effects.js';
import { MsgType, type Heartbeat } from '../../runtime/core/messages.js';
import { Node } from '../../runtime/core/node.js';
import { profiles } from '../../runtime/core/profiles.js';
import { lcg, Recorder, roughSize } from './recorder.js';

const lan = profiles.lan;

function node(id: string): Node {
  return new Node({ id, gen: 1, addr: `sim:${id}`, profile: lan, rng: lcg(7), size: roughSize, multicast: true });
}

function hb(id: string, seq: number, intervalMs = 250): Heartbeat {
  return { type: MsgType.Heartbeat, from: { id, gen: 1 }, inc: 0, seq, intervalMs, kvMax: 0, view: 0 };
}

const pending = new WeakMap<Recorder, { at: number; token: TimerToken }[]>();

/** The timers runUntil has not fired yet, in order, taken out of its queue. */
function takePending(fx: Recorder): { at: number; token: TimerToken }[] {
  const queue = [...(pending.get(fx) ?? []), ...fx.timers].sort((p, q) => p.at - q.at);
  pending.set(fx, []);
  fx.clear();
  return queue;
}

/** Resume at `now` after a freeze: every timer due meanwhile fires at once, in `order`. */
function resumeAt(n: Node, fx: Recorder, now: number, order = (q: { at: number; token: TimerToken }[]) => q): void {
  for (const t of order(takePending(fx))) n.timer(Math.max(now, t.at), t.token, fx);
}

/** Fire the node's timers in order until `until`, or until `stop` holds after a timer. */
function runUntil(n: Node, fx: Recorder, from: number, until: number, stop: () => boolean = () => false): number {
  const queue = pending.get(fx) ?? [];
  pending.set(fx, queue);
  let now = from;
  for (;;) {
    queue.push(...fx.timers);
    fx.timers = [];
    queue.sort((a, b) => a.at - b.at);
    if (queue.length === 0 || queue[0]!.at > until) return until;
    const next = queue.shift()!;
    now = Math.max(now, next.at);
    n.timer(now, next.token, fx);
    if (stop()) return now;
  }
}

describe('advertised heartbeat intervals and invented members', () => {
  it("a member's advertised interval never slows this node's heartbeat, and 4,096 invented members slow it at most to what maxFleetSize justifies", () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    a.receive(10, 'sim:x', [hb('x', 1, 2 ** 31)], fx);
    expect(a.heartbeatMs).toBe(250);
    // Believed at most 4x what two members justify.
    expect(a.member('x')!.heartbeatIntervalMs).toBe(1000);
    for (let i = 0; i < 4096; i++) a.receive(20, 'sim:evil', [hb(`sybil-${i}`, 1, 2 ** 31)], fx);
    expect(a.presentCount).toBe(4097);
    expect(a.heartbeatMs).toBe(2000);
    expect(Math.max(...[...a.members()].map((m) => m.heartbeatIntervalMs))).toBeLessThanOrEqual(8000);
  });

  it('one forged heartbeat advertising 2^31 ms keeps a crashed device alive for seconds, not days', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    // x heartbeats for 5 s, then crashes; at 5 s an insider forges one heartbeat for it.
    let now = 0;
    for (let seq = 1; now < 5000; seq++, now += 250) {
      runUntil(a, fx, now, now);
      a.receive(now, 'sim:x', [hb('x', seq)], fx);
    }
    const forgedAt = now;
    a.receive(forgedAt, 'sim:evil', [hb('x', 1_000_000_000, 2 ** 31)], fx);
    const deadAt = runUntil(a, fx, forgedAt, forgedAt + 24 * 3600_000, () => a.statusOf('x') === 'dead');
    expect(a.statusOf('x')).toBe('dead');
    // The bound for lan (README threat model): silenceMaxIntervals x 4 x 250 ms, a probe, and
    // the longest suspicion: 16 s + 0.6 s + 6 s.
    const bound = lan.silenceMaxIntervals * 4 * 250 + 3 * lan.probeTimeoutMs + lan.suspicionMaxMs;
    expect(deadAt - forgedAt).toBeLessThanOrEqual(bound);
  });
});

describe('slack after a stall of our own', () => {
  /** The intervals the heartbeats recorded so far advertised. */
  const advertised = (fx: Recorder): number[] => fx.sent(MsgType.Heartbeat).map((h) => h.intervalMs);

  it('heartbeats advertise an interval that allows for the stall for a minute after it, then the fleet interval again', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    a.receive(10, 'sim:x', [hb('x', 1)], fx);
    let now = runUntil(a, fx, 0, 5_000);
    // Joining first (the next test), then the fleet interval.
    expect(advertised(fx).at(-1)).toBe(250);
    fx.sends = [];
    // Frozen for 1.6 s: every timer due meanwhile fires at once when it resumes.
    now = 6_600;
    resumeAt(a, fx, now);
    expect(a.stats.get('stalls')).toBe(1);
    runUntil(a, fx, now, now + 55_000);
    const during = advertised(fx);
    expect(during.length).toBeGreaterThan(100);
    // The most overdue timer was due just after 5 s, so about 1.5–1.6 s late: members that
    // wait at least three intervals allow that stall and two intervals more.
    expect(Math.min(...during)).toBeGreaterThanOrEqual(Math.ceil((1_500 + 500) / 3));
    expect(Math.max(...during)).toBeLessThanOrEqual(Math.ceil((1_600 + 500) / 3));
    fx.sends = [];
    runUntil(a, fx, now + 55_000, now + 70_000);
    expect(advertised(fx).at(-1)).toBe(250);
  });

  it('a stall in the join keeps its slack 15 s past the join, not a minute; one after the join, the whole minute', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    a.receive(10, 'sim:x', [hb('x', 1)], fx);
    let now = runUntil(a, fx, 0, 600);
    // Frozen from 0.6 s to 2.2 s: it began in the join, which ends at 2,010 ms (2 s after x
    // was met); the late housekeeping ends it before the late heartbeat notices the stall.
    now = 2_200;
    resumeAt(a, fx, now, (late) => [...late.filter((t) => t.token.kind === 'gc'), ...late.filter((t) => t.token.kind !== 'gc')]);
    expect(a.stats.get('stalls')).toBe(1);
    expect(a.joining).toBe(false);
    const slack = a.stallSlackMs;
    expect(slack).toBeGreaterThanOrEqual(Math.ceil((1_500 + 500) / 3));
    // Held until 15 s past the join's end: dropped at the first housekeeping after 17,010 ms.
    runUntil(a, fx, now, 16_900);
    expect(a.stallSlackMs).toBe(slack);
    fx.sends = [];
    runUntil(a, fx, 16_900, 20_000);
    expect(a.stallSlackMs).toBe(0);
    expect(advertised(fx).at(-1)).toBe(250);
    // The same stall once the join is over is held for the whole minute.
    now = 21_600;
    resumeAt(a, fx, now);
    expect(a.stats.get('stalls')).toBe(2);
    runUntil(a, fx, now, now + 55_000);
    expect(a.stallSlackMs).toBeGreaterThan(250);
    runUntil(a, fx, now + 55_000, now + 62_000);
    expect(a.stallSlackMs).toBe(0);
  });

  it('a node asks for the slack of a join stall while it meets new members and for two seconds after the last', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    expect(a.joining).toBe(true);
    a.receive(10, 'sim:x', [hb('x', 1)], fx);
    runUntil(a, fx, 0, 1_500);
    a.receive(1_500, 'sim:y', [hb('y', 1)], fx);
    runUntil(a, fx, 1_500, 3_400);
    // A 4 s stall asks for more than members believe: four times the fleet interval.
    expect(new Set(advertised(fx))).toEqual(new Set([lan.advertisedIntervalFactor * 250]));
    expect(a.joining).toBe(true);
    fx.sends = [];
    // Two seconds after y, at the next housekeeping, the join is over.
    runUntil(a, fx, 3_400, 5_000);
    expect(a.joining).toBe(false);
    expect(advertised(fx).at(-1)).toBe(250);
    expect(a.stallSlackMs).toBe(0);
  });

  it("a member's slack lengthens the silence this node allows it, and says so", () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    a.receive(10, 'sim:x', [hb('x', 1, 1_000)], fx);
    a.receive(10, 'sim:y', [hb('y', 1)], fx);
    const x = a.silenceAllowedOf('x')!;
    const y = a.silenceAllowedOf('y')!;
    expect(x.intervalMs).toBe(1_000);
    expect(x.fleetIntervalMs).toBe(250);
    expect(y.intervalMs).toBe(250);
    expect(x.silenceMs).toBeGreaterThanOrEqual(lan.silenceMinIntervals * 1_000);
    expect(x.silenceMs).toBe(4 * y.silenceMs);
  });

  it('a join that goes on meeting members ends a minute after the start all the same', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    let now = 0;
    for (let i = 0; now < 70_000; i++, now += 1_000) {
      runUntil(a, fx, now - 1_000, now);
      a.receive(now, `sim:m${i}`, [hb(`m${i}`, 1)], fx);
      if (now === 59_000) expect(a.joining).toBe(true);
    }
    expect(a.joining).toBe(false);
    fx.sends = [];
    runUntil(a, fx, now - 1_000, now + 1_000);
    expect(a.stats.get('stalls') ?? 0).toBe(0);
    expect(advertised(fx).at(-1)).toBe(250);
  });

  it('a stall of hours asks for no more than members believe: four times the fleet interval', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    a.receive(10, 'sim:x', [hb('x', 1)], fx);
    runUntil(a, fx, 0, 1_000);
    const now = 3 * 3600_000;
    for (const t of takePending(fx)) a.timer(now, t.token, fx);
    runUntil(a, fx, now, now + 2_000);
    expect(Math.max(...advertised(fx))).toBe(lan.advertisedIntervalFactor * 250);
  });
});
