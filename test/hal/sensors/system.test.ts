import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SensorError } from '../../../hal/sensors/sensor.js';
import type { Sensor } from '../../../hal/sensors/sensor.js';
import {
  DiskSensor,
  excerpt,
  LOADAVG,
  LoadSensor,
  MEMINFO,
  MemorySensor,
  parseDecimal,
  UPTIME,
  UptimeSensor,
  withTimeout,
  type DiskStats,
} from '../../../hal/sensors/system.js';
import { FailingFs, FakeTree } from '../fake-tree.js';
import { readErr } from './support.js';

let tree: FakeTree;
beforeEach(() => {
  tree = new FakeTree();
});
afterEach(() => tree.remove());


describe('helpers', () => {
  it('parseDecimal takes plain decimals only', () => {
    expect(parseDecimal(' 48312\n')).toBe(48312);
    expect(parseDecimal('-1.5')).toBe(-1.5);
    expect(parseDecimal('0.001000')).toBe(0.001);
    expect(parseDecimal('1e3')).toBe(1000);
    for (const bad of ['', ' ', 'abc', '12abc', '0x10', '1.2.3', 'Infinity', 'NaN', '--1']) expect(parseDecimal(bad)).toBeUndefined();
  });
  it('excerpt quotes a short, trimmed piece', () => {
    expect(excerpt('  hi\n')).toBe('"hi"');
    expect(excerpt('x'.repeat(50))).toBe(`"${'x'.repeat(40)}…"`);
  });
  it('withTimeout settles with the work, or rejects after the deadline', async () => {
    await expect(withTimeout(Promise.resolve(1), 1000, () => new Error('late'))).resolves.toBe(1);
    await expect(withTimeout(Promise.reject(new Error('boom')), 1000, () => new Error('late'))).rejects.toThrow('boom');
    await expect(withTimeout(new Promise(() => {}), 10, () => new Error('late'))).rejects.toThrow('late');
  });
});

describe('LoadSensor', () => {
  it('reads the three load averages', async () => {
    tree.file(LOADAVG, '0.52 0.58 1.09 1/389 12345\n');
    const s = new LoadSensor('load', tree.fs());
    expect(s.type).toBe('load');
    expect(await s.read()).toEqual([
      { quantity: 'load1', value: 0.52, unit: 'load' },
      { quantity: 'load5', value: 0.58, unit: 'load' },
      { quantity: 'load15', value: 1.09, unit: 'load' },
    ]);
  });
  it('empty, garbage and truncated content are errors quoting it', async () => {
    const s = new LoadSensor('load', tree.fs());
    tree.file(LOADAVG, '');
    expect((await readErr(s)).message).toBe(`sensor load: ${LOADAVG} is empty (expected three load averages)`);
    tree.file(LOADAVG, 'a b c');
    expect((await readErr(s)).message).toBe(`sensor load: ${LOADAVG}: unparseable "a b c" (expected three load averages)`);
    tree.file(LOADAVG, '0.52 0.5');
    expect((await readErr(s)).message).toMatch(/unparseable "0\.52 0\.5"/);
  });
  it('a permission error names the file', async () => {
    tree.file(LOADAVG, '0.52 0.58 1.09 1/389 12345\n');
    expect((await readErr(new LoadSensor('load', new FailingFs(tree.root).failOn(LOADAVG, 'EACCES')))).message).toBe(`sensor load: ${LOADAVG}: permission denied (EACCES)`);
  });
});

describe('MemorySensor', () => {
  const meminfo = (lines: string[]): void => {
    tree.file(MEMINFO, lines.map((l) => `${l}\n`).join(''));
  };
  it('gives used percent and available MB from MemTotal and MemAvailable', async () => {
    meminfo(['MemTotal:        4000000 kB', 'MemFree:          100000 kB', 'MemAvailable:    3000000 kB', 'Buffers:           20000 kB', 'Active(anon):      1234 kB', 'HugePages_Total:       0']);
    const s = new MemorySensor('memory', tree.fs());
    expect(s.type).toBe('memory');
    expect(await s.read()).toEqual([
      { quantity: 'used', value: 25, unit: '%' },
      { quantity: 'available', value: 2929.7, unit: 'MB' },
    ]);
  });
  it('estimates available memory on kernels without MemAvailable', async () => {
    meminfo(['MemTotal:        1024000 kB', 'MemFree:          102400 kB', 'Buffers:           51200 kB', 'Cached:           358400 kB']);
    expect(await new MemorySensor('memory', tree.fs()).read()).toEqual([
      { quantity: 'used', value: 50, unit: '%' },
      { quantity: 'available', value: 500, unit: 'MB' },
    ]);
  });
  it('empty, garbage and truncated files are errors', async () => {
    const s = new MemorySensor('memory', tree.fs());
    tree.file(MEMINFO, '');
    expect((await readErr(s)).message).toBe(`sensor memory: ${MEMINFO} is empty`);
    tree.file(MEMINFO, 'lorem ipsum');
    expect((await readErr(s)).message).toBe(`sensor memory: ${MEMINFO}: no usable MemTotal line in "lorem ipsum"`);
    tree.file(MEMINFO, 'MemTotal:        4000000 kB\nMemF');
    expect((await readErr(s)).message).toMatch(/neither MemAvailable nor MemFree/);
  });
  it('a permission error names the file', async () => {
    meminfo(['MemTotal: 1 kB', 'MemAvailable: 1 kB']);
    expect((await readErr(new MemorySensor('memory', new FailingFs(tree.root).failOn(MEMINFO, 'EACCES')))).message).toMatch(/\/proc\/meminfo: permission denied/);
  });
});

