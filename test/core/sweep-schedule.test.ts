// When the silence sweep runs: at the moment a member's silence would pass its threshold, and
// otherwise with the node's next heartbeat, at most one interval after the last, so a device
// whose members are all heard seldom wakes for a sweep of its own. Driven in virtual time.
import { describe, expect, it } from 'vitest';
import type { TimerToken } from '../../runtime/core/effects.js';
import { MsgType, type Heartbeat } from '../../runtime/core/messages.js';
import { Node } from '../../runtime/core/node.js';
import { profiles } from '../../runtime/core/profiles.js';
import { lcg, Recorder, roughSize } from './recorder.js';

function node(id: string): Node {
  return new Node({ id, gen: 1, addr: `sim:${id}`, profile: profiles.lan, rng: lcg(7), size: roughSize, multicast: true });
}

function hb(id: string, seq: number): Heartbeat {
  return { type: MsgType.Heartbeat, from: { id, gen: 1 }, inc: 0, seq, intervalMs: 250, kvMax: 0, view: 0 };
}

type Timer = Recorder['timers'][number];

/**
 * Runs `a` from `from` to `until`: its timers fire in order, and members `ids` heartbeat to it
 * every 250 ms. Every timer `a` sets is passed to `onTimer`; `stop` ends the run early. With
 * `wakeUps`, timers fire as a device's scheduler fires them (runtime/host/scheduler.ts): at the
 * earliest moment one of them must (its due time plus the lateness it allows), together with
 * every other timer due by then, each such moment counted as one wake-up.
 */
function drive(
  a: Node,
  fx: Recorder,
  queue: Timer[],
  from: number,
  until: number,
  ids: readonly string[],
  onTimer: (at: number, token: TimerToken, now: number) => void = () => {},
  stop: () => boolean = () => false,
  wakeUps?: { count: number },
): number {
  let nextBeat = Math.ceil(from / 250) * 250;
  let now = from;
  for (;;) {
    for (const t of fx.timers) onTimer(t.at, t.token, now);
    queue.push(...fx.timers);
    fx.timers = [];
    queue.sort((p, q) => p.at - q.at);
    const timerAt = wakeUps ? Math.min(...queue.map((t) => t.at + t.lateMs)) : (queue[0]?.at ?? Infinity);
    const at = Math.min(timerAt, nextBeat);
    if (at > until) return until;
    now = Math.max(now, at);
    if (at === timerAt && wakeUps) {
      wakeUps.count++;
      const due = queue.filter((t) => t.at <= now);
      queue.splice(0, due.length);
      for (const t of due) a.timer(now, t.token, fx);
    } else if (at === timerAt) {
      const t = queue.shift()!;
      a.timer(now, t.token, fx);
    } else {
      // Numbered by when they are sent, so a member heard again after a pause shows its gap.
      for (const id of ids) a.receive(now, `sim:${id}`, [hb(id, nextBeat / 250 + 1)], fx);
      nextBeat += 250;
    }
    if (stop()) return now;
  }
}

describe('the silence sweep', () => {
  it('runs about once per heartbeat interval while every member is heard, not four times', () => {
    const a = node('a');
    const fx = new Recorder();
    const queue: Timer[] = [];
    a.start(0, fx);
    const members = ['x', 'y', 'z'];
    drive(a, fx, queue, 0, 5_000, members);
    const set = new Map<string, number>();
    const sweepsAt = new Set<number>();
    const beatsAt = new Set<number>();
    drive(a, fx, queue, 5_000, 15_000, members, (at, token) => {
      set.set(token.kind, (set.get(token.kind) ?? 0) + 1);
      if (token.kind === 'sweep') sweepsAt.add(at);
      if (token.kind === 'heartbeat') beatsAt.add(at);
    });
    // Never fewer than one per heartbeat interval: the sweep still looks at least that often.
    expect(set.get('sweep')).toBeGreaterThanOrEqual(38);
    // Its own heartbeats go on at their pace (four a second, jittered).
    expect(set.get('heartbeat')).toBeGreaterThanOrEqual(36);
    // A sweep that no deadline calls for runs with the next heartbeat: most sweeps share the
    // heartbeat's moment, and so its wake-up (the regular pace would be sixteen of their own a
    // second, one per interval apart from the heartbeat four).
    const ownMoments = [...sweepsAt].filter((at) => !beatsAt.has(at)).length;
    expect(ownMoments).toBeLessThanOrEqual(20);
    expect(sweepsAt.size - ownMoments).toBeGreaterThanOrEqual(30);
    expect(members.every((id) => a.statusOf(id) === 'alive')).toBe(true);
  });

  it("probes a member that falls silent the moment its silence passes the threshold, not a sweep interval later", () => {
    for (const lastBeatAt of [9_000, 9_250, 9_500, 9_750]) {
      const a = node('a');
      const fx = new Recorder();
      const queue: Timer[] = [];
      a.start(0, fx);
      drive(a, fx, queue, 0, lastBeatAt, ['x', 'y', 'z']);
      const { silenceMs } = a.silenceAllowedOf('x')!;
      fx.sends = [];
      // x stops; y and z go on. The probe's first ping goes out in the sweep that finds the silence.
      const pingAt = drive(a, fx, queue, lastBeatAt + 1, lastBeatAt + 10_000, ['y', 'z'], undefined, () =>
        fx.sent(MsgType.Ping).some((p) => p.target.id === 'x'),
      );
      expect(fx.sent(MsgType.Ping).some((p) => p.target.id === 'x')).toBe(true);
      expect(pingAt - lastBeatAt, `last heartbeat at ${lastBeatAt}`).toBeGreaterThanOrEqual(silenceMs);
      expect(pingAt - lastBeatAt, `last heartbeat at ${lastBeatAt}`).toBeLessThanOrEqual(silenceMs + 2);
    }
  });

  it('on a host that honours lateness, sweeps, anti-entropy and housekeeping wake it no more than its heartbeats do', () => {
    const a = node('a');
    const fx = new Recorder();
    const queue: Timer[] = [];
    a.start(0, fx);
    const members = ['x', 'y', 'z'];
    const wakeUps = { count: 0 };
    drive(a, fx, queue, 0, 5_000, members, undefined, undefined, wakeUps);
    wakeUps.count = 0;
    const asked = new Map<string, number>();
    const lateness = new Map<string, number>();
    drive(
      a,
      fx,
      queue,
      5_000,
      15_000,
      members,
      (_at, token) => asked.set(token.kind, (asked.get(token.kind) ?? 0) + 1),
      undefined,
      wakeUps,
    );
    for (const t of queue) lateness.set(t.token.kind, t.lateMs);
    // Anti-entropy and housekeeping are still asked for about once a second, counted from when
    // they were due, not from when they fired.
    expect(asked.get('anti-entropy')).toBeGreaterThanOrEqual(9);
    expect(asked.get('gc')).toBeGreaterThanOrEqual(9);
    // Each may wait for the next heartbeat (an interval and its jitter), never more than half a second.
    expect(lateness.get('anti-entropy')).toBe(275);
    expect(lateness.get('gc')).toBe(275);
    // About forty heartbeats in the 10 s; sweeps, anti-entropy and housekeeping share their
    // wake-ups (with no lateness allowed they would add some forty more of their own).
    expect(asked.get('heartbeat')).toBeGreaterThanOrEqual(36);
    expect(wakeUps.count).toBeLessThanOrEqual(asked.get('heartbeat')! + 4);
    expect(members.every((id) => a.statusOf(id) === 'alive')).toBe(true);
  });
});
