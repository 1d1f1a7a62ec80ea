// What a device holding the fleet key can do to liveness with heartbeats alone (they are not
// signed): the interval a member advertises and the members it invents. Driven in virtual time.
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
