import { afterEach, describe, expect, it } from 'vitest';
import { findChip, listSysfsGpioChips, type SysfsGpioChip } from '../../../hal/leds/gpio-chip.js';
import { SysfsGpioLed } from '../../../hal/leds/sysfs-gpio.js';
import { FakeTree } from '../fake-tree.js';
import { errorSink, KernelFs, PI3_OLD_KERNEL, PI4_KERNEL_66, PI5, sysfsGpio, type ChipFixture } from './fake-pi.js';

let tree: FakeTree;
afterEach(() => tree?.remove());

function setup(chips: ChipFixture[] = PI4_KERNEL_66): { fs: KernelFs; chip: SysfsGpioChip } {
  tree = sysfsGpio(new FakeTree(), chips);
  const fs = new KernelFs(tree.root);
  return { fs, chip: findChip(listSysfsGpioChips(fs))! };
}

const fast = { tries: 5, delayMs: 1 };

describe('sysfs GPIO LED (file writes)', () => {
  it.each([
    ['base 0', PI3_OLD_KERNEL, 17],
    ['base 512', PI4_KERNEL_66, 529],
    ['base 571', PI5, 588],
  ])('%s: line 17 is GPIO base + 17', async (_, chips, gpio) => {
    const { fs, chip } = setup(chips);
    const led = await SysfsGpioLed.open({ fs, chip, line: 17, onError: () => {} });
    expect(led.gpio).toBe(gpio);
    expect(fs.writes[0]).toBe(`/sys/class/gpio/export <- ${gpio}`);
  });

  it('export, direction low (no glitch), value writes, then LED off and unexport on close', async () => {
    const { fs, chip } = setup();
    const { errors, sink } = errorSink();
    const led = await SysfsGpioLed.open({ fs, chip, line: 17, onError: sink });
    expect(led.backend).toBe('sysfs-gpio');
    expect(led.description).toBe('GPIO 529 (gpiochip512 (pinctrl-bcm2711) line 17, sysfs via files)');
    expect(led.exportedByUs).toBe(true);
    expect(fs.writes).toEqual(['/sys/class/gpio/export <- 529', '/sys/class/gpio/gpio529/direction <- low']);

    led.set(true);
    expect(tree.read('/sys/class/gpio/gpio529/value')).toBe('1');
    led.set(false);
    expect(tree.read('/sys/class/gpio/gpio529/value')).toBe('0');
    await led.close();
    expect(fs.writes.slice(2)).toEqual([
      '/sys/class/gpio/gpio529/value <- 1',
      '/sys/class/gpio/gpio529/value <- 0',
      '/sys/class/gpio/gpio529/value <- 0',
      '/sys/class/gpio/unexport <- 529',
    ]);
    expect(fs.exists('/sys/class/gpio/gpio529')).toBe(false);
    led.set(true);
    expect(fs.writes).toHaveLength(6);
    expect(errors).toEqual([]);
  });

  it('restoreSync (process exit) turns the LED off and unexports at once', async () => {
    const { fs, chip } = setup();
    const led = await SysfsGpioLed.open({ fs, chip, line: 17, onError: () => {} });
    led.set(true);
    led.restoreSync();
    expect(fs.writes.slice(-2)).toEqual(['/sys/class/gpio/gpio529/value <- 0', '/sys/class/gpio/unexport <- 529']);
    await led.close();
    expect(fs.writes).toHaveLength(5);
  });

  it('waits for udev to make direction writable after the export', async () => {
    const { fs, chip } = setup();
    fs.failOn('/sys/class/gpio/gpio529/direction', 'EACCES', 3);
    const led = await SysfsGpioLed.open({ fs, chip, line: 17, onError: () => {}, exportWait: fast });
    expect(fs.writes).toEqual(['/sys/class/gpio/export <- 529', '/sys/class/gpio/gpio529/direction <- low']);
    expect(led.exportedByUs).toBe(true);
  });

  it('gives up after the bounded wait, names the file, and unexports what it exported', async () => {
    const { fs, chip } = setup();
    fs.failOn('/sys/class/gpio/gpio529/direction', 'EACCES');
    await expect(SysfsGpioLed.open({ fs, chip, line: 17, onError: () => {}, exportWait: fast })).rejects.toThrow(
      /^GPIO 529 \(gpiochip512 \(pinctrl-bcm2711\) line 17\): writing "low" to \/sys\/class\/gpio\/gpio529\/direction failed: EACCES/,
    );
    expect(fs.writes).toEqual(['/sys/class/gpio/export <- 529', '/sys/class/gpio/unexport <- 529']);
  });

  it('a failed export (pin claimed by a kernel driver) is an error naming the pin', async () => {
    const { fs, chip } = setup();
    fs.failOn('/sys/class/gpio/export', 'EBUSY');
    await expect(SysfsGpioLed.open({ fs, chip, line: 4, onError: () => {} })).rejects.toThrow(
      /^GPIO 516 .*writing "516" to \/sys\/class\/gpio\/export failed: EBUSY/,
    );
    expect(fs.writes).toEqual([]);
  });

  it('uses a pin someone else exported and leaves it exported on close', async () => {
    const { fs, chip } = setup();
    tree.file('/sys/class/gpio/gpio529/direction', 'out\n').file('/sys/class/gpio/gpio529/value', '1\n').file('/sys/class/gpio/gpio529/active_low', '0\n');
    const led = await SysfsGpioLed.open({ fs, chip, line: 17, onError: () => {} });
    expect(led.exportedByUs).toBe(false);
    led.set(true);
    await led.close();
    expect(fs.writes).toEqual([
      '/sys/class/gpio/gpio529/direction <- low',
      '/sys/class/gpio/gpio529/value <- 1',
      '/sys/class/gpio/gpio529/value <- 0',
    ]);
    expect(fs.exists('/sys/class/gpio/gpio529')).toBe(true);
  });

  it("clears a pre-existing active_low so the kernel does not invert our levels", async () => {
    const { fs, chip } = setup();
    tree.file('/sys/class/gpio/gpio529/direction', 'out\n').file('/sys/class/gpio/gpio529/value', '0\n').file('/sys/class/gpio/gpio529/active_low', '1\n');
    await SysfsGpioLed.open({ fs, chip, line: 17, onError: () => {} });
    expect(fs.writes).toContain('/sys/class/gpio/gpio529/active_low <- 0');
  });

  it('active-low: starts high (off) and writes inverted values', async () => {
    const { fs, chip } = setup();
    const led = await SysfsGpioLed.open({ fs, chip, line: 17, activeLow: true, onError: () => {} });
    expect(led.description).toMatch(/active-low\)$/);
    led.set(true);
    await led.close();
    expect(fs.writes).toEqual([
      '/sys/class/gpio/export <- 529',
      '/sys/class/gpio/gpio529/direction <- high',
      '/sys/class/gpio/gpio529/value <- 0',
      '/sys/class/gpio/gpio529/value <- 1',
      '/sys/class/gpio/unexport <- 529',
    ]);
  });

  it('a value write error (EIO) goes to the error sink, does not throw, and the next set retries', async () => {
    const { fs, chip } = setup();
    const { errors, sink } = errorSink();
    const led = await SysfsGpioLed.open({ fs, chip, line: 17, onError: sink });
    fs.failOn('/sys/class/gpio/gpio529/value', 'EIO', 1);
    expect(() => led.set(true)).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^GPIO 529: writing "1" to \/sys\/class\/gpio\/gpio529\/value failed: EIO/);
    led.set(true);
    expect(tree.read('/sys/class/gpio/gpio529/value')).toBe('1');
    expect(errors).toHaveLength(1);
  });

  it('an unexport error on close is reported, not thrown', async () => {
    const { fs, chip } = setup();
    const { errors, sink } = errorSink();
    const led = await SysfsGpioLed.open({ fs, chip, line: 17, onError: sink });
    fs.failOn('/sys/class/gpio/unexport', 'EIO');
    await expect(led.close()).resolves.toBeUndefined();
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^GPIO 529: release failed: .*unexport failed: EIO/)]);
  });

  it('refuses an offset at or past ngpio before touching anything', async () => {
    const { fs, chip } = setup();
    await expect(SysfsGpioLed.open({ fs, chip, line: 58, onError: () => {} })).rejects.toThrow(
      'line 58 is beyond gpiochip512 (pinctrl-bcm2711), which has 58 lines (0–57)',
    );
    expect(fs.writes).toEqual([]);
  });
});