describe('DiskSensor', () => {
  const stats = (s: DiskStats) => {
    const seen: string[] = [];
    return { seen, statfs: (p: string) => (seen.push(p), Promise.resolve(s)) };
  };
  it('gives used percent (as df: reserved blocks excluded) and free MB of the mount point', async () => {
    tree.dir('/data');
    const f = stats({ bsize: 4096, blocks: 2_621_440, bfree: 1_310_720, bavail: 1_048_576 });
    const s = new DiskSensor('disk', tree.fs(), { mount: '/data', statfs: f.statfs });
    expect(s.type).toBe('disk');
    expect(await s.read()).toEqual([
      { quantity: 'used', value: 55.6, unit: '%' },
      { quantity: 'free', value: 4096, unit: 'MB' },
    ]);
    expect(f.seen).toEqual([`${tree.root}/data`]);
  });
  it('reads the real filesystem under the root with node statfs, "/" by default', async () => {
    const q = await new DiskSensor('disk', tree.fs()).read();
    const used = q.find((x) => x.quantity === 'used')?.value;
    const free = q.find((x) => x.quantity === 'free')?.value;
    expect(used).toBeGreaterThanOrEqual(0);
    expect(used).toBeLessThanOrEqual(100);
    expect(free).toBeGreaterThan(0);
  });
  it('a missing mount point is an error naming it', async () => {
    expect((await readErr(new DiskSensor('disk', tree.fs(), { mount: '/mnt/usb' }))).message).toBe('sensor disk: mount point /mnt/usb does not exist');
  });
  it('a permission error, a pseudo filesystem and a hung statfs are errors naming the mount point', async () => {
    const denied = (): Promise<DiskStats> => Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES' }));
    expect((await readErr(new DiskSensor('disk', tree.fs(), { statfs: denied }))).message).toBe('sensor disk: mount point /: permission denied (EACCES)');
    const proc = stats({ bsize: 4096, blocks: 0, bfree: 0, bavail: 0 });
    expect((await readErr(new DiskSensor('disk', tree.fs(), { mount: '/proc', statfs: proc.statfs }))).message).toMatch(/mount point \/proc reports no blocks/);
    const hung = (): Promise<DiskStats> => new Promise(() => {});
    expect((await readErr(new DiskSensor('disk', tree.fs(), { mount: '/mnt/nfs', statfs: hung, timeoutMs: 10 }))).message).toBe(
      'sensor disk: /mnt/nfs: no answer within 10 ms (device or bus hung?)',
    );
  });
});

describe('UptimeSensor', () => {
  it('gives seconds since boot', async () => {
    tree.file(UPTIME, '350735.47 234388.90\n');
    const s = new UptimeSensor('uptime', tree.fs());
    expect(s.type).toBe('uptime');
    expect(await s.read()).toEqual([{ quantity: 'seconds', value: 350735.47, unit: 's' }]);
  });
  it('empty, garbage and negative content are errors', async () => {
    const s = new UptimeSensor('uptime', tree.fs());
    tree.file(UPTIME, '');
    expect((await readErr(s)).message).toBe(`sensor uptime: ${UPTIME} is empty (expected seconds since boot)`);
    tree.file(UPTIME, 'up 3 days');
    expect((await readErr(s)).message).toBe(`sensor uptime: ${UPTIME}: unparseable "up" (expected seconds since boot)`);
    tree.file(UPTIME, '-5 1');
    expect((await readErr(s)).message).toMatch(/negative uptime/);
  });
  it('a missing file is an error naming it', async () => {
    expect((await readErr(new UptimeSensor('uptime', tree.fs()))).message).toMatch(/\/proc\/uptime missing/);
  });
});

describe('a source that hangs', () => {
  it('is read again only once its blocked read has returned, so hung reads cannot take every libuv thread', async () => {
    const { boundedOnce, ReadTimeout, StillBlocked } = await import('../../../hal/sensors/system.js');
    let release!: () => void;
    let started = 0;
    const start = (): Promise<string> => {
      started++;
      return new Promise<string>((r) => (release = () => r('late')));
    };
    await expect(boundedOnce('dev-a', start, 5)).rejects.toBeInstanceOf(ReadTimeout);
    await expect(boundedOnce('dev-a', start, 5)).rejects.toBeInstanceOf(StillBlocked);
    expect(started).toBe(1);
    // Another source is not held up by this one.
    await expect(boundedOnce('dev-b', async () => 'ok', 5)).resolves.toBe('ok');
    release();
    await new Promise((r) => setImmediate(r));
    await expect(boundedOnce('dev-a', async () => 'back', 5)).resolves.toBe('back');
  });
});
