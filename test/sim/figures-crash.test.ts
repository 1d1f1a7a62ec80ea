// The mass-crash figure: deaths of crashed members are expected, and an observer counts only
// once it has seen every one of them dead.
import { describe, expect, it } from 'vitest';
import type { CoreEvent } from '../../runtime/core/effects.js';
import { FleetFigures } from '../../runtime/sim/figures.js';

const dead = (id: string): CoreEvent => ({ type: 'member-status', member: { id, gen: 1 }, status: 'dead', previous: 'suspect', verdict: 'dead', previousVerdict: 'alive', sources: ['x'] });

describe('mass-crash figures', () => {
  it('times each observer until it has seen all crashed members dead; other deaths stay false positives', () => {
    const f = new FleetFigures(6);
    f.crashed(['a', 'b'], 1000);
    f.observe(1500, 'c', dead('a'));
    expect(f.crashSeenBy).toBe(0);
    f.observe(2200, 'c', dead('b'));
    f.observe(2300, 'c', dead('b'));
    f.observe(2600, 'd', dead('b'));
    f.observe(2900, 'd', dead('a'));
    f.observe(3000, 'a', dead('b')); // a crashed observer's last words do not count
    expect(f.crashSeenBy).toBe(2);
    expect(f.crash()).toEqual({ first: 1200, p50: 1900, all: 1900, seen: 2 });
    expect(f.falsePositives).toBe(0);
    f.observe(3100, 'c', dead('e'));
    expect(f.falsePositives).toBe(1);
  });
});
