import { describe, expect, it } from 'vitest';
import { LOSSES, SIZES, Scenario } from './harness.js';

// A 40/60 split. Bounds (virtual ms): each side declares the other dead within SPLIT_MS;
// after the heal, everyone is alive to everyone and state written on both sides during the
// split is everywhere within MERGE_MS. No manual action in between.
const SPLIT_MS = { 0: 4000, 0.1: 4000, 0.3: 8000 } as const;
const MERGE_MS = { 0: 3000, 0.1: 5000, 0.3: 10000 } as const;

describe.each(SIZES)('N=%i', (n) => {
  it.each(LOSSES)('loss %f: both sides of a 40/60 partition detect the split within the split bound, then fully re-merge within the merge bound', (loss) => {
    // The bare protocol: with the seal and gatekeeper, each side takes longer than SPLIT_MS to
    // declare the other dead (accusations wait for the passports and the accusation budget).
    const s = new Scenario({ nodes: n, seed: 4000 + n, loss, insecure: true });
    s.fleet.start();
    s.within(5_000, 'join', () => s.allAlive());
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
    s.within(2_000, 'values spread within each side', () => s.allSee(a[0]!, 'side', 'a', a) && s.allSee(b[0]!, 'side', 'b', b));

    s.fleet.heal();
    const merge = s.within(MERGE_MS[loss], 'full re-merge after the heal', () =>
      s.allBack() && s.allSee(a[0]!, 'side', 'a') && s.allSee(b[0]!, 'side', 'b'),
    );
    expect(merge).toBeLessThanOrEqual(MERGE_MS[loss]);
    s.assertInvariants();
  });
});

describe('isolation of one node', () => {
  it('an isolated node is seen dead within 4000 ms, sees everyone dead on its own word only after the 6000 ms maximum suspicion, and after the heal refutes and rejoins within 3000 ms', () => {
    const s = new Scenario({ nodes: 24, seed: 4100, loss: 0.1 });
    s.fleet.start();
    s.within(3_000, 'join', () => s.allAlive());
    const lone = 'n010';
    for (const id of s.fleet.ids) s.mayDie.add(id);
    s.fleet.isolate(lone);
    const others = s.fleet.ids.filter((id) => id !== lone);
    s.within(4_000, 'the fleet declares the lone node dead', () => s.allDeclaredDead(lone, others));
    // Alone, it has no second source: its own suspicions must run the full maximum timeout.
    expect(others.some((o) => s.fleet.node(lone).statusOf(o) === 'dead')).toBe(false);
    s.within(7_000, 'the lone node declares everyone dead', () => others.every((o) => s.fleet.node(lone).statusOf(o) === 'dead'));
    const incBefore = s.fleet.node(lone).incarnation;
    s.fleet.heal();
    s.within(3_000, 'rejoined', () => s.allBack());
    // It came back by refuting (a higher incarnation), not by anyone forgetting.
    expect(s.fleet.node(lone).incarnation).toBeGreaterThan(incBefore);
    // Back from a silence of seconds, it is unreliable for 1.5 times that, then alive.
    s.within(15_000, 'alive again everywhere', () => s.allAlive());
    s.assertInvariants();
  });
});
