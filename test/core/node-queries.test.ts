import { describe, expect, it } from 'vitest';
import { MsgType, type Delta, type Heartbeat } from '../../runtime/core/messages.js';
import { Node } from '../../runtime/core/node.js';
import { profiles } from '../../runtime/core/profiles.js';
import { lcg, Recorder, roughSize } from './recorder.js';

// The core's read-only surface: what the agent, the HAL and the trust layer may ask.

function started(): { a: Node; fx: Recorder } {
  const a = new Node({ id: 'a', gen: 1, addr: 'sim:a', profile: profiles.lan, rng: lcg(3), size: roughSize, multicast: true });
  const fx = new Recorder();
  a.start(0, fx);
  return { a, fx };
}

function hb(id: string, gen = 1, seq = 1): Heartbeat {
  return { type: MsgType.Heartbeat, from: { id, gen }, inc: 0, seq, intervalMs: 250, kvMax: 0, view: 0 };
}

function delta(owner: string, entries: Delta['entries'], fromV: number, toV: number): Delta {
  return { type: MsgType.Delta, from: { id: owner, gen: 1 }, owner: { id: owner, gen: 1 }, fromV, toV, reset: false, entries };
}

describe('Node queries', () => {
  it('liveValues and liveValue leave out deletions and expired values, and say when each value was learnt', () => {
    const { a, fx } = started();
    a.set(10, 'kept', 'x', fx);
    a.set(11, 'short', 7, fx, 100);
    a.set(12, 'gone', true, fx);
    a.delete(13, 'gone', fx);
    expect(Object.fromEntries(a.liveValues('a', 50))).toEqual({
      kept: { value: 'x', version: 1, ttlMs: 0, at: 10 },
      short: { value: 7, version: 2, ttlMs: 100, at: 11 },
    });
    expect([...a.liveValues('a', 111).keys()]).toEqual(['kept']);
    expect(a.liveValue('a', 'short', 110)?.value).toBe(7);
    expect(a.liveValue('a', 'short', 111)).toBeUndefined();
    expect(a.liveValue('a', 'gone', 50)).toBeUndefined();
    expect(a.liveValues('nobody', 50).size).toBe(0);
  });

  it('a replica\'s values, held versions and the highest version held, within the owner\'s life only', () => {
    const { a, fx } = started();
    a.receive(5, 'sim:b', [hb('b')], fx);
    a.receive(6, 'sim:b', [delta('b', [{ key: 'k', version: 1, value: 'v', ttlMs: 0 }, { key: 'd', version: 2, value: null, ttlMs: 0 }], 0, 2)], fx);
    // Version 5 arrives ahead of the watermark: held, and counted as the highest.
    a.receive(7, 'sim:b', [delta('b', [{ key: 'late', version: 5, value: 1, ttlMs: 0 }], 4, 5)], fx);
    expect(Object.fromEntries([...a.liveValues('b', 8)].map(([k, e]) => [k, e.value]))).toEqual({ k: 'v', late: 1 });
    expect(a.heldVersion({ id: 'b', gen: 1 }, 'd')).toBe(2);
    expect(a.heldVersion({ id: 'b', gen: 1 }, 'nothing')).toBeUndefined();
    expect(a.heldVersion({ id: 'b', gen: 2 }, 'k')).toBeUndefined();
    expect(a.highestHeld({ id: 'b', gen: 1 })).toBe(5);
    expect(a.highestHeld({ id: 'b', gen: 2 })).toBe(0);
    expect(a.holdsStateOf('b')).toBe(true);
    expect(a.holdsStateOf('c')).toBe(false);
  });

  it('member views are frozen snapshots: they neither change with the node nor change it', () => {
    const { a, fx } = started();
    a.receive(5, 'sim:b', [hb('b')], fx);
    const before = a.member('b')!;
    expect(before).toEqual({ id: 'b', gen: 1, inc: 0, status: 'alive', statusSince: 5, addr: 'sim:b', lastHeardAt: 5, lastGroupAt: 5, heartbeatSeq: 1, heartbeatIntervalMs: 250 });
    expect(Object.isFrozen(before)).toBe(true);
    expect(() => {
      (before as { status: string }).status = 'dead';
    }).toThrow(TypeError);
    a.receive(9, 'sim:b2', [hb('b', 2)], fx);
    expect(before.gen).toBe(1);
    expect(a.member('b')).toMatchObject({ gen: 2, addr: 'sim:b2', lastHeardAt: 9 });
    expect(a.members().map((m) => m.id)).toEqual(['b']);
    expect(a.isKnown('b')).toBe(true);
    expect(a.isKnown('a')).toBe(false);
    expect(a.member('a')).toBeUndefined();
  });
});
