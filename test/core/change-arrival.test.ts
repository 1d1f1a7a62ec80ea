import { describe, expect, it } from 'vitest';
import { MsgType, type Delta, type Heartbeat } from '../../runtime/core/messages.js';
import { Node } from '../../runtime/core/node.js';
import { profiles } from '../../runtime/core/profiles.js';
import { lcg, Recorder, roughSize } from './recorder.js';

// How long a member's changes take to arrive, as the core measures it: from the first news that
// this node is behind (a heartbeat announcing a newer version) to each change's arrival; 0 for
// changes that arrive before any news of them.

function hb(seq: number, kvMax: number): Heartbeat {
  return { type: MsgType.Heartbeat, from: { id: 'b', gen: 1 }, inc: 0, seq, intervalMs: 250, kvMax, view: 0 };
}

function delta(fromV: number, toV: number): Delta {
  const entries = [];
  for (let v = fromV + 1; v <= toV; v++) entries.push({ key: `k${v}`, version: v, value: v, ttlMs: 0 });
  return { type: MsgType.Delta, from: { id: 'b', gen: 1 }, owner: { id: 'b', gen: 1 }, fromV, toV, reset: fromV === 0, entries };
}

describe('change arrival', () => {
  it('is the time since the first news for each change fetched, 0 for each change pushed', () => {
    const a = new Node({ id: 'a', gen: 1, addr: 'sim:a', profile: profiles.lan, rng: lcg(1), size: roughSize, multicast: true });
    const seen: Array<[string, number]> = [];
    a.stats.onDuration = (name, ms) => seen.push([name, ms]);
    const fx = new Recorder();
    a.start(0, fx);
    a.receive(10, 'sim:b', [hb(1, 0)], fx);
    // Pushed: two changes, before any heartbeat announced them.
    a.receive(20, 'sim:b', [delta(0, 2)], fx);
    expect(seen).toEqual([['change-arrival', 0], ['change-arrival', 0]]);
    seen.length = 0;
    // Announced at 100 (and again at 350, which does not restart the clock), arriving at 400.
    a.receive(100, 'sim:b', [hb(2, 4)], fx);
    a.receive(350, 'sim:b', [hb(3, 4)], fx);
    a.receive(400, 'sim:b', [delta(2, 3)], fx);
    // Still behind (4 was announced): the next change counts from 100 as well.
    a.receive(500, 'sim:b', [delta(3, 4)], fx);
    expect(seen).toEqual([['change-arrival', 300], ['change-arrival', 400]]);
    seen.length = 0;
    // Caught up: the next pushed change is 0 again.
    a.receive(600, 'sim:b', [delta(4, 5)], fx);
    expect(seen).toEqual([['change-arrival', 0]]);
  });
});
