import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LedDriver } from '../../../hal/leds/led.js';
import { LedPlayer } from '../../../hal/leds/player.js';
import { PATTERNS } from '../../../hal/leds/patterns.js';

class RecordingLed implements LedDriver {
  readonly backend = 'simulated' as const;
  readonly description = 'test';
  readonly sets: Array<[number, boolean]> = [];
  closed = false;
  set(on: boolean): void {
    this.sets.push([Date.now(), on]);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  levelAt(t: number): boolean | undefined {
    let level: boolean | undefined;
    for (const [at, on] of this.sets) if (at <= t) level = on;
    return level;
  }
}

describe('LedPlayer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('plays a pattern step by step with its own timing', () => {
    const led = new RecordingLed();
    const p = new LedPlayer(led, { leaseMs: 60_000 });
    p.show(PATTERNS.searching);
    vi.advanceTimersByTime(4500);
    expect(led.sets).toEqual([
      [0, true],
      [1000, false],
      [2000, true],
      [3000, false],
      [4000, true],
    ]);
  });

  it('renewing the same pattern does not restart it; a new one starts at its first step', () => {
    const led = new RecordingLed();
    const p = new LedPlayer(led, { leaseMs: 60_000 });
    p.show(PATTERNS.healthy);
    vi.advanceTimersByTime(50);
    p.show(PATTERNS.healthy);
    vi.advanceTimersByTime(100);
    expect(led.levelAt(Date.now())).toBe(false);
    expect(led.sets).toHaveLength(2);
    p.show(PATTERNS.error);
    expect(led.sets.at(-1)).toEqual([150, true]);
    vi.advanceTimersByTime(80);
    expect(led.sets.at(-1)).toEqual([230, false]);
  });

  it('turns the LED off and stops when the lease is not renewed (the status loop is stuck)', () => {
    const led = new RecordingLed();
    const expired = vi.fn();
    const p = new LedPlayer(led, { leaseMs: 5000, onLeaseExpired: expired });
    p.show(PATTERNS.searching);
    vi.advanceTimersByTime(4999);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledOnce();
    expect(p.leaseExpired).toBe(true);
    expect(p.pattern).toBeUndefined();
    const n = led.sets.length;
    expect(led.sets.at(-1)![1]).toBe(false);
    vi.advanceTimersByTime(10_000);
    expect(led.sets).toHaveLength(n);
  });

  it('keeps playing while renewed, and plays again after an expiry when renewed', () => {
    const led = new RecordingLed();
    const p = new LedPlayer(led, { leaseMs: 5000 });
    for (let i = 0; i < 10; i++) {
      p.show(PATTERNS.searching);
      vi.advanceTimersByTime(1000);
    }
    expect(p.leaseExpired).toBe(false);
    expect(led.sets.filter(([, on]) => on).map(([t]) => t)).toEqual([0, 2000, 4000, 6000, 8000, 10_000]);
    vi.advanceTimersByTime(5000);
    expect(p.leaseExpired).toBe(true);
    p.show(PATTERNS.searching);
    expect(p.leaseExpired).toBe(false);
    expect(led.sets.at(-1)).toEqual([Date.now(), true]);
  });

  it('close stops the pattern and hands the LED back', async () => {
    const led = new RecordingLed();
    const p = new LedPlayer(led);
    p.show(PATTERNS.booting);
    await p.close();
    const n = led.sets.length;
    vi.advanceTimersByTime(2000);
    p.show(PATTERNS.healthy);
    expect(led.sets).toHaveLength(n);
    expect(led.closed).toBe(true);
  });
});
