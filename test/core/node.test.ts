import { describe, expect, it } from 'vitest';
import { MULTICAST } from '../../runtime/core/effects.js';
import { MsgType, type Heartbeat } from '../../runtime/core/messages.js';
import { Node } from '../../runtime/core/node.js';
import { profiles } from '../../runtime/core/profiles.js';
import { probeFanout } from '../../runtime/core/timing.js';
import { lcg, Recorder, roughSize } from './recorder.js';

function node(id: string, gen = 1, multicast = true): Node {
  return new Node({ id, gen, addr: `sim:${id}`, profile: profiles.lan, rng: lcg(id.length + gen), size: roughSize, multicast });
}

function hb(id: string, gen: number, seq: number, inc = 0, kvMax = 0): Heartbeat {
  return { type: MsgType.Heartbeat, from: { id, gen }, inc, seq, intervalMs: 250, kvMax, view: 0 };
}

/** Fire `a`'s timers in time order, each once, until `done()`; `before(at)` runs ahead of each (what else happens by then). */
function runTimersUntil(a: Node, fx: Recorder, done: () => boolean, max: number, before: (at: number) => void = () => {}): void {
  const fired = new Set<object>();
  for (let i = 0; i < max && !done(); i++) {
    const next = fx.timers.filter((t) => !fired.has(t)).sort((x, y) => x.at - y.at)[0]!;
    before(next.at);
    fired.add(next);
    a.timer(next.at, next.token, fx);
  }
}

const PEERS = ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'];

/** Forty heartbeats from each of PEERS, 250 ms apart, every dropEvery-th lost on the way (0: none). */
function hearPeers(a: Node, fx: Recorder, dropEvery: number): void {
  for (let seq = 1; seq <= 40; seq++) {
    for (const id of PEERS) if (dropEvery === 0 || seq % dropEvery !== 0) a.receive(seq * 250, `sim:${id}`, [hb(id, 1, seq)], fx);
  }
}

/** Helpers asked (PingReqs) in what `a` sent from send `from` on. */
function pingReqsSince(fx: Recorder, from: number): { readonly to: string; readonly target: string }[] {
  return fx.sends.slice(from).flatMap((x) => x.msgs.flatMap((m) => (m.type === MsgType.PingReq ? [{ to: x.to, target: m.target.id }] : [])));
}

/** The second stage of the first probe sent from send `from` on: its target, the pings sent to it, and the helpers asked. */
function secondStage(fx: Recorder, from: number): { target: string; pings: number; helpers: number } {
  const reqs = pingReqsSince(fx, from);
  const target = reqs[0]!.target;
  const pings = fx.sends.slice(from).filter((x) => x.to === `sim:${target}`).flatMap((x) => x.msgs).filter((m) => m.type === MsgType.Ping).length;
  return { target, pings, helpers: reqs.length };
}

