import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLed, type LedDeps, type LedSpec } from '../../../hal/leds/select.js';
import { SimulatedLed } from '../../../hal/leds/simulated.js';
import { FakeCommands } from '../fake-commands.js';
import { FakeTree } from '../fake-tree.js';
import { errorSink, GPIODETECT_PI4, gpiodetectAnswer, gpiosetAnswers, KernelFs, PI4_KERNEL_66, sysfsGpio } from './fake-pi.js';

let tree: FakeTree;
beforeEach(() => {
  tree = new FakeTree();
});
afterEach(() => tree.remove());

const F = 'hal.leds[0]';

function deps(commands = new FakeCommands()): LedDeps & { fs: KernelFs; commands: FakeCommands; errors: Error[] } {
  const { errors, sink } = errorSink();
  return { fs: new KernelFs(tree.root), commands, onError: sink, errors };
}

const withGpiod = (version: 'v1.6.3' | 'v2.1' = 'v2.1', detect = GPIODETECT_PI4) =>
  new FakeCommands().on('gpioset', gpiosetAnswers(version)).on('gpiodetect', gpiodetectAnswer(detect));

function boardLed(name: string, trigger = 'none [mmc0] timer'): void {
  tree.file(`/sys/class/leds/${name}/trigger`, trigger).file(`/sys/class/leds/${name}/max_brightness`, '255').file(`/sys/class/leds/${name}/brightness`, '0');
}

const status = (over: Partial<LedSpec> = {}): LedSpec => ({ name: 'status', backend: 'auto', ...over });

describe('openLed, backend auto, with a pin', () => {
  it('prefers libgpiod when gpioset is installed and gpiodetect shows the Pi pin controller', async () => {
    sysfsGpio(tree, PI4_KERNEL_66);
    const d = deps(withGpiod());
    const { driver, notes } = await openLed(status({ pin: 17 }), d, F);
    expect(driver.backend).toBe('gpiod');
    expect(driver.description).toBe('gpiochip0 line 17 (pinctrl-bcm2711, libgpiod v2.1)');
    expect(notes).toEqual(['using libgpiod v2.1 (one interactive gpioset) on gpiochip0 (pinctrl-bcm2711) line 17']);
    expect(d.commands.calls.at(-1)).toBe('gpioset --chip gpiochip0 --consumer murmur --interactive 17=0');
    expect(d.fs.writes).toEqual([]);
  });

  it('libgpiod v1 runs gpioset per change, only when there is no sysfs GPIO', async () => {
    const d = deps(withGpiod('v1.6.3'));
    const { driver, notes } = await openLed(status({ pin: 4, activeLow: true }), d, F);
    expect(driver.backend).toBe('gpiod');
    expect(notes).toEqual(['/sys/class/gpio/export not found (kernel without sysfs GPIO); using libgpiod v1.6.3 (gpioset per change) on gpiochip0 (pinctrl-bcm2711) line 4']);
    expect(d.commands.calls.at(-1)).toBe('gpioset gpiochip0 4=1');
  });

  it('prefers sysfs GPIO over gpioset without an interactive session (a process per blink, a line that may revert)', async () => {
    sysfsGpio(tree, PI4_KERNEL_66);
    const d = deps(withGpiod('v1.6.3'));
    const { driver, notes } = await openLed(status({ pin: 17 }), d, F);
    expect(driver.backend).toBe('sysfs-gpio');
    expect(notes[0]).toMatch(/^gpioset v1\.6\.3 has no interactive mode .*; using sysfs GPIO chip gpiochip512/);
  });

  it('falls back to sysfs GPIO when gpioset is not installed, saying why', async () => {
    sysfsGpio(tree, PI4_KERNEL_66);
    const d = deps();
    const { driver, notes } = await openLed(status({ pin: 17 }), d, F);
    expect(driver.backend).toBe('sysfs-gpio');
    expect(notes).toEqual(['gpioset not installed; using sysfs GPIO chip gpiochip512 (pinctrl-bcm2711) base 512: GPIO 529']);
    expect(d.fs.writes.slice(0, 2)).toEqual(['/sys/class/gpio/export <- 529', '/sys/class/gpio/gpio529/direction <- low']);
  });

  it('falls back to sysfs GPIO when gpiodetect shows no Pi pin controller', async () => {
    sysfsGpio(tree, PI4_KERNEL_66);
    const d = deps(withGpiod('v2.1', 'gpiochip0 [gpio-mockup-A] (8 lines)\n'));
    const { driver, notes } = await openLed(status({ pin: 17 }), d, F);
    expect(driver.backend).toBe('sysfs-gpio');
    expect(notes[0]).toMatch(/^no Raspberry Pi pin controller \(looked for pinctrl-bcm2835, pinctrl-bcm2711, pinctrl-rp1\); gpiodetect lists gpiochip0 \(gpio-mockup-A\); using sysfs GPIO/);
  });

  it('is an error naming the pin when neither works, listing what was looked for', async () => {
    await expect(openLed(status({ pin: 17 }), deps(), F)).rejects.toThrow(
      'hal.leds[0].pin: no way to drive line 17: libgpiod: gpioset not installed; sysfs GPIO: /sys/class/gpio/export not found (kernel without sysfs GPIO)',
    );
  });

  it('an offset past the chip is a config error, not a reason to try the next backend', async () => {
    sysfsGpio(tree, PI4_KERNEL_66);
    const d = deps(withGpiod());
    await expect(openLed(status({ pin: 58 }), d, F)).rejects.toThrow(
      'hal.leds[0].pin: line 58 is beyond gpiochip0 (pinctrl-bcm2711), which has 58 lines (0–57)',
    );
    expect(d.commands.sessions).toEqual([]);
    expect(d.fs.writes).toEqual([]);
  });

  it('rejects a pin that is not a line offset', async () => {
    await expect(openLed(status({ pin: -1 }), deps(), F)).rejects.toThrow(/^hal\.leds\[0\]\.pin: must be a whole number from 0/);
  });
});

