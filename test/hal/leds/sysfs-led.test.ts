import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findBoardLed, parseTrigger, SysfsLed } from '../../../hal/leds/sysfs-led.js';
import { FakeTree } from '../fake-tree.js';
import { errorSink, KernelFs } from './fake-pi.js';

const TRIGGERS = 'none rc-feedback kbd-scrolllock kbd-numlock timer oneshot heartbeat backlight gpio cpu default-on input panic actpwr mmc1 mmc0 rfkill-any';

let tree: FakeTree;
beforeEach(() => {
  tree = new FakeTree();
});
afterEach(() => tree.remove());

/** An LED directory as the kernel shows it, with `current` selected in the trigger list. */
function led(name: string, current: string, extra: Record<string, string> = {}, max = '255'): KernelFs {
  const dir = `/sys/class/leds/${name}`;
  tree.file(`${dir}/trigger`, `${TRIGGERS.split(' ').map((t) => (t === current ? `[${t}]` : t)).join(' ')}\n`);
  tree.file(`${dir}/max_brightness`, `${max}\n`).file(`${dir}/brightness`, '0\n');
  for (const [f, v] of Object.entries(extra)) tree.file(`${dir}/${f}`, v);
  return new KernelFs(tree.root);
}

describe('trigger file', () => {
  it('lists every trigger and finds the one in brackets', () => {
    const t = parseTrigger('none rc-feedback timer [mmc0] heartbeat default-on\n');
    expect(t.current).toBe('mmc0');
    expect(t.available).toEqual(['none', 'rc-feedback', 'timer', 'mmc0', 'heartbeat', 'default-on']);
    expect(parseTrigger('[none] timer').current).toBe('none');
    expect(parseTrigger('none timer').current).toBeUndefined();
  });
});

describe('board LED lookup', () => {
  it('prefers ACT, falls back to led0 on older kernels, and a configured name overrides', () => {
    const fs = led('led0', 'mmc0');
    led('led1', 'default-on');
    expect(findBoardLed(fs)).toBe('led0');
    led('ACT', 'mmc0');
    led('PWR', 'default-on');
    expect(findBoardLed(fs)).toBe('ACT');
    expect(findBoardLed(fs, 'PWR')).toBe('PWR');
    expect(findBoardLed(fs, 'nope')).toBeUndefined();
  });
});

