// Watchers (runtime/core/watchers.ts): once the group interval grows with the fleet, each node
// beats every heartbeatMinMs to a few ring successors, and those judge its silence at that
// pace. Driven by hand in virtual time.
import { describe, expect, it } from 'vitest';
import type { TimerToken } from '../../runtime/core/effects.js';
import { MULTICAST } from '../../runtime/core/effects.js';
import { MsgType, type Heartbeat, type Message } from '../../runtime/core/messages.js';
import { Node } from '../../runtime/core/node.js';
import { profiles } from '../../runtime/core/profiles.js';
import { heartbeatIntervalMs } from '../../runtime/core/timing.js';
import { ringHash } from '../../runtime/core/watchers.js';
import { lcg, Recorder, roughSize } from './recorder.js';

const lan = profiles.lan;
/** Members besides the node under test: 80 in all, so the group interval is 625 ms. */
const OTHERS = Array.from({ length: 79 }, (_, i) => `m${String(i).padStart(2, '0')}`);

function hb(id: string, seq: number, beat?: number): Heartbeat {
  return { type: MsgType.Heartbeat, from: { id, gen: 1 }, inc: 0, seq, intervalMs: 625, kvMax: 0, view: 0, ...(beat !== undefined ? { beat } : {}) };
}

function fleetOf80(id = 'a'): { n: Node; fx: Recorder } {
  const n = new Node({ id, gen: 1, addr: `sim:${id}`, profile: lan, rng: lcg(7), size: roughSize, multicast: true });
  const fx = new Recorder();
  n.start(0, fx);
  for (const o of OTHERS) if (o !== id) n.receive(1, `sim:${o}`, [hb(o, 1)], fx);
  return { n, fx };
}

/** Fire the node's timers in order up to `until`, calling `before(now)` ahead of each one. */
function runTo(n: Node, fx: Recorder, queue: { at: number; token: TimerToken }[], until: number, before: (now: number) => void = () => {}): void {
  for (;;) {
    queue.push(...fx.timers);
    fx.timers = [];
    queue.sort((x, y) => x.at - y.at);
    if (queue.length === 0 || queue[0]!.at > until) return;
    const t = queue.shift()!;
    before(t.at);
    n.timer(t.at, t.token, fx);
  }
}

/**
 * Before each timer: every member's group heartbeats due by then (one per 625 ms), and m00's
 * beats (one per 250 ms, numbered by `beatOf`), delivered late at most by the timer's gap.
 */
function everyone(n: Node, fx: Recorder, beatOf: (now: number, beat: number) => number): (now: number) => void {
  let groupSeq = 1;
  let beats = 0;
  return (now) => {
    for (; beats < Math.floor(now / 250); ) {
      beats++;
      n.receive(now, 'sim:m00', [hb('m00', groupSeq, beatOf(now, beats))], fx);
    }
    for (; groupSeq < 1 + Math.floor(now / 625); ) {
      groupSeq++;
      for (const o of OTHERS) n.receive(now, `sim:${o}`, [hb(o, groupSeq)], fx);
    }
  };
}

const pingsTo = (sends: readonly { to: string; msgs: readonly Message[] }[], addr: string): boolean =>
  sends.some((s) => s.to === addr && s.msgs.some((m) => m.type === MsgType.Ping));

