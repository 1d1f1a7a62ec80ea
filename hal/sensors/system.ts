// Readers for the machine itself (load, memory, disk, uptime), and the file-reading helpers all
// the sysfs/procfs readers share: every read is bounded by a timeout and every failure becomes a
// SensorError naming the file and what was wrong with it, so a stuck or broken source shows up
// in the sampler's log as one clear line and never stalls the other sensors.

import { statfs as nodeStatfs } from 'node:fs/promises';
import type { FsRoot } from '../fs-root.js';
import { SensorError, type Quantity, type Sensor } from './sensor.js';

/** How long a sysfs/procfs read may take before the reader gives up on it. */
export const READ_TIMEOUT_MS = 2000;

/** Our own deadline passed; distinct from a driver's ETIMEDOUT, which may be worth a retry. */
export class ReadTimeout extends Error {
  constructor(
    readonly path: string,
    readonly ms: number,
  ) {
    super(`${path}: no answer within ${ms} ms (device or bus hung?)`);
  }
}

/**
 * Settles with `work`, or rejects with `onTimeout()` after `ms`. The work itself cannot be
 * cancelled (a blocked kernel read holds its libuv thread until the driver gives up); the caller
 * just stops waiting, and a late rejection of `work` is swallowed here rather than unhandled.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** An earlier read of the same source timed out and has still not come back from the kernel. */
export class StillBlocked extends Error {
  constructor(readonly source: string) {
    super(`${source}: an earlier read is still blocked in the kernel (device or bus hung?); not reading again until it returns`);
  }
}

/** Sources whose last read timed out and is still pending: each one holds a libuv thread. */
const blocked = new Set<string>();

/**
 * withTimeout, at most one outstanding read per source. A timed-out read cannot be cancelled and
 * keeps one of libuv's four threads; starting another on every tick would soon take all four,
 * and with them every other sensor and all asynchronous file work in the process.
 */
export function boundedOnce<T>(source: string, start: () => Promise<T>, ms: number, label = source): Promise<T> {
  if (blocked.has(source)) return Promise.reject(new StillBlocked(label));
  const work = (async () => start())();
  return withTimeout(work, ms, () => {
    blocked.add(source);
    const release = (): void => void blocked.delete(source);
    work.then(release, release);
    return new ReadTimeout(label, ms);
  });
}

/** Reads a system file, bounded by `timeoutMs`; rejects with the raw errno error, a ReadTimeout or StillBlocked. */
export function readBounded(fs: FsRoot, path: string, timeoutMs: number): Promise<string> {
  // Keyed by the real path (two roots are two devices), named by the system path.
  return boundedOnce(fs.path(path), () => fs.read(path), timeoutMs, path);
}

export function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** What went wrong reading `path`, in words an operator can act on. */
export function describeReadError(path: string, e: unknown): string {
  if (e instanceof ReadTimeout || e instanceof StillBlocked) return e.message;
  switch (errnoOf(e)) {
    case 'ENOENT':
      return `${path} missing (device not present or driver not loaded)`;
    case 'EACCES':
    case 'EPERM':
      return `${path}: permission denied (${errnoOf(e)})`;
    case 'ETIMEDOUT':
      return `${path}: the device did not answer (ETIMEDOUT)`;
    case 'EIO':
      return `${path}: I/O error (EIO)`;
    case 'ENODEV':
    case 'ENXIO':
      return `${path}: device gone (${errnoOf(e)})`;
    case 'EAGAIN':
    case 'ENODATA':
      return `${path}: no data yet (${errnoOf(e)})`;
    default: {
      const code = errnoOf(e);
      return `${path}: ${code ?? (e instanceof Error ? e.message : String(e))}`;
    }
  }
}

/** Reads a system file for sensor `sensor`; any failure is a SensorError naming the path. */
export async function readSensorFile(sensor: string, fs: FsRoot, path: string, timeoutMs: number): Promise<string> {
  try {
    return await readBounded(fs, path, timeoutMs);
  } catch (e) {
    throw new SensorError(sensor, describeReadError(path, e));
  }
}

