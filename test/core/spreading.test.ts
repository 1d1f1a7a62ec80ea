import { describe, expect, it } from 'vitest';
import { MULTICAST } from '../../runtime/core/effects.js';
import { MsgType, type Heartbeat, type Message } from '../../runtime/core/messages.js';
import { Node } from '../../runtime/core/node.js';
import { profiles } from '../../runtime/core/profiles.js';
import { lcg, Recorder, roughSize } from './recorder.js';

// The two spreading strategies seen from outside the core: where heartbeats, relays and
// refutations go, and how long a suspicion must run, with and without the multicast group.

function node(multicast: boolean, seeds: string[] = []): Node {
  return new Node({ id: 'a', gen: 1, addr: 'sim:a', profile: profiles.lan, rng: lcg(7), size: roughSize, multicast, seeds });
}

function hb(id: string, seq = 1, inc = 0): Heartbeat {
  return { type: MsgType.Heartbeat, from: { id, gen: 1 }, inc, seq, intervalMs: 250, kvMax: 0, view: 0 };
}

/** Fire every timer the node asked for up to `until`, in time order, as a host would. */
function runTimers(n: Node, fx: Recorder, until: number): void {
  for (;;) {
    const due = fx.timers.filter((t) => t.at <= until).sort((x, y) => x.at - y.at)[0];
    if (!due) return;
    fx.timers.splice(fx.timers.indexOf(due), 1);
    n.timer(due.at, due.token, fx);
  }
}

const destinations = (fx: Recorder, type: Message['type']): string[] =>
  [...new Set(fx.sends.filter((s) => s.msgs.some((m) => m.type === type)).map((s) => s.to))].sort();

describe('spreading', () => {
  it('with multicast, heartbeats go to the group only; without, to a few known peers, or to the seeds while nobody is known', () => {
    const mc = node(true);
    const fx = new Recorder();
    mc.start(0, fx);
    mc.receive(1, 'sim:b', [hb('b')], fx);
    fx.clear();
    mc.timer(100, { kind: 'heartbeat' }, fx);
    expect(destinations(fx, MsgType.Heartbeat)).toEqual([MULTICAST]);

    const lonely = node(false, ['sim:seed']);
    const fx2 = new Recorder();
    lonely.start(0, fx2);
    fx2.clear();
    lonely.timer(100, { kind: 'heartbeat' }, fx2);
    expect(destinations(fx2, MsgType.Heartbeat)).toEqual(['sim:seed']);

    lonely.receive(101, 'sim:b', [hb('b')], fx2);
    lonely.receive(102, 'sim:c', [hb('c')], fx2);
    fx2.clear();
    lonely.timer(1000, { kind: 'heartbeat' }, fx2);
    expect(destinations(fx2, MsgType.Heartbeat)).toEqual(['sim:b', 'sim:c']);
  });

  it.each([
    [true, []],
    [false, ['sim:b', 'sim:c']],
  ])('multicast %s: a goodbye heard second-hand is relayed to %j', (multicast, relayedTo) => {
    const n = node(multicast);
    const fx = new Recorder();
    n.start(0, fx);
    n.receive(1, 'sim:b', [hb('b')], fx);
    n.receive(2, 'sim:c', [hb('c')], fx);
    n.receive(3, 'sim:d', [hb('d')], fx);
    fx.clear();
    n.receive(10, 'sim:b', [{ type: MsgType.Leave, from: { id: 'd', gen: 1 }, inc: 0 }], fx);
    expect(n.statusOf('d')).toBe('left');
    runTimers(n, fx, 10);
    expect(destinations(fx, MsgType.Leave)).toEqual(relayedTo);
  });

  it.each([
    [true, [MULTICAST, 'sim:b']],
    // More members than the fanout: every one of them is told directly.
    [false, ['sim:b', 'sim:c', 'sim:d', 'sim:e', 'sim:f']],
  ])('multicast %s: a refutation goes to %j', (multicast, to) => {
    const n = node(multicast);
    const fx = new Recorder();
    n.start(0, fx);
    for (const id of ['b', 'c', 'd', 'e', 'f']) n.receive(1, `sim:${id}`, [hb(id)], fx);
    fx.clear();
    n.receive(5, 'sim:b', [{ type: MsgType.Suspect, from: { id: 'b', gen: 1 }, target: { id: 'a', gen: 1 }, inc: 0 }], fx);
    expect(n.incarnation).toBe(1);
    const refuting = fx.sends.filter((s) => s.msgs.some((m) => m.type === MsgType.Heartbeat && m.inc === 1)).map((s) => s.to);
    expect([...new Set(refuting)].sort()).toEqual(to);
  });

  it.each([
    // Two sources, one confirmation: Lifeguard's timeout between 500 and 6000 ms with the group;
    // without it the minimum is the maximum, so a refutation spreading by gossip has time.
    [true, 3250],
    [false, 6000],
  ])('multicast %s: two accusers leave %i ms of suspicion', (multicast, msLeft) => {
    const n = node(multicast);
    const fx = new Recorder();
    n.start(0, fx);
    n.receive(10, 'sim:b', [hb('b')], fx);
    const accuse = (by: string): Message => ({ type: MsgType.Suspect, from: { id: by, gen: 1 }, target: { id: 'b', gen: 1 }, inc: 0 });
    n.receive(9000, 'sim:c', [accuse('c'), accuse('d')], fx);
    expect(n.statusOf('b')).toBe('suspect');
    expect(n.suspicionOf('b', 9000)).toMatchObject({ accusers: ['c', 'd'], confirmations: 1, msLeft });
  });
});