describe('Node', () => {
  it('refuses a generation that is not a positive boot count', () => {
    expect(() => node('a', 0)).toThrow(/generation must be a positive integer/);
  });

  it('multicasts a heartbeat soon after start and schedules its timers', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    const kinds = fx.timers.map((t) => t.token.kind).sort();
    expect(kinds).toEqual(['anti-entropy', 'gc', 'heartbeat', 'sweep']);
    const hbTimer = fx.timers.find((t) => t.token.kind === 'heartbeat')!;
    fx.clear();
    a.timer(hbTimer.at, hbTimer.token, fx);
    expect(fx.sends[0]!.to).toBe(MULTICAST);
    expect(fx.sent(MsgType.Heartbeat)[0]!.from).toEqual({ id: 'a', gen: 1 });
  });

  it('contacts the seeds it was given at start, and the new ones after reseed while it is alone', () => {
    const a = new Node({ id: 'a', gen: 1, addr: 'sim:a', profile: profiles.lan, rng: lcg(3), size: roughSize, multicast: false, seeds: ['sim:s1'] });
    const fx = new Recorder();
    a.start(0, fx);
    expect(fx.sends.map((x) => x.to)).toContain('sim:s1');
    a.reseed(['sim:s2', 'sim:s3']);
    expect(a.seeds).toEqual(['sim:s2', 'sim:s3']);
    // Anti-entropy rounds while alone go to the seeds.
    let ae = fx.timers.find((x) => x.token.kind === 'anti-entropy')!;
    fx.clear();
    for (let i = 0; i < 20 && !fx.sends.some((x) => x.to === 'sim:s2'); i++) {
      a.timer(ae.at, ae.token, fx);
      ae = fx.timers.filter((x) => x.token.kind === 'anti-entropy').at(-1) ?? ae;
    }
    const to = fx.sends.map((x) => x.to);
    expect(to).toContain('sim:s2');
    expect(to).toContain('sim:s3');
    expect(to).not.toContain('sim:s1');
  });

  it('learns a member from its heartbeat, and a restart supersedes the old life', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    a.receive(10, 'sim:b', [hb('b', 1, 1)], fx);
    expect(a.statusOf('b')).toBe('alive');
    expect(fx.events.some((e) => e.type === 'member-joined')).toBe(true);
    a.receive(20, 'sim:b', [hb('b', 2, 1)], fx);
    expect(a.member('b')!.gen).toBe(2);
    expect(fx.events.some((e) => e.type === 'member-restarted' && e.previousGen === 1)).toBe(true);
    // Messages from the old life are ignored.
    a.receive(30, 'sim:b', [hb('b', 1, 99, 5)], fx);
    expect(a.member('b')!.gen).toBe(2);
    expect(a.member('b')!.inc).toBe(0);
    expect(a.stats.get('stale-generation')).toBe(1);
  });

  it('answers a ping with an ack carrying its incarnation', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    fx.clear();
    a.receive(5, 'sim:b', [{ type: MsgType.Ping, from: { id: 'b', gen: 1 }, target: { id: 'a', gen: 1 }, probe: 7 }], fx);
    expect(fx.sends).toEqual([{ to: 'sim:b', msgs: [{ type: MsgType.Ack, from: { id: 'a', gen: 1 }, probe: 7, inc: 0 }] }]);
  });

  it('refutes a suspicion of itself by bumping its incarnation', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    fx.clear();
    a.receive(5, 'sim:b', [{ type: MsgType.Suspect, from: { id: 'b', gen: 1 }, target: { id: 'a', gen: 1 }, inc: 0 }], fx);
    expect(a.incarnation).toBe(1);
    expect(fx.sent(MsgType.Heartbeat).every((h) => h.inc === 1)).toBe(true);
    expect(fx.events.some((e) => e.type === 'suspected-self')).toBe(true);
  });

  it('holds a member it suspected unreliable once it refutes, and as an accuser that spoke up, passes the refutation on', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    for (let seq = 1; seq <= 8; seq++) a.receive(seq * 250, 'sim:b', [hb('b', 1, seq)], fx);
    // Silent from here: run a's timers (sweeps, then the probe's two stages) until it accuses b.
    runTimersUntil(a, fx, () => a.statusOf('b') === 'suspect', 500);
    expect(a.statusOf('b')).toBe('suspect');
    expect(a.suspicionOf('b', 5_000)?.accusers).toEqual(['a']);
    fx.clear();
    a.receive(5_000, 'sim:b', [hb('b', 1, 30, 1)], fx);
    expect(a.statusOf('b')).toBe('unreliable');
    const flush = fx.timers.find((t) => t.token.kind === 'flush')!;
    a.timer(flush.at, flush.token, fx);
    const relayed = fx.sent(MsgType.Digest).flatMap((d) => d.entries).filter((e) => e.id === 'b');
    expect(relayed[0]).toMatchObject({ id: 'b', gen: 1, inc: 1, status: 'alive' });
  });

  it('announces a death it declared as an accuser that spoke up, however often another accuser repeated its own announcement', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    for (let seq = 1; seq <= 8; seq++) {
      a.receive(seq * 250, 'sim:b', [hb('b', 1, seq)], fx);
      a.receive(seq * 250 + 5, 'sim:c', [hb('c', 1, seq)], fx);
    }
    // b falls silent; c (an insider, or just a peer) sends its Dead of b again and again.
    const dead = { type: MsgType.Dead, from: { id: 'c', gen: 1 }, target: { id: 'b', gen: 1 }, inc: 0 } as const;
    let seq = 9;
    let accusers: readonly string[] = [];
    runTimersUntil(a, fx, () => a.statusOf('b') === 'dead', 2_000, (at) => {
      while (seq * 250 <= at) {
        a.receive(seq * 250 + 5, 'sim:c', [hb('c', 1, seq), dead], fx);
        seq++;
      }
      accusers = a.suspicionOf('b', at)?.accusers ?? accusers;
    });
    expect(a.statusOf('b')).toBe('dead');
    expect(seq).toBeGreaterThan(12); // c repeated its Dead several times before a's verdict
    // a's own failed probe, then c's word, held until then: two sources, each counted once.
    expect(accusers).toEqual(['a', 'c']);
    // a's own probe failed and it spoke up, so it tells the fleet; copies of c's Dead count once.
    expect(a.stats.get('deaths-announced')).toBe(1);
    const flush = fx.timers.filter((t) => t.token.kind === 'flush').at(-1)!;
    fx.clear();
    a.timer(flush.at, flush.token, fx);
    expect(fx.sent(MsgType.Dead).map((d) => [d.from.id, d.target.id])).toEqual([['a', 'b']]);
  });

  it('takes a relayed heartbeat count that shows next to nothing sent for a member that stopped itself only if its heartbeats reached us like the fleet\'s before', () => {
    // b falls silent and is suspected; then c relays b's refutation with a count one past the
    // last heartbeat a heard. From a member whose heartbeats all arrived, that is a process that
    // was frozen: alive at once. From one whose heartbeats were mostly lost already, the relayer
    // heard it as rarely as a did, and its count lags: b was losing its link, and is unreliable.
    const returnOf = (bEvery: number): string | undefined => {
      const a = node('a');
      const fx = new Recorder();
      a.start(0, fx);
      let last = 0;
      for (let seq = 1; seq <= 40; seq++) {
        for (const id of PEERS) {
          if (id === 'b' && seq % bEvery !== 0) continue;
          a.receive(seq * 250, `sim:${id}`, [hb(id, 1, seq)], fx);
          if (id === 'b') last = seq;
        }
      }
      let seq = 41;
      let t = 40 * 250;
      runTimersUntil(a, fx, () => a.statusOf('b') === 'suspect', 2_000, (at) => {
        while (t + 250 <= at) {
          t += 250;
          for (const id of PEERS.slice(1)) a.receive(t, `sim:${id}`, [hb(id, 1, seq)], fx);
          seq++;
        }
      });
      expect(a.statusOf('b')).toBe('suspect');
      const entry = { id: 'b', gen: 1, inc: 1, status: 'alive' as const, hb: last + 1, kvMax: 0, addr: 'sim:b' };
      a.receive(t + 2_000, 'sim:c', [{ type: MsgType.Digest, from: { id: 'c', gen: 1 }, lo: 'b', hi: 'b', reply: false, entries: [entry] }], fx);
      return a.statusOf('b');
    };
    expect(returnOf(1)).toBe('alive');
    expect(returnOf(4)).toBe('unreliable');
  });

  it('probes a silent member harder when it measures more loss: more direct pings and helpers in the second stage', () => {
    const probeOfSilentB = (dropEvery: number): { target: string; pings: number; helpers: number; loss: number } => {
      const a = node('a');
      const fx = new Recorder();
      a.start(0, fx);
      hearPeers(a, fx, dropEvery);
      // b falls silent; the others go on. Run a's timers until its probe of b reaches the second stage.
      const from = fx.sends.length;
      let seq = 41;
      let t = 40 * 250;
      runTimersUntil(a, fx, () => pingReqsSince(fx, from).length > 0, 2_000, (at) => {
        while (t + 250 <= at) {
          t += 250;
          for (const id of PEERS.slice(1)) a.receive(t, `sim:${id}`, [hb(id, 1, seq)], fx);
          seq++;
        }
      });
      return { ...secondStage(fx, from), loss: a.measuredLoss };
    };
    expect(probeOfSilentB(0)).toMatchObject({ target: 'b', pings: 3, helpers: 4 });
    // One heartbeat in three lost: the most pings, and helpers as the measured loss asks.
    const lossy = probeOfSilentB(3);
    expect(lossy.loss).toBeGreaterThan(0.2);
    expect(lossy).toMatchObject({ ...probeFanout(profiles.lan, lossy.loss), target: 'b', pings: 8 });
    expect(lossy.helpers).toBeGreaterThan(4);
  });

  it('without multicast measures no loss, so its probes keep the profile counts whatever the gaps', () => {
    const a = node('a', 1, false);
    const fx = new Recorder();
    a.start(0, fx);
    hearPeers(a, fx, 3);
    // Nobody answers a ping: run a's timers until a probe round reaches its second stage.
    const from = fx.sends.length;
    runTimersUntil(a, fx, () => pingReqsSince(fx, from).length > 0, 2_000);
    const { pings, helpers } = secondStage(fx, from);
    expect({ pings, helpers }).toEqual({ pings: 3, helpers: 4 });
  });

  it('ignores accusations about an older life of itself', () => {
    const a = node('a', 3);
    const fx = new Recorder();
    a.start(0, fx);
    a.receive(5, 'sim:b', [{ type: MsgType.Suspect, from: { id: 'b', gen: 1 }, target: { id: 'a', gen: 2 }, inc: 0 }], fx);
    expect(a.incarnation).toBe(0);
  });

  it('never accepts another node speaking for its own keys', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    a.set(1, 'k', 'mine', fx);
    a.receive(5, 'sim:b', [
      { type: MsgType.Delta, from: { id: 'b', gen: 1 }, owner: { id: 'a', gen: 1 }, fromV: 0, toV: 9, reset: true, entries: [{ key: 'k', version: 9, value: 'forged', ttlMs: 0 }] },
    ], fx);
    expect(a.get('a', 'k', 6)).toBe('mine');
  });

  it('pulls from an owner whose heartbeat shows it has newer state', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    fx.clear();
    a.receive(5, 'sim:b', [hb('b', 1, 1, 0, 3)], fx);
    const pull = fx.sent(MsgType.Digest);
    expect(pull).toHaveLength(1);
    expect(pull[0]!.entries[0]).toMatchObject({ id: 'b', kvMax: 0 });
    expect(fx.sends.find((s) => s.msgs.includes(pull[0]!))!.to).toBe('sim:b');
  });

  it('answers a digest that is behind with deltas of what it lacks', () => {
    const a = node('a');
    const fx = new Recorder();
    a.start(0, fx);
    a.set(1, 'x', 1, fx);
    a.set(2, 'y', 2, fx);
    fx.clear();
    a.receive(5, 'sim:b', [
      { type: MsgType.Digest, from: { id: 'b', gen: 1 }, lo: 'a', hi: 'a', reply: false, entries: [{ id: 'a', gen: 1, inc: 0, status: 'alive', hb: 0, kvMax: 1, addr: 'sim:a' }] },
    ], fx);
    const deltas = fx.sent(MsgType.Delta);
    expect(deltas).toHaveLength(1);
    expect(deltas[0]).toMatchObject({ owner: { id: 'a', gen: 1 }, fromV: 1, toV: 2 });
    expect(deltas[0]!.entries.map((e) => e.key)).toEqual(['y']);
  });
});