describe('sysfs LED', () => {
  it('takes over from mmc0 (trigger none, LED off), writes max_brightness or 0, gives mmc0 back', async () => {
    const fs = led('ACT', 'mmc0');
    const { errors, sink } = errorSink();
    const d = SysfsLed.open({ fs, name: 'ACT', onError: sink });
    expect(d.backend).toBe('sysfs-led');
    expect(d.description).toBe('/sys/class/leds/ACT');
    expect(d.originalTrigger).toBe('mmc0');
    expect(fs.writes).toEqual(['/sys/class/leds/ACT/trigger <- none', '/sys/class/leds/ACT/brightness <- 0']);
    d.set(true);
    expect(tree.read('/sys/class/leds/ACT/brightness')).toBe('255');
    d.set(false);
    expect(tree.read('/sys/class/leds/ACT/brightness')).toBe('0');
    await d.close();
    expect(fs.writes.at(-1)).toBe('/sys/class/leds/ACT/trigger <- mmc0');
    expect(tree.read('/sys/class/leds/ACT/trigger')).toBe('mmc0');
    expect(errors).toEqual([]);
  });

  it('uses the LED’s own max_brightness (1 on a GPIO LED)', () => {
    const fs = led('led0', 'mmc0', {}, '1');
    const d = SysfsLed.open({ fs, name: 'led0', onError: () => {} });
    d.set(true);
    expect(tree.read('/sys/class/leds/led0/brightness')).toBe('1');
  });

  it('active-low inverts the brightness written', () => {
    const fs = led('PWR', 'default-on');
    const d = SysfsLed.open({ fs, name: 'PWR', activeLow: true, onError: () => {} });
    expect(tree.read('/sys/class/leds/PWR/brightness')).toBe('255');
    d.set(true);
    expect(tree.read('/sys/class/leds/PWR/brightness')).toBe('0');
  });

  it('restores timer with its own delays, after selecting timer (which resets them)', async () => {
    const fs = led('ACT', 'timer', { delay_on: '100\n', delay_off: '900\n' });
    const d = SysfsLed.open({ fs, name: 'ACT', onError: () => {} });
    d.set(true);
    await d.close();
    expect(fs.writes.slice(-3)).toEqual([
      '/sys/class/leds/ACT/trigger <- timer',
      '/sys/class/leds/ACT/delay_on <- 100',
      '/sys/class/leds/ACT/delay_off <- 900',
    ]);
    expect(tree.read('/sys/class/leds/ACT/delay_on')).toBe('100');
    expect(tree.read('/sys/class/leds/ACT/delay_off')).toBe('900');
  });

  it('restores none with the brightness it had', async () => {
    const fs = led('ACT', 'none');
    tree.file('/sys/class/leds/ACT/brightness', '255\n');
    const d = SysfsLed.open({ fs, name: 'ACT', onError: () => {} });
    d.set(false);
    await d.close();
    expect(fs.writes.slice(-2)).toEqual(['/sys/class/leds/ACT/trigger <- none', '/sys/class/leds/ACT/brightness <- 255']);
    expect(tree.read('/sys/class/leds/ACT/brightness')).toBe('255');
  });

  it('restores default-on by the trigger alone (the kernel lights it)', async () => {
    const fs = led('PWR', 'default-on');
    const d = SysfsLed.open({ fs, name: 'PWR', onError: () => {} });
    d.set(true);
    const before = fs.writes.length;
    await d.close();
    expect(fs.writes.slice(before)).toEqual(['/sys/class/leds/PWR/trigger <- default-on']);
  });

  it('restoreSync runs once; later sets and close change nothing', async () => {
    const fs = led('ACT', 'mmc0');
    const d = SysfsLed.open({ fs, name: 'ACT', onError: () => {} });
    d.set(true);
    d.restoreSync();
    const after = fs.writes.length;
    d.set(true);
    d.restoreSync();
    await d.close();
    expect(fs.writes).toHaveLength(after);
    expect(tree.read('/sys/class/leds/ACT/trigger')).toBe('mmc0');
  });

  it('a brightness write error (EIO) goes to the error sink and does not throw', () => {
    const fs = led('ACT', 'mmc0');
    const { errors, sink } = errorSink();
    const d = SysfsLed.open({ fs, name: 'ACT', onError: sink });
    fs.failOn('/sys/class/leds/ACT/brightness', 'EIO', 1);
    expect(() => d.set(true)).not.toThrow();
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^LED \/sys\/class\/leds\/ACT\/brightness: writing "255" failed: EIO/)]);
    d.set(true);
    expect(tree.read('/sys/class/leds/ACT/brightness')).toBe('255');
    expect(errors).toHaveLength(1);
  });

  it('a failing restore is reported, not thrown, and stops before writing delays to the wrong trigger', async () => {
    const fs = led('ACT', 'timer', { delay_on: '100\n', delay_off: '900\n' });
    const { errors, sink } = errorSink();
    const d = SysfsLed.open({ fs, name: 'ACT', onError: sink });
    const before = fs.writes.length;
    fs.failOn('/sys/class/leds/ACT/trigger', 'EIO');
    await expect(d.close()).resolves.toBeUndefined();
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^LED \/sys\/class\/leds\/ACT\/trigger: writing "timer" failed: EIO/)]);
    expect(fs.writes).toHaveLength(before);
  });

  it('open fails naming the file when the LED cannot be read or taken, changing nothing', () => {
    const fs = led('ACT', 'mmc0');
    expect(() => SysfsLed.open({ fs, name: 'led0', onError: () => {} })).toThrow(/^\/sys\/class\/leds\/led0\/trigger: ENOENT/);
    tree.file('/sys/class/leds/ACT/max_brightness', 'lots\n');
    expect(() => SysfsLed.open({ fs, name: 'ACT', onError: () => {} })).toThrow('/sys/class/leds/ACT/max_brightness: expected a positive number, got "lots"');
    tree.file('/sys/class/leds/ACT/max_brightness', '255\n');
    fs.failOn('/sys/class/leds/ACT/trigger', 'EACCES');
    expect(() => SysfsLed.open({ fs, name: 'ACT', onError: () => {} })).toThrow(/^\/sys\/class\/leds\/ACT\/trigger: EACCES/);
    expect(fs.writes).toEqual([]);
  });

  it('a trigger write refused at take-over is an error naming the file', () => {
    const fs = led('ACT', 'mmc0');
    // Reads pass; only the write fails (as a read-only sysfs for a non-root user would).
    const orig = fs.writeSync.bind(fs);
    fs.writeSync = (p: string, text: string) => {
      if (p.endsWith('/trigger')) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      orig(p, text);
    };
    expect(() => SysfsLed.open({ fs, name: 'ACT', onError: () => {} })).toThrow(
      '/sys/class/leds/ACT/trigger: cannot take over the LED: EACCES: permission denied',
    );
  });
});
