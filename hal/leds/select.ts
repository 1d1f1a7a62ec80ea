// Turns a configured LED into a driver. With backend "auto" it takes the best that works on
// this machine: for a header pin libgpiod, then sysfs GPIO; for the on-board LED the kernel's
// /sys/class/leds entry, else a simulated LED so a laptop or CI run still shows the pattern.
// A backend named explicitly must work or the start fails, naming the config field at fault.

import type { CommandRunner } from '../command.js';
import type { FsRoot } from '../fs-root.js';
import { describeChip, describeChips, findChip, lineProblem, listSysfsGpioChips, PI_PIN_CONTROLLERS, SYSFS_GPIO } from './gpio-chip.js';
import { openGpiodLed, probeGpiod } from './gpiod.js';
import type { LedBackendName, LedDriver, LedErrorSink } from './led.js';
import { SimulatedLed } from './simulated.js';
import { SysfsGpioLed } from './sysfs-gpio.js';
import { DEFAULT_BOARD_LEDS, findBoardLed, SYSFS_LEDS, SysfsLed } from './sysfs-led.js';

export interface LedSpec {
  name: string;
  backend: 'auto' | LedBackendName;
  /** Line offset on the Pi's pin controller (BCM number): an LED wired to the header. */
  pin?: number;
  /** A GPIO chip by name or label, instead of the Pi pin controller found by label. */
  chip?: string;
  /** A /sys/class/leds entry, instead of ACT or led0. */
  led?: string;
  activeLow?: boolean;
}

export interface LedDeps {
  fs: FsRoot;
  commands: CommandRunner;
  onError: LedErrorSink;
  clock?: () => number;
  /** Where the spec sits in the configuration ("hal.leds[0]"), as an alternative to openLed's third argument. */
  field?: string;
}

export interface OpenedLed {
  driver: LedDriver;
  /** Why this backend, for the log: what was looked for and what was skipped. */
  notes: string[];
  /**
   * Set when hardware is there but could not be used (a board LED murmur may not write), so
   * the fallback is not silent: the caller shows it as a problem that needs a person.
   */
  problem?: string;
}

/** A backend that cannot be used here: which spec field to blame and why. */
interface Unusable {
  readonly field: keyof LedSpec;
  readonly reason: string;
  /** The hardware exists but refused us (permissions, a busy line), as opposed to being absent. */
  readonly refused?: boolean;
}

type Attempt = OpenedLed | Unusable;

/**
 * Opens the LED `spec` describes. `field` is where the spec sits in the configuration
 * ("hal.leds[0]"; else deps.field, else "LED <name>"); errors name `${field}.pin`,
 * `${field}.backend`... and what was looked for.
 */
export async function openLed(spec: LedSpec, deps: LedDeps, field = deps.field ?? `LED ${spec.name}`): Promise<OpenedLed> {
  const { pin } = spec;
  if (pin !== undefined && (!Number.isInteger(pin) || pin < 0)) {
    throw new Error(`${field}.pin: must be a whole number from 0 (the line offset, BCM numbering), got ${pin}`);
  }
  const fail = (u: Unusable, backend: string): never => {
    throw new Error(`${field}.${u.field}: backend ${backend}: ${u.reason}`);
  };

  switch (spec.backend) {
    case 'simulated':
      return { driver: simulated(deps), notes: ['simulated LED, as configured', ...ignoredPin(spec)] };
    case 'sysfs-led': {
      const a = openBoardLed(spec, deps);
      return 'driver' in a ? { ...a, notes: [...a.notes, ...ignoredPin(spec)] } : fail(a, 'sysfs-led');
    }
    case 'gpiod':
    case 'sysfs-gpio': {
      if (pin === undefined) throw new Error(`${field}.pin: backend ${spec.backend} needs the line offset of the LED's pin (BCM number, e.g. 17)`);
      const a = spec.backend === 'gpiod' ? await openGpiod(spec, pin, deps, field) : await openSysfsGpio(spec, pin, deps, field);
      return 'driver' in a ? a : fail(a, spec.backend);
    }
    case 'auto':
      break;
  }

  if (pin !== undefined) {
    // gpioset without an interactive session is a last resort: a process per blink, and on
    // kernels whose pin controller releases lines to input, an LED that never stays lit.
    const gpiod = await openGpiod(spec, pin, deps, field, false);
    if ('driver' in gpiod) return gpiod;
    const sysfs = await openSysfsGpio(spec, pin, deps, field);
    if ('driver' in sysfs) return { driver: sysfs.driver, notes: sysfs.notes.map((n) => `${gpiod.reason}; ${n}`) };
    const oneShot = await openGpiod(spec, pin, deps, field, true);
    if ('driver' in oneShot) return { driver: oneShot.driver, notes: oneShot.notes.map((n) => `${sysfs.reason}; ${n}`) };
    throw new Error(`${field}.pin: no way to drive line ${pin}: libgpiod: ${gpiod.reason}; sysfs GPIO: ${sysfs.reason}`);
  }
  const board = openBoardLed(spec, deps);
  if ('driver' in board) return board;
  return {
    driver: simulated(deps),
    notes: [`${board.reason}; LED simulated`],
    ...(board.refused ? { problem: `${field}.${board.field}: ${board.reason}` } : {}),
  };
}

