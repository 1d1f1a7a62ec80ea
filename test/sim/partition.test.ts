import { describe, expect, it } from 'vitest';
import { LOSSES, SIZES, Scenario } from './harness.js';

// A 40/60 split. Bounds (virtual ms): each side declares the other dead within SPLIT_MS;
// after the heal, everyone is alive to everyone and state written on both sides during the
// split is everywhere within MERGE_MS. No manual action in between.
const SPLIT_MS = { 0: 4000, 0.1: 4000, 0.3: 8000 } as const;
const MERGE_MS = { 0: 3000, 0.1: 5000, 0.3: 10000 } as const;
// A value written on one side during the split, everywhere on that side. A receiver that misses
// the owner's repeats pulls at the owner's next heartbeat it hears; at 30% loss each way a pull
// gets through about half the time, so one observer in a few hundred needs more than 2 s.
const SPREAD_MS = { 0: 2000, 0.1: 2000, 0.3: 5000 } as const;

describe.each(SIZES)('N=%i', (n) => {
  it.each(LOSSES)('loss %f: both sides of a 40/60 partition detect the split within the split bound, then fully re-merge within the merge bound', (loss) => {
    // The bare protocol: with the seal and gatekeeper, each side takes longer than SPLIT_MS to
    // declare the other dead (accusations wait for the passports and the accusation budget).
    const s = new Scenario({ nodes: n, seed: 4000 + n, loss, insecure: true });
    s.fleet.start();
    s.within(5_000, 'join', () => s.allAlive());
    s.joined();
    const cut = Math.round(n * 0.4);
    const a = s.fleet.ids.slice(0, cut);
    const b = s.fleet.ids.slice(cut);
    for (const id of s.fleet.ids) s.mayDie.add(id);
    s.fleet.partition([a, b]);

    const t = s.within(SPLIT_MS[loss], 'each side declares the other dead', () =>
      a.every((x) => b.every((y) => s.fleet.node(x).statusOf(y) === 'dead' && s.fleet.node(y).statusOf(x) === 'dead')),
    );
    expect(t).toBeLessThanOrEqual(SPLIT_MS[loss]);
    // Each side still works on its own: within a side everyone is alive and values spread.
    expect(s.allAlive(a)).toBe(true);
    expect(s.allAlive(b)).toBe(true);
    s.fleet.set(a[0]!, 'side', 'a');
    s.fleet.set(b[0]!, 'side', 'b');
    s.within(SPREAD_MS[loss], 'values spread within each side', () => s.allSee(a[0]!, 'side', 'a', a) && s.allSee(b[0]!, 'side', 'b', b));

    s.fleet.heal();
    const merge = s.within(MERGE_MS[loss], 'full re-merge after the heal', () =>
      s.allBack() && s.allSee(a[0]!, 'side', 'a') && s.allSee(b[0]!, 'side', 'b'),
    );
    expect(merge).toBeLessThanOrEqual(MERGE_MS[loss]);
    s.assertInvariants();
  });
});

describe('isolation of one node', () => {
  it('an isolated node is seen dead within 4000 ms; hearing nobody, it blames its own link and declares nobody dead for 30 s, then everyone on its own word only after the 6000 ms maximum suspicion; after the heal it refutes and rejoins within 3000 ms', () => {
    const s = new Scenario({ nodes: 24, seed: 4100, loss: 0.1 });
    s.fleet.start();
    s.within(3_000, 'join', () => s.allAlive());
    s.joined();
    const lone = 'n010';
    for (const id of s.fleet.ids) s.mayDie.add(id);
    const cutAt = s.now;
    s.fleet.isolate(lone);
    const others = s.fleet.ids.filter((id) => id !== lone);
    s.within(4_000, 'the fleet declares the lone node dead', () => s.allDeclaredDead(lone, others));
    s.run(cutAt + 29_000 - s.now);
    expect(others.filter((o) => s.fleet.node(lone).statusOf(o) !== 'alive')).toEqual([]);
    expect(s.fleet.node(lone).stats.get('deaf-to-all')).toBe(1);
    // Past that, it judges again, alone: no second source, so the full maximum suspicion.
    s.within(30_000 + 1_000 + 6_000 + 1_000 - (s.now - cutAt), 'the lone node declares everyone dead', () => others.every((o) => s.fleet.node(lone).statusOf(o) === 'dead'));
    expect(s.now - cutAt).toBeGreaterThanOrEqual(30_000 + 6_000);
    const incBefore = s.fleet.node(lone).incarnation;
    s.fleet.heal();
    s.within(3_000, 'rejoined', () => s.allBack());
    // It came back by refuting (a higher incarnation), not by anyone forgetting.
    expect(s.fleet.node(lone).incarnation).toBeGreaterThan(incBefore);
    // Back from a silence of many seconds, it is unreliable for 1.5 times that (at most 30 s), then alive.
    s.within(35_000, 'alive again everywhere', () => s.allAlive());
    s.assertInvariants();
  });

  it('a node whose only two peers die at once still declares both dead on its own word within the maximum suspicion: two silent peers are not a lost link', () => {
    const s = new Scenario({ nodes: 3, seed: 4100, loss: 0.1 });
    s.fleet.start();
    s.within(3_000, 'join', () => s.allAlive());
    s.joined();
    const [survivor, ...gone] = s.fleet.ids as [string, ...string[]];
    for (const id of gone) s.fleet.crash(id);
    s.within(1_000 + 6_000 + 1_000, 'the survivor declares both dead', () => gone.every((g) => s.fleet.node(survivor).statusOf(g) === 'dead'));
    expect(s.fleet.node(survivor).stats.get('deaf-to-all') ?? 0).toBe(0);
    s.assertInvariants();
  });

  it('a node cut off for 20 s suspects nobody and declares nobody dead, and holds everyone alive the moment it hears them again', () => {
    const s = new Scenario({ nodes: 24, seed: 4100, loss: 0.1 });
    s.fleet.start();
    s.within(3_000, 'join', () => s.allAlive());
    const lone = 'n010';
    s.mayDie.add(lone);
    const others = s.fleet.ids.filter((id) => id !== lone);
    const seen: string[] = [];
    s.fleet.onEvent((_at, observer, e) => {
      if (observer === lone && e.type === 'member-status') seen.push(`${e.member.id} ${e.status}`);
    });
    s.fleet.isolate(lone);
    s.run(20_000);
    s.fleet.heal();
    s.within(3_000, 'rejoined', () => s.allBack());
    s.run(2_000);
    expect(seen).toEqual([]);
    expect(others.every((o) => s.fleet.node(lone).statusOf(o) === 'alive')).toBe(true);
    s.assertInvariants();
  });
});
