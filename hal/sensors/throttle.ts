// The Raspberry Pi firmware's throttle flags: under-voltage, ARM frequency capping, throttling
// and the soft temperature limit, each as "now" (bits 0-3) and "has occurred since boot" (bits
// 16-19, sticky). Read from the firmware driver's sysfs file when the kernel has it (no process
// to start, no video group needed), otherwise from `vcgencmd get_throttled`.

import type { CommandRunner } from '../command.js';
import type { FsRoot } from '../fs-root.js';
import { SensorError, type Quantity, type Sensor } from './sensor.js';
import { excerpt, READ_TIMEOUT_MS, readSensorFile, withTimeout } from './system.js';

export const THROTTLED_FILE = '/sys/devices/platform/soc/soc:firmware/get_throttled';

const FLAGS: readonly (readonly [bit: number, quantity: string])[] = [
  [0, 'under-voltage'],
  [1, 'freq-capped'],
  [2, 'throttled'],
  [3, 'soft-temp-limit'],
];
const OCCURRED_SHIFT = 16;

/** The eight flags as 0/1 quantities, each "now" flag followed by its "-occurred" twin. */
export function decodeThrottled(flags: number): Quantity[] {
  return FLAGS.flatMap(([bit, quantity]) => [
    { quantity, value: (flags >>> bit) & 1, unit: 'bool' },
    { quantity: `${quantity}-occurred`, value: (flags >>> (bit + OCCURRED_SHIFT)) & 1, unit: 'bool' },
  ]);
}

/**
 * The flags word from "0x50005", "50005" or "throttled=0x50005". A bare number is hex: the
 * firmware driver prints the word with "%x", and vcgencmd always writes the 0x.
 */
export function parseThrottled(text: string): number | undefined {
  const m = /^\s*(?:throttled=)?(?:0x)?([0-9a-f]{1,8})\s*$/i.exec(text);
  return m?.[1] === undefined ? undefined : parseInt(m[1], 16);
}

export interface ThrottleOptions {
  readonly timeoutMs?: number | undefined;
}

export class ThrottleSensor implements Sensor {
  readonly type = 'throttle';
  readonly #timeoutMs: number;

  constructor(
    readonly name: string,
    private readonly fs: FsRoot,
    private readonly commands: CommandRunner,
    options: ThrottleOptions = {},
  ) {
    this.#timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
  }

  async read(): Promise<Quantity[]> {
    if (this.fs.exists(THROTTLED_FILE)) {
      const text = await readSensorFile(this.name, this.fs, THROTTLED_FILE, this.#timeoutMs);
      if (text.trim() === '') throw new SensorError(this.name, `${THROTTLED_FILE} is empty (expected the flags in hex)`);
      const flags = parseThrottled(text);
      if (flags === undefined) throw new SensorError(this.name, `${THROTTLED_FILE}: unparseable ${excerpt(text)} (expected the flags in hex)`);
      return decodeThrottled(flags);
    }
    return decodeThrottled(await this.#vcgencmd());
  }

  async #vcgencmd(): Promise<number> {
    const cmd = 'vcgencmd get_throttled';
    // The runner enforces the timeout itself; the outer one only guards against a runner that does not.
    const r = await withTimeout(
      (async () => this.commands.run('vcgencmd', ['get_throttled'], this.#timeoutMs))(),
      this.#timeoutMs + Math.min(this.#timeoutMs, 500),
      () => new SensorError(this.name, `${cmd}: no answer within ${this.#timeoutMs} ms`),
    ).catch((e: unknown) => {
      throw e instanceof SensorError ? e : new SensorError(this.name, `${cmd}: ${e instanceof Error ? e.message : String(e)}`);
    });
    if (r.code === 127) {
      throw new SensorError(this.name, `${THROTTLED_FILE} missing and vcgencmd not installed: no way to read the throttle flags`);
    }
    if (r.code === 124) throw new SensorError(this.name, `${cmd}: no answer within ${this.#timeoutMs} ms`);
    if (r.code !== 0) {
      // Typically "VCHI initialization failed": the user is not in the video group.
      throw new SensorError(this.name, `${cmd} failed (exit ${r.code}): ${excerpt(r.stderr || r.stdout, 80)}`);
    }
    const flags = parseThrottled(r.stdout);
    if (flags === undefined) throw new SensorError(this.name, `${cmd}: unparseable output ${excerpt(r.stdout)} (expected "throttled=0x...")`);
    return flags;
  }
}