async function openGpiod(spec: LedSpec, pin: number, deps: LedDeps, field: string, oneShotOk = true): Promise<Attempt> {
  const probe = await probeGpiod(deps.commands);
  if (!probe.ok) return { field: 'backend', reason: probe.reason };
  if (!oneShotOk && !(probe.tools.version === 2 && probe.tools.interactive)) {
    return { field: 'backend', reason: `gpioset ${probe.tools.versionText} has no interactive mode (tried after sysfs GPIO)` };
  }
  const chip = findChip(probe.chips, spec.chip);
  if (!chip) return chipNotFound(spec, `gpiodetect lists ${describeChips(probe.chips)}`);
  const problem = lineProblem(chip, pin);
  // A pin the chip does not have is a configuration mistake, not a reason to try sysfs.
  if (problem) throw new Error(`${field}.pin: ${problem}`);
  const { tools } = probe;
  const driver = openGpiodLed({
    commands: deps.commands,
    tools,
    chip,
    line: pin,
    activeLow: spec.activeLow ?? false,
    onError: deps.onError,
    ...(deps.clock && { clock: deps.clock }),
  });
  const how = tools.version === 2 && tools.interactive ? 'one interactive gpioset' : 'gpioset per change';
  return { driver, notes: [`using libgpiod ${tools.versionText} (${how}) on ${describeChip(chip)} line ${pin}`] };
}

async function openSysfsGpio(spec: LedSpec, pin: number, deps: LedDeps, field: string): Promise<Attempt> {
  const { fs } = deps;
  if (!fs.exists(`${SYSFS_GPIO}/export`)) return { field: 'backend', reason: `${SYSFS_GPIO}/export not found (kernel without sysfs GPIO)` };
  const chips = listSysfsGpioChips(fs);
  const chip = findChip(chips, spec.chip);
  if (!chip) return chipNotFound(spec, `${SYSFS_GPIO} has ${describeChips(chips)}`);
  const problem = lineProblem(chip, pin);
  if (problem) throw new Error(`${field}.pin: ${problem}`);
  let driver: SysfsGpioLed;
  try {
    driver = await SysfsGpioLed.open({ fs, chip, line: pin, activeLow: spec.activeLow ?? false, onError: deps.onError });
  } catch (e) {
    throw new Error(`${field}.pin: ${(e as Error).message}`);
  }
  return { driver, notes: [`using sysfs GPIO chip ${describeChip(chip)} base ${chip.base}: GPIO ${driver.gpio}`] };
}

function openBoardLed(spec: LedSpec, deps: LedDeps): Attempt {
  const { fs } = deps;
  const name = findBoardLed(fs, spec.led);
  if (name === undefined) {
    const present = fs.list(SYSFS_LEDS);
    const there = present.length > 0 ? `present: ${present.join(', ')}` : `${SYSFS_LEDS} is empty or missing`;
    const wanted = (spec.led !== undefined ? [spec.led] : DEFAULT_BOARD_LEDS).map((n) => `${SYSFS_LEDS}/${n}`).join(' or ');
    return { field: spec.led !== undefined ? 'led' : 'backend', reason: `no ${wanted} (${there})` };
  }
  try {
    const driver = SysfsLed.open({ fs, name, activeLow: spec.activeLow ?? false, onError: deps.onError });
    return { driver, notes: [`using ${driver.description}, taken over from trigger ${driver.originalTrigger}`] };
  } catch (e) {
    return { field: 'led', reason: (e as Error).message, refused: true };
  }
}

function chipNotFound(spec: LedSpec, found: string): Unusable {
  if (spec.chip !== undefined) return { field: 'chip', reason: `no chip named ${spec.chip}; ${found}` };
  return { field: 'backend', reason: `no Raspberry Pi pin controller (looked for ${PI_PIN_CONTROLLERS.join(', ')}); ${found}` };
}

function simulated(deps: LedDeps): SimulatedLed {
  return new SimulatedLed(deps.clock ? { clock: deps.clock } : {});
}

function ignoredPin(spec: LedSpec): string[] {
  return spec.pin !== undefined ? [`pin ${spec.pin} ignored: backend ${spec.backend} does not drive GPIO pins`] : [];
}
