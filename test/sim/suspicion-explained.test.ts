import { describe, expect, it } from 'vitest';
import { Scenario } from './harness.js';

// What `murmur members --explain` shows: while a crashed member is suspect, who accused it,
// how many confirmations that makes and how long is left; nothing once it is settled.

describe('suspicion, explained', () => {
  it('names the accusers, counts confirmations, and counts down until the verdict', () => {
    const s = new Scenario({ nodes: 8, seed: 77, loss: 0 });
    s.fleet.start();
    s.within(5_000, 'join', () => s.allAlive());
    s.joined();
    const victim = 'n007';
    const observer = s.fleet.node('n000');
    expect(observer.suspicionOf(victim, s.now)).toBeUndefined();
    s.mayDie.add(victim);
    s.fleet.crash(victim);
    s.within(3_000, 'n000 suspects it', () => observer.member(victim)?.status === 'suspect');
    const first = observer.suspicionOf(victim, s.now)!;
    expect(first.accusers.length).toBeGreaterThan(0);
    expect(first.accusers).not.toContain(victim);
    expect(first.confirmations).toBe(first.accusers.length - 1);
    expect(first.msLeft).toBeGreaterThan(0);
    expect(first.msLeft).toBeLessThanOrEqual(s.fleet.node('n000').profile.suspicionMaxMs);
    s.run(1);
    const later = observer.suspicionOf(victim, s.now)!;
    expect(later.sinceMs).toBe(first.sinceMs + 1);
    expect(later.msLeft).toBeLessThan(first.msLeft);
    s.within(5_000, 'declared dead', () => observer.member(victim)?.status === 'dead');
    expect(observer.suspicionOf(victim, s.now)).toBeUndefined();
  });
});
