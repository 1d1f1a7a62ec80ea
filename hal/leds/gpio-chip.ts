// Which GPIO chip carries the Pi's 40-pin header. Chip numbers are not stable: the sysfs base
// of the header chip is 0 on older kernels, 512 on 6.6+ and 571 on a Pi 5, and the character
// device may be gpiochip0 or gpiochip4. Only the pin controller's label identifies it, so every
// backend looks the chip up by label (or by a configured name) and never assumes a number.

import type { FsRoot } from '../fs-root.js';

/**
 * Labels of the SoC pin controllers that drive the header: Pi 1–3 and Zero, Pi 4, Pi 5.
 * `raspberrypi-exp-gpio` (the firmware's expander, which carries the on-board LEDs and camera
 * power) is deliberately not here: a header pin number means nothing on it.
 */
export const PI_PIN_CONTROLLERS: readonly string[] = ['pinctrl-bcm2835', 'pinctrl-bcm2711', 'pinctrl-rp1'];

export interface GpioChip {
  /** "gpiochip0" (character device) or "gpiochip512" (sysfs, named after its base). */
  readonly name: string;
  readonly label: string;
  /** How many lines it has (sysfs `ngpio`); a line offset must be below this. */
  readonly lines: number;
}

export interface SysfsGpioChip extends GpioChip {
  /** The number of its line 0 in the sysfs GPIO numbering. */
  readonly base: number;
}

export const SYSFS_GPIO = '/sys/class/gpio';

export function isPiPinController(label: string): boolean {
  return PI_PIN_CONTROLLERS.includes(label);
}

/** Chips listed by `gpiodetect`: "gpiochip0 [pinctrl-bcm2711] (58 lines)". Other lines are skipped. */
export function parseGpiodetect(stdout: string): GpioChip[] {
  const chips: GpioChip[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\S+)\s+\[([^\]]*)\]\s+\((\d+)\s+lines?\)/.exec(line);
    if (m) chips.push({ name: m[1]!, label: m[2]!, lines: Number(m[3]) });
  }
  return chips;
}

/** The gpiochip* entries under /sys/class/gpio; a chip whose files cannot be read is left out. */
export function listSysfsGpioChips(fs: FsRoot): SysfsGpioChip[] {
  const chips: SysfsGpioChip[] = [];
  for (const name of fs.list(SYSFS_GPIO)) {
    if (!/^gpiochip\d+$/.test(name)) continue;
    const dir = `${SYSFS_GPIO}/${name}`;
    const label = fs.tryReadSync(`${dir}/label`)?.trim();
    const base = parseCount(fs.tryReadSync(`${dir}/base`));
    const lines = parseCount(fs.tryReadSync(`${dir}/ngpio`));
    if (label === undefined || base === undefined || lines === undefined) continue;
    chips.push({ name, label, base, lines });
  }
  // Numeric order, so gpiochip2 comes before gpiochip10 whatever the directory listing says.
  return chips.sort((a, b) => chipNumber(a.name) - chipNumber(b.name));
}

/**
 * The chip to use: the configured one (matched by name, label, "/dev/gpiochipN" or plain
 * number), else the first whose label is a Pi pin controller.
 */
export function findChip<T extends GpioChip>(chips: readonly T[], configured?: string): T | undefined {
  if (configured === undefined) return chips.find((c) => isPiPinController(c.label));
  const want = configured.replace(/^\/dev\//, '');
  const name = /^\d+$/.test(want) ? `gpiochip${want}` : want;
  return chips.find((c) => c.name === name || c.label === want);
}

/** Why `offset` cannot be used on `chip`, or undefined when it can. */
export function lineProblem(chip: GpioChip, offset: number): string | undefined {
  if (!Number.isInteger(offset) || offset < 0) return `${offset} is not a line offset (a whole number from 0)`;
  if (offset >= chip.lines) {
    return `line ${offset} is beyond ${describeChip(chip)}, which has ${chip.lines} lines (0–${chip.lines - 1})`;
  }
  return undefined;
}

export function describeChip(chip: GpioChip): string {
  return `${chip.name} (${chip.label})`;
}

/** For error messages: what was there instead of what we looked for. */
export function describeChips(chips: readonly GpioChip[]): string {
  return chips.length === 0 ? 'no chips' : chips.map(describeChip).join(', ');
}

function parseCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return undefined;
  return Number(text.trim());
}

function chipNumber(name: string): number {
  return Number(name.slice('gpiochip'.length));
}