describe('watchers', () => {
  it('the group interval keeps what a node hears near groupHeartbeatsPerS up to 128 members, then the segment cap rules', () => {
    expect(heartbeatIntervalMs(lan, 32, true)).toBe(250);
    expect(heartbeatIntervalMs(lan, 80, true)).toBe(625);
    expect(heartbeatIntervalMs(lan, 128, true)).toBe(1000);
    expect(heartbeatIntervalMs(lan, 1024, true)).toBe(2000);
    expect(heartbeatIntervalMs(lan, 128, false)).toBe(250);
    expect(heartbeatIntervalMs(profiles.wifi, 128, profiles.wifi.watchers > 0)).toBe(1000);
  });

  it('beats go to the three ring successors by id hash, directly and numbered; group heartbeats carry no beat number', () => {
    const { n, fx } = fleetOf80();
    expect(n.heartbeatMs).toBe(625);
    fx.clear();
    n.timer(300, { kind: 'beat' }, fx);
    const beats = fx.sends.filter((s) => s.msgs.some((m) => m.type === MsgType.Heartbeat));
    const self = ringHash('a');
    const successors = [...OTHERS].sort((x, y) => ((ringHash(x) - self) >>> 0) - ((ringHash(y) - self) >>> 0)).slice(0, 3);
    expect(beats.map((s) => s.to).sort()).toEqual(successors.map((o) => `sim:${o}`).sort());
    for (const s of beats) expect((s.msgs[0] as Heartbeat).beat).toBe(1);

    fx.clear();
    n.timer(400, { kind: 'heartbeat' }, fx);
    const group = fx.sends.find((s) => s.to === MULTICAST)!.msgs.find((m) => m.type === MsgType.Heartbeat) as Heartbeat;
    expect(group.beat).toBeUndefined();
  });

  it('a watcher the ring moves past gets farewell beats (numbered 0) for a few beat intervals, then none', () => {
    const { n, fx } = fleetOf80();
    const self = ringHash('a');
    const d = (id: string): number => (ringHash(id) - self) >>> 0;
    const before = [...OTHERS].sort((x, y) => d(x) - d(y)).slice(0, 3);
    n.timer(300, { kind: 'beat' }, fx);
    // A newcomer that lands closer on the ring than every watcher pushes the third one out.
    const newcomer = Array.from({ length: 5000 }, (_, i) => `j${i}`).find((id) => d(id) < d(before[0]!))!;
    n.receive(400, `sim:${newcomer}`, [hb(newcomer, 1)], fx);
    fx.clear();
    n.timer(700, { kind: 'beat' }, fx);
    const beatTo = (to: string): number | undefined => (fx.sends.find((s) => s.to === to)?.msgs[0] as Heartbeat | undefined)?.beat;
    expect(beatTo(`sim:${newcomer}`)).toBe(2);
    expect(beatTo(`sim:${before[0]!}`)).toBe(2);
    expect(beatTo(`sim:${before[1]!}`)).toBe(2);
    expect(beatTo(`sim:${before[2]!}`)).toBe(0);
    // Four farewells' worth of time later, the former watcher hears nothing more.
    fx.clear();
    n.timer(700 + 4 * 250 + 1, { kind: 'beat' }, fx);
    expect(beatTo(`sim:${before[2]!}`)).toBeUndefined();
  });

  it('a watcher that hears a farewell judges the member at the group interval again', () => {
    const { n, fx } = fleetOf80();
    const queue: { at: number; token: TimerToken }[] = [];
    runTo(n, fx, queue, 3000, everyone(n, fx, (now, beat) => (now < 2900 ? beat : 0)));
    fx.clear();
    runTo(n, fx, queue, 4000);
    expect(pingsTo(fx.sends, 'sim:m00')).toBe(false);
  });

  it('a small fleet whose group heartbeat is already at the shortest interval sends no beats', () => {
    const n = new Node({ id: 'a', gen: 1, addr: 'sim:a', profile: lan, rng: lcg(7), size: roughSize, multicast: true });
    const fx = new Recorder();
    n.start(0, fx);
    for (const o of OTHERS.slice(0, 10)) n.receive(1, `sim:${o}`, [hb(o, 1)], fx);
    fx.clear();
    n.timer(300, { kind: 'beat' }, fx);
    expect(fx.sends).toEqual([]);
  });

  it('a member that beats to us is probed within a few beats of going silent; one heard only through the group is not yet', () => {
    const { n, fx } = fleetOf80();
    const queue: { at: number; token: TimerToken }[] = [];
    // Everyone heartbeats to the group every 625 ms; m00 also beats to us every 250 ms, until
    // m00 and m01 both fall silent at 3 s.
    runTo(n, fx, queue, 3000, everyone(n, fx, (_now, beat) => beat));
    fx.clear();
    // No loss measured: silence thresholds of 3 intervals, 750 ms of beats or 1,875 ms of group
    // heartbeats (m01 was last heard at 2.5 s or later).
    runTo(n, fx, queue, 4000);
    expect(pingsTo(fx.sends, 'sim:m00')).toBe(true);
    expect(pingsTo(fx.sends, 'sim:m01')).toBe(false);
  });

  it("a watcher's accusation is checked first by a node that does not watch the accused: held, probed, and counted once the probe fails", () => {
    const { n, fx } = fleetOf80();
    const queue: { at: number; token: TimerToken }[] = [];
    runTo(n, fx, queue, 1199);
    fx.clear();
    n.receive(1200, 'sim:m06', [{ type: MsgType.Suspect, from: { id: 'm06', gen: 1 }, target: { id: 'm05', gen: 1 }, inc: 0 }], fx);
    expect(n.statusOf('m05')).toBe('alive');
    expect(pingsTo(fx.sends, 'sim:m05')).toBe(true);
    // Nobody answers: direct and indirect probes time out, and the held accusation joins ours.
    runTo(n, fx, queue, 1800);
    expect(n.statusOf('m05')).toBe('suspect');
    expect(n.suspicionOf('m05', 1800)?.accusers).toEqual(['a', 'm06']);
  });
});
