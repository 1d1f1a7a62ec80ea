// An on-board LED under /sys/class/leds (ACT/PWR on current kernels, led0/led1 on older ones).
// The kernel normally drives it from a trigger (mmc0 for SD activity, default-on for power);
// murmur borrows it by switching the trigger to `none`, and hands it back exactly as found.
//
// Patterns are played by murmur turning the LED on and off itself, never by handing the kernel
// the `timer` or `heartbeat` trigger: a kernel trigger keeps blinking after murmur hangs or is
// killed, so the LED would claim "healthy" for a process that is gone. With murmur timing every
// edge, a stuck process shows as a stuck LED.

import type { FsRoot } from '../fs-root.js';
import type { LedDriver, LedErrorSink } from './led.js';

export const SYSFS_LEDS = '/sys/class/leds';

/** Tried in order when no LED is configured: the activity LED under its new and old names. */
export const DEFAULT_BOARD_LEDS: readonly string[] = ['ACT', 'led0'];

export interface TriggerState {
  /** The trigger in [brackets]; undefined if the file shows none selected. */
  readonly current: string | undefined;
  readonly available: readonly string[];
}

/** Parses a `trigger` file: every trigger the kernel offers, the current one in [brackets]. */
export function parseTrigger(text: string): TriggerState {
  let current: string | undefined;
  const available: string[] = [];
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    const m = /^\[(.*)\]$/.exec(word);
    if (m) current = m[1]!;
    available.push(m ? m[1]! : word);
  }
  return { current, available };
}

/** The LED to use: `configured` if it exists, else the first of ACT, led0 that does. */
export function findBoardLed(fs: FsRoot, configured?: string): string | undefined {
  const names = configured !== undefined ? [configured] : DEFAULT_BOARD_LEDS;
  return names.find((n) => fs.exists(`${SYSFS_LEDS}/${n}/brightness`));
}

interface Original {
  readonly trigger: string;
  /** Saved only for `timer`: writing the trigger back resets them to 500 ms. */
  readonly delayOn?: string;
  readonly delayOff?: string;
  /** Saved only for `none`: with no trigger the level is all there is to restore. */
  readonly brightness?: string;
}

export interface SysfsLedOptions {
  readonly fs: FsRoot;
  /** Directory name under /sys/class/leds: "ACT", "led0", "PWR". */
  readonly name: string;
  readonly activeLow?: boolean;
  readonly onError: LedErrorSink;
}

export class SysfsLed implements LedDriver {
  readonly backend = 'sysfs-led';
  readonly description: string;
  readonly #fs: FsRoot;
  readonly #dir: string;
  readonly #max: number;
  readonly #original: Original;
  readonly #activeLow: boolean;
  readonly #onError: LedErrorSink;
  #restored = false;

  private constructor(options: SysfsLedOptions, dir: string, max: number, original: Original) {
    this.#fs = options.fs;
    this.#dir = dir;
    this.#max = max;
    this.#original = original;
    this.#activeLow = options.activeLow ?? false;
    this.#onError = options.onError;
    this.description = options.activeLow ? `${dir} (active-low)` : dir;
  }

  /**
   * Remembers how the LED is set up, then takes it over (trigger `none`, LED off). Throws,
   * naming the file, when the LED cannot be read or taken; nothing has changed in that case.
   */
  static open(options: SysfsLedOptions): SysfsLed {
    const { fs } = options;
    const dir = `${SYSFS_LEDS}/${options.name}`;
    const read = (file: string): string => {
      try {
        return fs.readSync(`${dir}/${file}`).trim();
      } catch (e) {
        throw new Error(`${dir}/${file}: ${(e as Error).message}`);
      }
    };
    const triggers = parseTrigger(read('trigger'));
    if (triggers.current === undefined) throw new Error(`${dir}/trigger: no current trigger in [brackets]`);
    const maxText = read('max_brightness');
    const max = Number(maxText);
    if (!/^\d+$/.test(maxText) || max <= 0) throw new Error(`${dir}/max_brightness: expected a positive number, got "${maxText}"`);

    let original: Original = { trigger: triggers.current };
    if (triggers.current === 'timer') original = { ...original, delayOn: read('delay_on'), delayOff: read('delay_off') };
    if (triggers.current === 'none') original = { ...original, brightness: read('brightness') };

    const led = new SysfsLed(options, dir, max, original);
    try {
      fs.writeSync(`${dir}/trigger`, 'none');
    } catch (e) {
      throw new Error(`${dir}/trigger: cannot take over the LED: ${(e as Error).message}`);
    }
    led.set(false);
    return led;
  }

  /** The trigger found at open, for logs ("took over ACT from mmc0"). */
  get originalTrigger(): string {
    return this.#original.trigger;
  }

  set(on: boolean): void {
    if (this.#restored) return;
    this.#write('brightness', on !== this.#activeLow ? String(this.#max) : '0');
  }

  close(): Promise<void> {
    this.restoreSync();
    return Promise.resolve();
  }

  /**
   * Gives the LED back as found: trigger, and timer delays or level. Synchronous so it can run
   * from a process 'exit' handler, where a crash path must still return the activity LED to the
   * kernel. Runs once; later calls and sets do nothing.
   */
  restoreSync(): void {
    if (this.#restored) return;
    this.#restored = true;
    const o = this.#original;
    // The trigger goes first: selecting `timer` creates delay_on/delay_off with defaults, and
    // selecting `none` switches the LED off, so the saved values are written after it.
    if (!this.#write('trigger', o.trigger)) return;
    if (o.delayOn !== undefined) this.#write('delay_on', o.delayOn);
    if (o.delayOff !== undefined) this.#write('delay_off', o.delayOff);
    if (o.brightness !== undefined) this.#write('brightness', o.brightness);
  }

  #write(file: string, text: string): boolean {
    const path = `${this.#dir}/${file}`;
    try {
      this.#fs.writeSync(path, text);
      return true;
    } catch (e) {
      this.#onError(new Error(`LED ${path}: writing "${text}" failed: ${(e as Error).message}`));
      return false;
    }
  }
}
