// The onoff path: taken only with the real root "/" and onoff importable. onoff is mocked, so
// nothing here touches the machine's /sys.

import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FsRoot } from '../../../hal/fs-root.js';
import { SysfsGpioLed } from '../../../hal/leds/sysfs-gpio.js';

const onoff = vi.hoisted(() => {
  const made: Array<{ gpio: number; direction: string; options: unknown; writes: number[]; unexported: number }> = [];
  class Gpio {
    readonly #rec: (typeof made)[number];
    constructor(gpio: number, direction: string, options?: unknown) {
      this.#rec = { gpio, direction, options, writes: [], unexported: 0 };
      made.push(this.#rec);
    }
    writeSync(v: number): void {
      this.#rec.writes.push(v);
    }
    unexport(): void {
      this.#rec.unexported++;
    }
  }
  return { made, Gpio };
});

vi.mock('onoff', () => ({ Gpio: onoff.Gpio }));

/** The real root, but answering whether gpioN is already exported as the test says. */
class RootWith extends FsRoot {
  constructor(readonly exported: Set<string>) {
    super('/');
  }
  override exists(p: string): boolean {
    return this.exported.has(p);
  }
  override writeSync(p: string): void {
    throw new Error(`test must not write ${p} on the real root`);
  }
}

const chip = { name: 'gpiochip512', label: 'pinctrl-bcm2711', base: 512, lines: 58 };

beforeEach(() => {
  onoff.made.length = 0;
});

describe('sysfs GPIO LED through onoff', () => {
  it('passes base + offset and the glitch-free off direction, writes levels, unexports what it exported', async () => {
    const led = await SysfsGpioLed.open({ fs: new RootWith(new Set()), chip, line: 17, onError: () => {} });
    expect(led.description).toBe('GPIO 529 (gpiochip512 (pinctrl-bcm2711) line 17, sysfs via onoff)');
    expect(onoff.made).toHaveLength(1);
    const g = onoff.made[0]!;
    expect(g.gpio).toBe(529);
    expect(g.direction).toBe('low');
    expect(g.options).toEqual({ activeLow: false });
    led.set(true);
    led.set(false);
    led.set(true);
    await led.close();
    expect(g.writes).toEqual([1, 0, 1, 0]);
    expect(g.unexported).toBe(1);
  });

  it('does not unexport a pin that was already exported', async () => {
    const led = await SysfsGpioLed.open({ fs: new RootWith(new Set(['/sys/class/gpio/gpio529'])), chip, line: 17, onError: () => {} });
    expect(led.exportedByUs).toBe(false);
    led.set(true);
    await led.close();
    expect(onoff.made[0]!.writes).toEqual([1, 0]);
    expect(onoff.made[0]!.unexported).toBe(0);
  });

  it('active-low starts high and inverts', async () => {
    const led = await SysfsGpioLed.open({ fs: new RootWith(new Set()), chip, line: 4, activeLow: true, onError: () => {} });
    led.set(true);
    expect(onoff.made[0]).toMatchObject({ gpio: 516, direction: 'high', writes: [0] });
  });

  it('a throwing writeSync goes to the error sink', async () => {
    const errors: Error[] = [];
    const led = await SysfsGpioLed.open({ fs: new RootWith(new Set()), chip, line: 17, onError: (e) => errors.push(e) });
    const g = onoff.made[0]!;
    g.writes.push = () => {
      throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    };
    expect(() => led.set(true)).not.toThrow();
    expect(errors.map((e) => e.message)).toEqual(['GPIO 529: EIO: i/o error, write']);
  });

  it('a fake root never uses onoff, even when it loads', async () => {
    const load = vi.fn(async () => ({ Gpio: onoff.Gpio }));
    await expect(SysfsGpioLed.open({ fs: new FsRoot('/nonexistent-root'), chip, line: 17, onError: () => {}, loadOnoff: load })).rejects.toThrow(
      /export failed/,
    );
    expect(load).not.toHaveBeenCalled();
    expect(onoff.made).toEqual([]);
  });
});
