import { describe, expect, it } from 'vitest';
import type { Address } from '../../runtime/core/messages.js';
import { WALL_CLOCK_EPOCH_MS } from '../../runtime/sim/fleet.js';
import { FaultSchedule, formatFault, parseFault, type FaultSpec } from '../../runtime/sim/faults.js';
import { Prng } from '../../runtime/sim/prng.js';
import { Scenario } from './harness.js';

// Each fault in a short scenario, in virtual time: it does what it says, on the links it names,
// for the window it names, and the protocol's rules (checked on every event) hold through it.

/** Counts datagrams the network hands to each receiver, by sender, with their arrival times. */
function tally(s: Scenario): { count(from: string, to: string): number; times(to: string): number[] } {
  const counts = new Map<string, number>();
  const times = new Map<string, number[]>();
  const net = s.fleet.network;
  const receivers = net.receivers.bind(net);
  const idOf = (a: Address): string => s.fleet.ids.find((id) => a === `sim:${id}` || a.startsWith(`sim:${id}#`)) ?? a;
  net.receivers = (d) => {
    const out = receivers(d);
    for (const a of out) {
      const k = `${idOf(d.from)}>${idOf(a)}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
      const t = times.get(idOf(a)) ?? [];
      t.push(s.now);
      times.set(idOf(a), t);
    }
    return out;
  };
  return { count: (from, to) => counts.get(`${from}>${to}`) ?? 0, times: (to) => times.get(to) ?? [] };
}

function joined(nodes: number, seed: number, loss = 0): Scenario {
  const s = new Scenario({ nodes, seed, loss });
  s.fleet.start();
  s.within(3_000, 'join', () => s.allAlive());
  s.joined();
  return s;
}

describe('clogging', () => {
  it('a clogged node receives nothing for 3000 ms, then everything held arrives at once when the clog ends', () => {
    const s = joined(8, 9100);
    const t = tally(s);
    const f = s.fleet.fault({ kind: 'clog', node: 'n003', forMs: 3_000 });
    s.fleet.set('n001', 'k', 'v');
    s.run(2_999);
    expect(t.times('n003')).toEqual([]);
    expect(s.fleet.node('n003').get('n001', 'k', s.now)).toBeUndefined();
    expect(s.allSee('n001', 'k', 'v', ['n000', 'n002', 'n004'])).toBe(true);
    s.run(1);
    // Every heartbeat the fleet sent during the clog arrives at the clog's end.
    expect(t.times('n003').filter((x) => x === f.end).length).toBeGreaterThan(50);
    expect(s.fleet.node('n003').get('n001', 'k', s.now)).toBe('v');
    s.run(10_000);
    expect(s.allAlive()).toBe(true);
    s.assertInvariants();
  });

  it('a clog of one link holds only that sender', () => {
    const s = joined(6, 9101);
    const t = tally(s);
    s.fleet.fault({ kind: 'clog', node: 'n002', peer: 'n001', forMs: 2_000 });
    s.run(1_990);
    expect(t.count('n001', 'n002')).toBe(0);
    expect(t.count('n000', 'n002')).toBeGreaterThan(0);
    s.run(20);
    expect(t.count('n001', 'n002')).toBeGreaterThan(0);
    s.assertInvariants();
  });
});

describe('one-way links', () => {
  it('n001 -> n002 is lost while n002 -> n001 works, for unicast and group alike', () => {
    const s = joined(8, 9200);
    const t = tally(s);
    s.fleet.fault({ kind: 'one-way', from: 'n001', to: 'n002', forMs: 20_000 });
    s.run(20_000);
    expect(t.count('n001', 'n002')).toBe(0);
    expect(t.count('n002', 'n001')).toBeGreaterThan(40);
    expect(t.count('n001', 'n003')).toBeGreaterThan(40);
    s.run(5_000);
    expect(t.count('n001', 'n002')).toBeGreaterThan(0);
    s.assertInvariants();
  });

  it('a group-deaf node hears no group traffic but is heard; a group-mute node is the reverse; unicast works for both', () => {
    const s = joined(8, 9201);
    s.fleet.fault({ kind: 'group-deaf', node: 'n003', forMs: 10_000 });
    s.fleet.fault({ kind: 'group-mute', node: 'n005', forMs: 10_000 });
    const start = s.now;
    s.run(10_000);
    const sinceGroup = (observer: string, peer: string): number => s.now - s.fleet.node(observer).member(peer)!.lastGroupAt;
    // n003 hears nobody on the group; everyone hears n003 on it.
    expect(sinceGroup('n003', 'n000')).toBeGreaterThanOrEqual(s.now - start - 10);
    expect(sinceGroup('n000', 'n003')).toBeLessThan(1_000);
    // n005 hears the group; nobody hears n005 on it.
    expect(sinceGroup('n005', 'n000')).toBeLessThan(1_000);
    expect(sinceGroup('n000', 'n005')).toBeGreaterThanOrEqual(s.now - start - 10);
    // Unicast still reaches both (the per-peer fallback heartbeats directly).
    expect(s.now - s.fleet.node('n000').member('n005')!.lastHeardAt).toBeLessThan(2_000);
    expect(s.now - s.fleet.node('n003').member('n000')!.lastHeardAt).toBeLessThan(2_000);
    s.assertInvariants();
  });
});

describe('flapping', () => {
  it('a node flapping 2000 ms down / 3000 ms up is heard in every up phase and never in a down phase', () => {
    const s = joined(8, 9300);
    const f = s.fleet.fault({ kind: 'flap', node: 'n005', downMs: 2_000, upMs: 3_000, forMs: 25_000 });
    const heard: number[] = [];
    let last = s.fleet.node('n000').member('n005')!.lastHeardAt;
    while (s.now < f.end) {
      s.run(50);
      const d = s.fleet.node('n000').member('n005')!.lastHeardAt;
      if (d !== last) heard.push(d);
      last = d;
    }
    const phase = (t: number): number => (t - f.start) % 5_000;
    // A datagram sent just before a down phase may still be in flight (delay plus jitter < 5 ms).
    expect(heard.filter((t) => phase(t) >= 5 && phase(t) < 2_000)).toEqual([]);
    for (let c = 0; c < 5; c++) {
      const up = f.start + c * 5_000 + 2_000;
      expect(heard.some((t) => t >= up && t < up + 3_000)).toBe(true);
    }
    s.assertInvariants();
  });
});

describe('random partitions', () => {
  it('halves: the sides are drawn from the seed, nothing crosses them, and each side declares the other dead', () => {
    const s = joined(12, 9400);
    for (const id of s.fleet.ids) s.mayDie.add(id);
    const f = s.fleet.fault({ kind: 'partition', mode: 'halves', forMs: 15_000 });
    const a = s.fleet.ids.filter((id) => f.sides!.get(id) === 1);
    const b = s.fleet.ids.filter((id) => f.sides!.get(id) === 2);
    expect([a.length, b.length]).toEqual([6, 6]);
    expect(a).not.toEqual(s.fleet.ids.slice(0, 6)); // drawn, not the first half
    const again = joined(12, 9400).fleet.fault({ kind: 'partition', mode: 'halves' });
    expect([...again.sides!]).toEqual([...f.sides!]);
    s.within(10_000, 'each side declares the other dead', () =>
      a.every((x) => b.every((y) => s.fleet.node(x).statusOf(y) === 'dead' && s.fleet.node(y).statusOf(x) === 'dead')),
    );
    expect(s.allAlive(a) && s.allAlive(b)).toBe(true);
    s.run(f.end - s.now);
    s.within(5_000, 're-merge after the window', () => s.allBack());
    s.assertInvariants();
  });

  it('isolate: one node drawn at random is cut off; the rest stay connected and declare it dead; hearing nobody, it blames its own link and declares nobody dead', () => {
    const s = joined(10, 9401);
    const f = s.fleet.fault({ kind: 'partition', mode: 'isolate', forMs: 12_000 });
    const lone = s.fleet.ids.find((id) => f.sides!.get(id) === 2)!;
    const others = s.fleet.ids.filter((id) => id !== lone);
    expect(others.every((id) => f.sides!.get(id) === 1)).toBe(true);
    s.within(4_000, 'the rest declare the lone node dead', () => s.allDeclaredDead(lone, others));
    expect(s.allAlive(others)).toBe(true);
    s.run(f.end - s.now);
    expect(others.filter((o) => s.fleet.node(lone).statusOf(o) !== 'alive')).toEqual([]);
    s.within(5_000, 'rejoined', () => s.allBack());
    s.assertInvariants();
  });

  it('bridge: two halves exchange nothing directly, and the bridge node hears both', () => {
    const s = joined(9, 9402);
    const t = tally(s);
    const f = s.fleet.fault({ kind: 'partition', mode: 'bridge', forMs: 10_000 });
    const bridge = s.fleet.ids.find((id) => f.sides!.get(id) === 0)!;
    const a = s.fleet.ids.filter((id) => f.sides!.get(id) === 1);
    const b = s.fleet.ids.filter((id) => f.sides!.get(id) === 2);
    expect([a.length, b.length]).toEqual([4, 4]);
    s.run(10_000);
    for (const x of a) for (const y of b) expect(t.count(x, y) + t.count(y, x)).toBe(0);
    for (const x of [...a, ...b]) expect(t.count(x, bridge) * t.count(bridge, x)).toBeGreaterThan(0);
    s.run(10_000);
    s.within(5_000, 'whole again', () => s.allBack());
    s.assertInvariants();
  });
});

describe('per-node loss', () => {
  it('a node at 80% loss both ways loses about 80% of what it sends and of what it receives, and measures it', () => {
    const s = joined(8, 9500);
    const t = tally(s);
    s.fleet.fault({ kind: 'loss', node: 'n004', p: 0.8, forMs: 30_000 });
    s.run(30_000);
    // Compare with a healthy node's traffic on the same links.
    const out = t.count('n004', 'n000') / t.count('n001', 'n000');
    const inn = t.count('n000', 'n004') / t.count('n000', 'n001');
    // n004 also sends more than a healthy node (it is suspected and refutes, and asks for
    // unicast), so its share that arrives is above the 20% its heartbeats alone would give.
    expect(out).toBeGreaterThan(0.1);
    expect(out).toBeLessThan(0.5);
    expect(inn).toBeGreaterThan(0.1);
    expect(inn).toBeLessThan(0.35);
    expect(s.fleet.node('n004').measuredLoss).toBeGreaterThan(0.5);
    expect(s.fleet.node('n000').measuredLoss).toBeLessThan(0.3);
    s.assertInvariants();
  });

  it('the loss draws come from their own stream: about p of many datagrams, each direction on its own', () => {
    const sched = new FaultSchedule((a) => a, new Prng(1));
    sched.add(0, { kind: 'loss', node: 'x', p: 0.8, dir: 'in' }, ['x', 'y']);
    let lostIn = 0;
    let lostOut = 0;
    for (let i = 0; i < 10_000; i++) {
      if (sched.drops(i, 'y', 'x', false)) lostIn++;
      if (sched.drops(i, 'x', 'y', false)) lostOut++;
    }
    expect(lostIn / 10_000).toBeCloseTo(0.8, 1);
    expect(lostOut).toBe(0);
  });
});

describe('address change', () => {
  it('from its time, a node sends from its new address, the old one receives nothing, and every member learns the new one within 2000 ms without declaring it dead', () => {
    const s = joined(8, 9600, 0.1);
    const old = s.fleet.addressOf('n003');
    const f = s.fleet.fault({ kind: 'readdress', node: 'n003', atMs: 1_000 });
    s.run(999);
    expect(s.fleet.addressOf('n003')).toBe(old);
    s.run(1);
    const now = s.fleet.addressOf('n003');
    expect(now).not.toBe(old);
    expect(s.fleet.node('n003').addr).toBe(now);
    expect(s.fleet.network.isAttached(old)).toBe(false);
    const others = s.fleet.ids.filter((id) => id !== 'n003');
    s.within(2_000, 'every member has the new address', () => others.every((o) => s.fleet.node(o).member('n003')!.addr === now));
    expect(s.now - f.start).toBeLessThanOrEqual(2_000);
    s.run(20_000);
    expect(s.allAlive()).toBe(true);
    expect(others.every((o) => s.fleet.node(o).member('n003')!.addr === now)).toBe(true);
    s.assertInvariants();
  });
});

describe('wall clock step', () => {
  function trace(step: boolean): { log: string[]; wall: number[] } {
    const s = joined(6, 9700, 0.1);
    const log: string[] = [];
    s.fleet.onEvent((now, id, e) => log.push(`${now} ${id} ${JSON.stringify(e)}`));
    if (step) s.fleet.fault({ kind: 'clock-step', node: 'n002', atMs: 2_000, stepMs: 3 * 86_400_000 });
    const wall = [s.fleet.wallClockMs('n002')];
    s.run(1_999);
    wall.push(s.fleet.wallClockMs('n002'));
    s.run(1);
    wall.push(s.fleet.wallClockMs('n002'), s.fleet.wallClockMs('n001') - WALL_CLOCK_EPOCH_MS - s.now);
    s.run(10_000);
    s.assertInvariants();
    return { log, wall };
  }

  it("steps the node's wall clock by days at its time, and nothing else: the protocol, on monotonic time, runs event for event the same", () => {
    const stepped = trace(true);
    const [t0, before, after, otherOffset] = stepped.wall as [number, number, number, number];
    expect(before - t0).toBe(1_999);
    expect(after - before).toBe(1 + 3 * 86_400_000);
    expect(otherOffset).toBe(0);
    expect(stepped.log).toEqual(trace(false).log);
  });
});

describe('stalled node', () => {
  it('a node stalled for 4000 ms runs no timer and reads nothing, then gets its datagrams in one burst and carries on', () => {
    const s = joined(8, 9800);
    const t = tally(s);
    const node = s.fleet.node('n004');
    const f = s.fleet.fault({ kind: 'stall', node: 'n004', atMs: 500, forMs: 4_000 });
    s.run(500);
    const seqAtStall = s.fleet.node('n000').member('n004')!.heartbeatSeq;
    s.run(3_999);
    // Its heartbeat timer did not fire: nobody saw its counter move.
    expect(s.fleet.node('n000').member('n004')!.heartbeatSeq).toBeLessThanOrEqual(seqAtStall + 1);
    expect(t.times('n004').filter((x) => x > f.start && x < f.end)).toEqual([]);
    s.run(1);
    expect(t.times('n004').filter((x) => x === f.end).length).toBeGreaterThan(50);
    expect(s.fleet.node('n004')).toBe(node); // the same process, not a restart
    s.within(2_000, 'its heartbeats are seen again', () => s.fleet.node('n000').member('n004')!.heartbeatSeq > seqAtStall + 1);
    s.run(10_000);
    expect(s.allAlive()).toBe(true);
    s.assertInvariants();
  });
});

describe('fault text form (bench:sim --fault)', () => {
  const cases: [string, FaultSpec][] = [
    ['clog:node=n003,peer=n001,at=1000,for=3000', { kind: 'clog', node: 'n003', peer: 'n001', atMs: 1000, forMs: 3000 }],
    ['one-way:from=n001,to=n002,for=20000', { kind: 'one-way', from: 'n001', to: 'n002', forMs: 20000 }],
    ['group-deaf:node=n003', { kind: 'group-deaf', node: 'n003' }],
    ['group-mute:node=n005,at=5000', { kind: 'group-mute', node: 'n005', atMs: 5000 }],
    ['flap:node=n005,up=20000,down=20000,for=60000', { kind: 'flap', node: 'n005', upMs: 20000, downMs: 20000, forMs: 60000 }],
    ['partition:mode=bridge,at=10000,for=30000', { kind: 'partition', mode: 'bridge', atMs: 10000, forMs: 30000 }],
    ['loss:node=n004,p=0.8,dir=both,for=60000', { kind: 'loss', node: 'n004', p: 0.8, dir: 'both', forMs: 60000 }],
    ['readdress:node=n003,at=5000', { kind: 'readdress', node: 'n003', atMs: 5000 }],
    ['clock-step:node=n002,step=-259200000,at=1000', { kind: 'clock-step', node: 'n002', stepMs: -259200000, atMs: 1000 }],
    ['stall:node=n004,at=2000,for=4000', { kind: 'stall', node: 'n004', atMs: 2000, forMs: 4000 }],
  ];
  it.each(cases)('%s parses to its spec and formats back', (text, spec) => {
    expect(parseFault(text)).toEqual(spec);
    expect(formatFault(spec)).toBe(text);
  });

  it('takes durations with units', () => {
    expect(parseFault('flap:node=n1,up=20s,down=1.5s,at=2m')).toEqual({ kind: 'flap', node: 'n1', upMs: 20000, downMs: 1500, atMs: 120000 });
    expect(parseFault('clock-step:node=n1,step=-3d')).toEqual({ kind: 'clock-step', node: 'n1', stepMs: -3 * 86_400_000 });
  });

  it.each([
    ['wobble:node=n1', /unknown kind "wobble"/],
    ['flap:node=n1,up=1s', /flap needs down=/],
    ['flap:node=n1,up=1s,down=1s,p=0.3', /flap takes node, peer, up, down, at, for, not "p"/],
    ['loss:node=n1,p=1.5', /p must be a probability/],
    ['partition:mode=thirds', /mode must be halves, isolate or bridge/],
    ['stall:node=n1,for=soon', /for: expected a duration/],
    ['one-way:from=n1,to=n1', /from and to are the same node/],
  ])('rejects %s, naming what is wrong', (text, err) => {
    expect(() => parseFault(text)).toThrow(err);
  });

  it('a fault naming a node the fleet does not have is refused, naming the node', () => {
    const s = new Scenario({ nodes: 4, seed: 1 });
    expect(() => s.fleet.fault({ kind: 'stall', node: 'n099', forMs: 1000 })).toThrow(/no node "n099"/);
  });
});
