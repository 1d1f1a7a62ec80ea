import { describe, expect, it } from 'vitest';
import { SimulatedLed } from '../../../hal/leds/simulated.js';

describe('simulated LED', () => {
  it('records the level, counts transitions and keeps the last N with clock timestamps', async () => {
    let now = 1000;
    const led = new SimulatedLed({ clock: () => now, keep: 3 });
    expect(led.backend).toBe('simulated');
    expect(led.description).toBe('simulated');
    expect(led.on).toBe(false);
    for (const on of [true, false, true, false, true]) {
      now += 100;
      led.set(on);
    }
    expect(led.on).toBe(true);
    expect(led.transitions).toBe(5);
    expect(led.recent()).toEqual([
      { at: 1300, on: true },
      { at: 1400, on: false },
      { at: 1500, on: true },
    ]);
    await led.close();
    expect(led.on).toBe(false);
    expect(led.transitions).toBe(6);
  });

  it('a set to the current level is not a transition', () => {
    const led = new SimulatedLed({ clock: () => 0 });
    led.set(false);
    led.set(true);
    led.set(true);
    expect(led.transitions).toBe(1);
    expect(led.recent()).toEqual([{ at: 0, on: true }]);
  });

  it('recent() is a copy the caller cannot use to rewrite history', () => {
    const led = new SimulatedLed({ clock: () => 5 });
    led.set(true);
    (led.recent() as unknown as unknown[]).length = 0;
    expect(led.recent()).toHaveLength(1);
  });
});
