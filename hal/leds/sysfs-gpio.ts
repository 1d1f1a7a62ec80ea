// An LED on a header pin through the legacy sysfs GPIO interface (/sys/class/gpio), for
// systems without libgpiod's tools. The sysfs number of a pin is its chip's base plus the line
// offset, and the base moves between kernels (0, 512, 571...), so it is always read from the
// chip found by label (gpio-chip.ts).
//
// On a device (root "/") the pin is driven through onoff when its native addon was built;
// otherwise, and always in tests with a fake root, by writing the same sysfs files directly.
// Both follow one lifecycle: export unless already exported, direction, value writes, and on
// close LED off and unexport only if we exported it (a pin someone else exported stays theirs).

import { closeSync } from 'node:fs';
import type { FsRoot } from '../fs-root.js';
import { describeChip, lineProblem, SYSFS_GPIO, type SysfsGpioChip } from './gpio-chip.js';
import type { LedDriver, LedErrorSink } from './led.js';

/** The part of onoff's `Gpio` used here (onoff is optional, so its types may be absent). */
export interface OnoffGpio {
  writeSync(value: 0 | 1): void;
  unexport(): void;
}

export interface OnoffModule {
  Gpio: new (gpio: number, direction: 'in' | 'out' | 'high' | 'low', options?: { activeLow?: boolean }) => OnoffGpio;
}

/** onoff, or undefined when it is not installed or its native addon did not build. */
export async function loadOnoff(): Promise<OnoffModule | undefined> {
  try {
    const mod = (await import('onoff' as string)) as Partial<OnoffModule> & { default?: Partial<OnoffModule> };
    const Gpio = mod.Gpio ?? mod.default?.Gpio;
    return Gpio ? { Gpio } : undefined;
  } catch {
    return undefined;
  }
}

export interface SysfsGpioOptions {
  readonly fs: FsRoot;
  readonly chip: SysfsGpioChip;
  /** Line offset on the chip (the BCM number on a Pi header). */
  readonly line: number;
  readonly activeLow?: boolean;
  readonly onError: LedErrorSink;
  /** Defaults to loadOnoff; only consulted when the root is "/". */
  readonly loadOnoff?: () => Promise<OnoffModule | undefined>;
  /**
   * After an export, udev takes a moment to make the new files writable for the gpio group;
   * until then direction fails with EACCES or is not there yet. Default 50 tries, 20 ms apart.
   */
  readonly exportWait?: { readonly tries: number; readonly delayMs: number };
}

/** How a level reaches the pin: onoff's Gpio or plain file writes. */
interface Pin {
  readonly via: string;
  write(physical: 0 | 1): void;
  release(unexport: boolean): void;
}

const RETRY_CODES = new Set(['EACCES', 'EPERM', 'ENOENT']);

export class SysfsGpioLed implements LedDriver {
  readonly backend = 'sysfs-gpio';
  readonly description: string;
  /** The sysfs GPIO number: chip base + line offset. */
  readonly gpio: number;
  /** False when the pin was already exported at open (then close leaves it exported). */
  readonly exportedByUs: boolean;
  readonly #pin: Pin;
  readonly #activeLow: boolean;
  readonly #onError: LedErrorSink;
  #closed = false;

  private constructor(options: SysfsGpioOptions, gpio: number, exportedByUs: boolean, pin: Pin) {
    this.gpio = gpio;
    this.exportedByUs = exportedByUs;
    this.#pin = pin;
    this.#activeLow = options.activeLow ?? false;
    this.#onError = options.onError;
    const invert = this.#activeLow ? ', active-low' : '';
    this.description = `GPIO ${gpio} (${describeChip(options.chip)} line ${options.line}, sysfs via ${pin.via}${invert})`;
  }