describe('openLed, backend auto, without a pin', () => {
  it('takes the ACT LED', async () => {
    boardLed('ACT');
    boardLed('led0');
    const { driver, notes } = await openLed(status(), deps(), F);
    expect(driver.backend).toBe('sysfs-led');
    expect(driver.description).toBe('/sys/class/leds/ACT');
    expect(notes).toEqual(['using /sys/class/leds/ACT, taken over from trigger mmc0']);
  });

  it('takes led0 on an older kernel, or the configured LED', async () => {
    boardLed('led0');
    boardLed('PWR', 'none [default-on]');
    expect((await openLed(status(), deps(), F)).driver.description).toBe('/sys/class/leds/led0');
    const pwr = await openLed(status({ led: 'PWR' }), deps(), F);
    expect(pwr.notes).toEqual(['using /sys/class/leds/PWR, taken over from trigger default-on']);
  });

  it('simulates when there is no board LED, saying what it looked for', async () => {
    tree.dir('/sys/class/leds/mmc0::');
    let now = 42;
    const d = { ...deps(), clock: () => now };
    const { driver, notes } = await openLed(status(), d, F);
    expect(driver).toBeInstanceOf(SimulatedLed);
    expect(notes).toEqual(['no /sys/class/leds/ACT or /sys/class/leds/led0 (present: mmc0::); LED simulated']);
    now = 50;
    driver.set(true);
    expect((driver as SimulatedLed).recent()).toEqual([{ at: 50, on: true }]);
  });

  it('simulates when the LED cannot be taken over (not root), saying why, and reports it as a problem', async () => {
    boardLed('ACT');
    const d = deps();
    d.fs.failOn('/sys/class/leds/ACT/trigger', 'EACCES');
    const { driver, notes, problem } = await openLed(status(), d, F);
    expect(driver.backend).toBe('simulated');
    expect(notes[0]).toMatch(/^\/sys\/class\/leds\/ACT\/trigger: EACCES.*; LED simulated$/);
    expect(problem).toMatch(/^hal\.leds\[0\]\.led: \/sys\/class\/leds\/ACT\/trigger: EACCES/);
  });

  it('a machine without a board LED is no problem: simulated, quietly', async () => {
    const { driver, problem } = await openLed(status(), deps(), F);
    expect(driver.backend).toBe('simulated');
    expect(problem).toBeUndefined();
  });
});