/** A short, quoted excerpt of file content for error messages. */
export function excerpt(text: string, max = 40): string {
  const t = text.trim();
  return JSON.stringify(t.length > max ? `${t.slice(0, max)}…` : t);
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A plain decimal number, or undefined for anything else (empty, "abc", "12abc", "0x10"). */
export function parseDecimal(text: string): number | undefined {
  const t = text.trim();
  if (!NUMBER.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** Parses a file holding one number; the error says whether it was empty or what it held. */
export function numberFromFile(sensor: string, path: string, text: string, expected: string): number {
  if (text.trim() === '') throw new SensorError(sensor, `${path} is empty (expected ${expected})`);
  const n = parseDecimal(text);
  if (n === undefined) throw new SensorError(sensor, `${path}: unparseable ${excerpt(text)} (expected ${expected})`);
  return n;
}

export function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

export interface SystemSensorOptions {
  readonly timeoutMs?: number | undefined;
}

/** A sensor that reads one /proc file per sample. */
abstract class ProcFileSensor implements Sensor {
  abstract readonly type: string;
  readonly #timeoutMs: number;

  constructor(
    readonly name: string,
    private readonly fs: FsRoot,
    options: SystemSensorOptions = {},
  ) {
    this.#timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
  }

  abstract read(): Promise<Quantity[]>;

  protected readFile(path: string): Promise<string> {
    return readSensorFile(this.name, this.fs, path, this.#timeoutMs);
  }
}

export const LOADAVG = '/proc/loadavg';
export const MEMINFO = '/proc/meminfo';
export const UPTIME = '/proc/uptime';

export class LoadSensor extends ProcFileSensor {
  readonly type = 'load';

  async read(): Promise<Quantity[]> {
    const text = await this.readFile(LOADAVG);
    // "0.52 0.58 0.59 1/389 12345": the three averages come first.
    const fields = text.trim().split(/\s+/).slice(0, 3).map(parseDecimal);
    const [l1, l5, l15] = fields;
    if (l1 === undefined || l5 === undefined || l15 === undefined) {
      throw new SensorError(this.name, `${LOADAVG}${text.trim() === '' ? ' is empty' : `: unparseable ${excerpt(text)}`} (expected three load averages)`);
    }
    return [
      { quantity: 'load1', value: l1, unit: 'load' },
      { quantity: 'load5', value: l5, unit: 'load' },
      { quantity: 'load15', value: l15, unit: 'load' },
    ];
  }
}

export class MemorySensor extends ProcFileSensor {
  readonly type = 'memory';

  async read(): Promise<Quantity[]> {
    const text = await this.readFile(MEMINFO);
    if (text.trim() === '') throw new SensorError(this.name, `${MEMINFO} is empty`);
    const kb = new Map<string, number>();
    for (const line of text.split('\n')) {
      const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
      if (m?.[1] !== undefined && m[2] !== undefined) kb.set(m[1], Number(m[2]));
    }
    const total = kb.get('MemTotal');
    if (total === undefined || total <= 0) {
      throw new SensorError(this.name, `${MEMINFO}: no usable MemTotal line in ${excerpt(text)}`);
    }
    // Kernels before 3.14 have no MemAvailable; free + buffers + page cache is what it estimates.
    const free = kb.get('MemFree');
    const available = kb.get('MemAvailable') ?? (free === undefined ? undefined : free + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0));
    if (available === undefined) {
      throw new SensorError(this.name, `${MEMINFO}: neither MemAvailable nor MemFree in ${excerpt(text)}`);
    }
    const clamped = Math.min(Math.max(available, 0), total);
    return [
      { quantity: 'used', value: roundTo(((total - clamped) / total) * 100, 1), unit: '%' },
      { quantity: 'available', value: roundTo(clamped / 1024, 1), unit: 'MB' },
    ];
  }
}

/** The fields of a statfs answer the disk reader needs (node:fs StatsFs has them all). */
export interface DiskStats {
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
}

export interface DiskSensorOptions extends SystemSensorOptions {
  /** Mount point to report on; "/" when absent. */
  readonly mount?: string | undefined;
  /** Stands in for node:fs/promises statfs in tests (it is called with the real path under the root). */
  readonly statfs?: ((path: string) => Promise<DiskStats>) | undefined;
}

export class DiskSensor implements Sensor {
  readonly type = 'disk';
  readonly mount: string;
  readonly #timeoutMs: number;
  readonly #statfs: (path: string) => Promise<DiskStats>;

  constructor(
    readonly name: string,
    private readonly fs: FsRoot,
    options: DiskSensorOptions = {},
  ) {
    this.mount = options.mount ?? '/';
    this.#timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
    this.#statfs = options.statfs ?? ((p) => nodeStatfs(p));
  }

  async read(): Promise<Quantity[]> {
    let st: DiskStats;
    try {
      // A hung network mount blocks statfs indefinitely, hence the deadline.
      st = await boundedOnce(`statfs ${this.fs.path(this.mount)}`, () => this.#statfs(this.fs.path(this.mount)), this.#timeoutMs, this.mount);
    } catch (e) {
      const msg = errnoOf(e) === 'ENOENT' ? `mount point ${this.mount} does not exist` : describeReadError(`mount point ${this.mount}`, e);
      throw new SensorError(this.name, msg);
    }
    if (!(st.blocks > 0) || !(st.bsize > 0)) {
      throw new SensorError(this.name, `mount point ${this.mount} reports no blocks (a pseudo filesystem such as /proc?)`);
    }
    // As df does: the blocks reserved for root count neither as used nor as available.
    const used = st.blocks - st.bfree;
    const usable = used + st.bavail;
    const usedPct = usable > 0 ? (used / usable) * 100 : 100;
    return [
      { quantity: 'used', value: roundTo(usedPct, 1), unit: '%' },
      { quantity: 'free', value: roundTo((st.bavail * st.bsize) / (1024 * 1024), 1), unit: 'MB' },
    ];
  }
}

export class UptimeSensor extends ProcFileSensor {
  readonly type = 'uptime';

  async read(): Promise<Quantity[]> {
    const text = await this.readFile(UPTIME);
    // "350735.47 234388.90": seconds since boot, then idle seconds summed over all CPUs.
    const first = text.trim().split(/\s+/)[0] ?? '';
    const seconds = numberFromFile(this.name, UPTIME, first === '' ? text : first, 'seconds since boot');
    if (seconds < 0) throw new SensorError(this.name, `${UPTIME}: negative uptime ${excerpt(text)}`);
    return [{ quantity: 'seconds', value: seconds, unit: 's' }];
  }
}