  /** Exports and configures the pin with the LED off. Throws, naming the pin and file, if it cannot. */
  static async open(options: SysfsGpioOptions): Promise<SysfsGpioLed> {
    const { fs, chip, line } = options;
    const problem = lineProblem(chip, line);
    if (problem) throw new Error(problem);
    const gpio = chip.base + line;
    const dir = `${SYSFS_GPIO}/gpio${gpio}`;
    const exportedByUs = !fs.exists(dir);
    // Configuring as "low"/"high" sets the output and its first level in one step, so the LED
    // does not flash on between "out" and the first value write. These levels are physical,
    // which is why active-low is handled here rather than by the kernel's active_low.
    const offDirection = options.activeLow ? 'high' : 'low';
    const where = `GPIO ${gpio} (${describeChip(chip)} line ${line})`;

    const onoff = fs.root === '/' ? await (options.loadOnoff ?? loadOnoff)() : undefined;
    let pin: Pin;
    try {
      pin = onoff ? openWithOnoff(onoff, gpio, offDirection) : await openWithFiles(fs, gpio, exportedByUs, offDirection, options.exportWait);
    } catch (e) {
      // Neither onoff nor a half-configured pin should stay exported after a failed open.
      if (exportedByUs && fs.exists(dir)) tryWrite(fs, `${SYSFS_GPIO}/unexport`, String(gpio));
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    return new SysfsGpioLed(options, gpio, exportedByUs, pin);
  }

  set(on: boolean): void {
    if (this.#closed) return;
    this.#write(on);
  }

  close(): Promise<void> {
    this.restoreSync();
    return Promise.resolve();
  }

  /** LED off and the pin unexported if we exported it; synchronous, for a process 'exit' handler. */
  restoreSync(): void {
    if (this.#closed) return;
    this.#write(false);
    this.#closed = true;
    try {
      this.#pin.release(this.exportedByUs);
    } catch (e) {
      this.#onError(new Error(`GPIO ${this.gpio}: release failed: ${(e as Error).message}`));
    }
  }

  #write(on: boolean): void {
    try {
      this.#pin.write(on !== this.#activeLow ? 1 : 0);
    } catch (e) {
      this.#onError(new Error(`GPIO ${this.gpio}: ${(e as Error).message}`));
    }
  }
}

function openWithOnoff(onoff: OnoffModule, gpio: number, offDirection: 'low' | 'high'): Pin {
  // activeLow false: a pin exported earlier with active_low set would otherwise invert our values.
  const g = new onoff.Gpio(gpio, offDirection, { activeLow: false });
  return {
    via: 'onoff',
    write: (v) => g.writeSync(v),
    release: (unexport) => {
      if (unexport) g.unexport();
      else closeOnoffFd(g);
    },
  };
}

/**
 * onoff frees its value file only in unexport(), which must not run on a pin someone else
 * exported; close the descriptor it holds so reopening the LED (a config reload) leaks nothing.
 */
function closeOnoffFd(g: OnoffGpio): void {
  const fd = (g as { _valueFd?: unknown })._valueFd;
  if (typeof fd !== 'number') return;
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}

async function openWithFiles(
  fs: FsRoot,
  gpio: number,
  exportedByUs: boolean,
  offDirection: 'low' | 'high',
  wait: SysfsGpioOptions['exportWait'],
): Promise<Pin> {
  const dir = `${SYSFS_GPIO}/gpio${gpio}`;
  const write = (p: string, text: string): void => {
    try {
      fs.writeSync(p, text);
    } catch (e) {
      throw Object.assign(new Error(`writing "${text}" to ${p} failed: ${(e as Error).message}`), { code: (e as NodeJS.ErrnoException).code });
    }
  };
  if (exportedByUs) write(`${SYSFS_GPIO}/export`, String(gpio));

  const tries = Math.max(1, wait?.tries ?? 50);
  for (let attempt = 1; ; attempt++) {
    try {
      write(`${dir}/direction`, offDirection);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (attempt >= tries || !exportedByUs || code === undefined || !RETRY_CODES.has(code)) throw e;
      await new Promise((r) => setTimeout(r, wait?.delayMs ?? 20));
    }
  }
  if (fs.tryReadSync(`${dir}/active_low`)?.trim() === '1') write(`${dir}/active_low`, '0');

  return {
    via: 'files',
    write: (v) => write(`${dir}/value`, String(v)),
    release: (unexport) => {
      if (unexport) write(`${SYSFS_GPIO}/unexport`, String(gpio));
    },
  };
}

function tryWrite(fs: FsRoot, p: string, text: string): void {
  try {
    fs.writeSync(p, text);
  } catch {
    // Best effort while already failing with a better error.
  }
}
