import { afterEach, describe, expect, it } from 'vitest';
import { findChip, lineProblem, listSysfsGpioChips, parseGpiodetect } from '../../../hal/leds/gpio-chip.js';
import { FakeTree } from '../fake-tree.js';
import { GPIODETECT_PI4, GPIODETECT_PI5, PI3_OLD_KERNEL, PI4_KERNEL_66, PI5, sysfsGpio } from './fake-pi.js';

let tree: FakeTree;
afterEach(() => tree?.remove());

describe('sysfs GPIO chip discovery', () => {
  it.each([
    ['Pi 3, older kernel', PI3_OLD_KERNEL, 'gpiochip0', 'pinctrl-bcm2835', 0, 54],
    ['Pi 4, kernel 6.6+', PI4_KERNEL_66, 'gpiochip512', 'pinctrl-bcm2711', 512, 58],
    ['Pi 5', PI5, 'gpiochip571', 'pinctrl-rp1', 571, 54],
  ])('%s: finds the header chip by label, whatever its base', (_, chips, name, label, base, lines) => {
    tree = sysfsGpio(new FakeTree(), chips);
    const found = findChip(listSysfsGpioChips(tree.fs()));
    expect(found).toEqual({ name, label, base, lines });
  });

  it('skips the firmware expander even when it comes first', () => {
    tree = sysfsGpio(new FakeTree(), [
      { name: 'gpiochip496', label: 'raspberrypi-exp-gpio', base: 496, ngpio: 8 },
      { name: 'gpiochip512', label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
    ]);
    const chips = listSysfsGpioChips(tree.fs());
    expect(chips.map((c) => c.name)).toEqual(['gpiochip496', 'gpiochip512']);
    expect(findChip(chips)?.base).toBe(512);
  });

  it('finds nothing on a machine with only the expander or no GPIO at all', () => {
    tree = sysfsGpio(new FakeTree(), [{ name: 'gpiochip504', label: 'raspberrypi-exp-gpio', base: 504, ngpio: 8 }]);
    expect(findChip(listSysfsGpioChips(tree.fs()))).toBeUndefined();
    const empty = new FakeTree();
    expect(listSysfsGpioChips(empty.fs())).toEqual([]);
    empty.remove();
  });

  it('orders chips numerically and leaves out one whose files are unreadable', () => {
    tree = sysfsGpio(new FakeTree(), [
      { name: 'gpiochip100', label: 'other', base: 100, ngpio: 4 },
      { name: 'gpiochip20', label: 'pinctrl-bcm2835', base: 20, ngpio: 54 },
    ]);
    tree.file('/sys/class/gpio/gpiochip7/label', 'broken\n').file('/sys/class/gpio/gpiochip7/base', 'garbage\n');
    expect(listSysfsGpioChips(tree.fs()).map((c) => c.name)).toEqual(['gpiochip20', 'gpiochip100']);
  });

  it('a configured chip wins over the label search, by name, label, number or device path', () => {
    tree = sysfsGpio(new FakeTree(), PI4_KERNEL_66);
    const chips = listSysfsGpioChips(tree.fs());
    expect(findChip(chips, 'gpiochip570')?.label).toBe('raspberrypi-exp-gpio');
    expect(findChip(chips, 'raspberrypi-exp-gpio')?.name).toBe('gpiochip570');
    expect(findChip(chips, '512')?.name).toBe('gpiochip512');
    expect(findChip(chips, 'gpiochip9')).toBeUndefined();
  });
});

describe('gpiodetect output', () => {
  it('parses chips and picks the pin controller, not the expander', () => {
    const chips = parseGpiodetect(GPIODETECT_PI4);
    expect(chips).toEqual([
      { name: 'gpiochip0', label: 'pinctrl-bcm2711', lines: 58 },
      { name: 'gpiochip1', label: 'raspberrypi-exp-gpio', lines: 8 },
    ]);
    expect(findChip(chips)?.name).toBe('gpiochip0');
    expect(findChip(chips, '/dev/gpiochip1')?.label).toBe('raspberrypi-exp-gpio');
  });

  it('finds RP1 on a Pi 5 behind the SoC chips', () => {
    expect(findChip(parseGpiodetect(GPIODETECT_PI5))).toEqual({ name: 'gpiochip4', label: 'pinctrl-rp1', lines: 54 });
  });
});

describe('line offsets', () => {
  const chip = { name: 'gpiochip512', label: 'pinctrl-bcm2711', lines: 58 };

  it('accepts 0 to ngpio-1', () => {
    expect(lineProblem(chip, 0)).toBeUndefined();
    expect(lineProblem(chip, 57)).toBeUndefined();
  });

  it('rejects an offset at or past ngpio, naming the chip and its size', () => {
    expect(lineProblem(chip, 58)).toBe('line 58 is beyond gpiochip512 (pinctrl-bcm2711), which has 58 lines (0–57)');
    expect(lineProblem(chip, 529)).toMatch(/^line 529 is beyond/);
  });

  it('rejects negative and fractional offsets', () => {
    expect(lineProblem(chip, -1)).toMatch(/not a line offset/);
    expect(lineProblem(chip, 1.5)).toMatch(/not a line offset/);
  });
});