describe('openLed, explicit backends', () => {
  it('gpiod without gpioset is an error naming the backend field', async () => {
    sysfsGpio(tree, PI4_KERNEL_66);
    await expect(openLed(status({ backend: 'gpiod', pin: 17 }), deps(), F)).rejects.toThrow('hal.leds[0].backend: backend gpiod: gpioset not installed');
  });

  it('gpiod with a chip that is not there names the chip field and what gpiodetect listed', async () => {
    await expect(openLed(status({ backend: 'gpiod', pin: 17, chip: 'gpiochip9' }), deps(withGpiod()), F)).rejects.toThrow(
      'hal.leds[0].chip: backend gpiod: no chip named gpiochip9; gpiodetect lists gpiochip0 (pinctrl-bcm2711), gpiochip1 (raspberrypi-exp-gpio)',
    );
  });

  it('gpiod with a configured chip uses it', async () => {
    const d = deps(withGpiod());
    const { driver } = await openLed(status({ backend: 'gpiod', pin: 2, chip: 'raspberrypi-exp-gpio' }), d, F);
    expect(driver.description).toMatch(/^gpiochip1 line 2 /);
  });

  it('GPIO backends need a pin', async () => {
    await expect(openLed(status({ backend: 'gpiod' }), deps(withGpiod()), F)).rejects.toThrow(/^hal\.leds\[0\]\.pin: backend gpiod needs the line offset/);
    await expect(openLed(status({ backend: 'sysfs-gpio' }), deps(), F)).rejects.toThrow(/^hal\.leds\[0\]\.pin: backend sysfs-gpio needs/);
  });

  it('sysfs-gpio is used even where libgpiod would work, and fails clearly without sysfs GPIO', async () => {
    sysfsGpio(tree, PI4_KERNEL_66);
    const d = deps(withGpiod());
    const { driver } = await openLed(status({ backend: 'sysfs-gpio', pin: 17 }), d, F);
    expect(driver.backend).toBe('sysfs-gpio');
    expect(d.commands.calls).toEqual([]);
    const bare = new FakeTree();
    try {
      const d2 = { ...deps(), fs: new KernelFs(bare.root) };
      await expect(openLed(status({ backend: 'sysfs-gpio', pin: 17 }), d2, F)).rejects.toThrow(
        'hal.leds[0].backend: backend sysfs-gpio: /sys/class/gpio/export not found (kernel without sysfs GPIO)',
      );
    } finally {
      bare.remove();
    }
  });

  it('sysfs-gpio with only the expander names what it looked for', async () => {
    sysfsGpio(tree, [{ name: 'gpiochip504', label: 'raspberrypi-exp-gpio', base: 504, ngpio: 8 }]);
    await expect(openLed(status({ backend: 'sysfs-gpio', pin: 17 }), deps(), F)).rejects.toThrow(
      'hal.leds[0].backend: backend sysfs-gpio: no Raspberry Pi pin controller (looked for pinctrl-bcm2835, pinctrl-bcm2711, pinctrl-rp1); /sys/class/gpio has gpiochip504 (raspberrypi-exp-gpio)',
    );
  });

  it('sysfs-led without the LED names the led field when one was configured, else the backend', async () => {
    boardLed('ACT');
    await expect(openLed(status({ backend: 'sysfs-led', led: 'PWR' }), deps(), F)).rejects.toThrow(
      'hal.leds[0].led: backend sysfs-led: no /sys/class/leds/PWR (present: ACT)',
    );
    const bare = new FakeTree();
    try {
      await expect(openLed(status({ backend: 'sysfs-led' }), { ...deps(), fs: new KernelFs(bare.root) }, F)).rejects.toThrow(
        'hal.leds[0].backend: backend sysfs-led: no /sys/class/leds/ACT or /sys/class/leds/led0 (/sys/class/leds is empty or missing)',
      );
    } finally {
      bare.remove();
    }
  });

  it('sysfs-led that cannot be taken over is an error, not a silent simulation', async () => {
    boardLed('ACT');
    const d = deps();
    d.fs.failOn('/sys/class/leds/ACT/max_brightness', 'EIO');
    await expect(openLed(status({ backend: 'sysfs-led' }), d, F)).rejects.toThrow(/^hal\.leds\[0\]\.led: backend sysfs-led: \/sys\/class\/leds\/ACT\/max_brightness: EIO/);
  });

  it('simulated is always available, and notes an ignored pin', async () => {
    const { driver, notes } = await openLed(status({ backend: 'simulated', pin: 17 }), deps(), F);
    expect(driver.backend).toBe('simulated');
    expect(notes).toEqual(['simulated LED, as configured', 'pin 17 ignored: backend simulated does not drive GPIO pins']);
  });

  it('takes the field path from deps.field when no third argument is given', async () => {
    await expect(openLed(status({ backend: 'gpiod', pin: 17 }), { ...deps(), field: 'hal.leds[3]' })).rejects.toThrow(/^hal\.leds\[3\]\.backend: /);
    await expect(openLed(status({ backend: 'gpiod', pin: 17 }), deps())).rejects.toThrow(/^LED status\.backend: /);
  });
});
