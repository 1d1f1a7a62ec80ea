// What the hardware layer costs a device, in figures:
//   npm run bench:hal [-- --seed 1 --reads 2000 --hours 24 --led-s 3]
// 1. each sensor reader's wall and CPU time per read, on a fake Pi tree and on this machine's /proc;
// 2. the gossip that sampling a Pi's default sensors puts on the air over a virtual day, with the
//    default deadbands and without any;
// 3. the CPU a status LED pattern costs while it plays on a board LED (fake /sys/class/leds/ACT).
// Prints tables; everything runs in temporary folders, nothing goes on the network.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaults } from '../device-config/defaults.js';
import type { CommandRunner } from '../hal/command.js';
import { FsRoot } from '../hal/fs-root.js';
import { LedPlayer } from '../hal/leds/player.js';
import { cycleMs, PATTERNS, type Pattern } from '../hal/leds/patterns.js';
import { SysfsLed } from '../hal/leds/sysfs-led.js';
import { createSensor, detectSensors, type SensorSpec } from '../hal/sensors/catalog.js';
import type { Sensor } from '../hal/sensors/sensor.js';
import { DiskSensor, LoadSensor, MemorySensor, UptimeSensor, type DiskStats } from '../hal/sensors/system.js';
import { defaultDeadband } from '../runtime/sensing/deadband-defaults.js';
import { Sampler } from '../runtime/sensing/sampler.js';
import type { Scheduled, Scheduler } from '../runtime/sensing/schedule.js';
import { Prng } from '../runtime/sim/prng.js';
import { SIGNATURE_BYTES } from '../runtime/wire/limits.js';
import { numberArg } from './bench-args.js';

const USAGE = 'usage: bench-hal [--seed N] [--reads N] [--hours H] [--led-s S]';

interface Args {
  seed: number;
  reads: number;
  hours: number;
  ledS: number;
}

function parse(argv: readonly string[]): Args {
  const a: Args = { seed: 1, reads: 2000, hours: 24, ledS: 3 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const num = (): number => numberArg(flag, argv[++i]);
    switch (flag) {
      case '--seed': a.seed = num(); break;
      case '--reads': a.reads = num(); break;
      case '--hours': a.hours = num(); break;
      case '--led-s': a.ledS = num(); break;
      default: throw new Error(`unknown option ${flag}; ${USAGE}`);
    }
  }
  if (!Number.isInteger(a.reads) || a.reads < 100) throw new Error(`--reads: expected an integer >= 100, got ${a.reads}`);
  if (!(a.hours > 0)) throw new Error(`--hours: expected a number > 0, got ${a.hours}`);
  if (!(a.ledS > 0)) throw new Error(`--led-s: expected a number > 0, got ${a.ledS}`);
  return a;
}

// ---------------------------------------------------------------------------------------------
// Output

function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const width = head.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  // The first column names the row; the rest are figures, right-aligned so digits line up.
  const line = (r: readonly string[]): string => r.map((s, c) => (c === 0 ? s.padEnd(width[c]!) : s.padStart(width[c]!))).join('  ').trimEnd();
  console.log(line(head));
  console.log(width.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);

function cpuModel(): string {
  // x86 says "model name"; a Pi's arm64 kernel has no such line but names the board in "Model".
  const text = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  const field = (name: string): string | undefined => new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim();
  return field('model name') ?? field('Model') ?? field('Hardware') ?? cpus()[0]?.model ?? 'unknown';
}

// ---------------------------------------------------------------------------------------------
// A fake system tree in a temporary folder (the idea of test/hal/fake-tree.ts; scripts/ stand alone).

class Tree {
  readonly root = mkdtempSync(join(tmpdir(), 'murmur-bench-hal-'));
  readonly fs = new FsRoot(this.root);

  file(p: string, text: string): this {
    const real = join(this.root, p);
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, text);
    return this;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

const THERMAL = '/sys/class/thermal/thermal_zone0';
const W1 = '/sys/bus/w1/devices/28-0316a2795eff';
const IIO = '/sys/bus/iio/devices/iio:device0';
const THROTTLED = '/sys/devices/platform/soc/soc:firmware/get_throttled';

const wireless = (quality: number, level: number): string =>
  'Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE\n' +
  ' face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22\n' +
  ` wlan0: 0000   ${quality}.  ${level}.  -256        0      0      0      0     12        0\n`;

// A Pi 4 with 4 GB; the fields the memory reader looks at, and a few around them as the kernel writes them.
const MEM_TOTAL_KB = 3_885_420;
const meminfo = (availableKb: number): string =>
  `MemTotal:        ${MEM_TOTAL_KB} kB\nMemFree:         ${Math.round(availableKb * 0.6)} kB\nMemAvailable:    ${availableKb} kB\n` +
  `Buffers:           61234 kB\nCached:           912345 kB\nSwapCached:            0 kB\nActive:           734512 kB\n` +
  `Inactive:         802233 kB\nSwapTotal:        102396 kB\nSwapFree:         102396 kB\n`;

/** Sources every reader type finds on a Pi 4 with a DS18B20 probe and a BME280. */
function piTree(): Tree {
  return new Tree()
    .file(`${THERMAL}/type`, 'cpu-thermal\n')
    .file(`${THERMAL}/temp`, '48686\n')
    .file(`${W1}/w1_slave`, '72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n')
    .file(`${IIO}/name`, 'bme280\n')
    .file(`${IIO}/in_temp_input`, '23450\n')
    .file(`${IIO}/in_pressure_input`, '100.837332031\n')
    .file(`${IIO}/in_humidityrelative_input`, '45123\n')
    .file(THROTTLED, '50000\n')
    .file('/proc/net/wireless', wireless(56, -54))
    .file('/proc/loadavg', '0.52 0.58 0.59 1/389 12345\n')
    .file('/proc/meminfo', meminfo(3_012_345))
    .file('/proc/uptime', '350735.47 1334388.90\n');
}

/** The throttle reader falls back to vcgencmd only when the firmware file is missing; here it never may. */
const NO_COMMANDS: CommandRunner = {
  run: () => Promise.reject(new Error('bench-hal starts no commands')),
  start: () => {
    throw new Error('bench-hal starts no commands');
  },
};

// ---------------------------------------------------------------------------------------------
// 1. Read cost per reader

interface ReadCost {
  meanUs: number;
  p99Us: number;
  cpuUs: number;
  quantities: number;
}

async function readCost(sensor: Sensor, n: number): Promise<ReadCost> {
  // A warm-up first: the first reads pay for JIT compilation and libuv's thread pool start.
  let quantities = 0;
  for (let i = 0; i < 100; i++) quantities = (await sensor.read()).length;
  const times = new Float64Array(n);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await sensor.read();
    times[i] = performance.now() - t0;
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort();
  const mean = times.reduce((s, x) => s + x, 0) / n;
  return { meanUs: mean * 1000, p99Us: times[Math.ceil(n * 0.99) - 1]! * 1000, cpuUs: (cpu.user + cpu.system) / n, quantities };
}

/** Rows for `readers`; a failing reader gets its error in the row instead of figures. */
async function readRows(readers: readonly (readonly [Sensor, string])[], n: number, failed: string[]): Promise<(string | number)[][]> {
  const rows: (string | number)[][] = [];
  for (const [sensor, source] of readers) {
    try {
      const c = await readCost(sensor, n);
      rows.push([sensor.type, source, c.quantities, n, f1(c.meanUs), f1(c.p99Us), f1(c.cpuUs)]);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      failed.push(`${sensor.type}: ${msg}`);
      rows.push([sensor.type, source, `FAILED: ${msg}`]);
    }
  }
  return rows;
}

async function partReads(a: Args): Promise<boolean> {
  console.log(`\n## 1. Read cost per reader (${a.reads} reads each after 100 warm-up reads, one at a time)`);
  const head = ['reader', 'source', 'qty', 'reads', 'mean µs', 'p99 µs', 'CPU µs/read'];
  const tree = piTree();
  const fakeFailed: string[] = [];
  try {
    const make = (spec: SensorSpec): Sensor => createSensor(spec, { fs: tree.fs, commands: NO_COMMANDS });
    const readers: [Sensor, string][] = [
      [make({ name: 'cpu', type: 'cpu-temperature' }), 'thermal_zone0/temp'],
      [make({ name: 'probe', type: 'ds18b20', device: '28-0316a2795eff' }), 'w1_slave'],
      [make({ name: 'room', type: 'iio', device: 'bme280' }), 'iio bme280, 3 files'],
      [make({ name: 'throttle', type: 'throttle' }), 'get_throttled'],
      [make({ name: 'wifi', type: 'wifi' }), '/proc/net/wireless'],
      [make({ name: 'load', type: 'load' }), '/proc/loadavg'],
      [make({ name: 'memory', type: 'memory' }), '/proc/meminfo'],
      [make({ name: 'disk', type: 'disk', mount: '/' }), 'statfs(temp dir)'],
      [make({ name: 'uptime', type: 'uptime' }), '/proc/uptime'],
    ];
    console.log(`\nfake Pi tree (${tree.root}); on a Pi the DS18B20 read also blocks ~750 ms in the driver, off the event loop:\n`);
    table(head, await readRows(readers, a.reads, fakeFailed));
  } finally {
    tree.remove();
  }

  const real = new FsRoot('/');
  const realFailed: string[] = [];
  console.log('\nthis machine:\n');
  table(
    head,
    await readRows(
      [
        [new LoadSensor('load', real), '/proc/loadavg'],
        [new MemorySensor('memory', real), '/proc/meminfo'],
        [new DiskSensor('disk', real, { mount: '/' }), 'statfs(/)'],
        [new UptimeSensor('uptime', real), '/proc/uptime'],
      ],
      a.reads,
      realFailed,
    ),
  );
  for (const f of [...fakeFailed, ...realFailed]) console.error(`bench-hal: reader failed: ${f}`);
  // This machine may lack a source (a container without /proc); the fake tree lacks nothing.
  return fakeFailed.length === 0;
}

// ---------------------------------------------------------------------------------------------
// 2. Gossip cost of sampling, in virtual time

const TICK_MS = 30_000;
/** Per new gossip entry beyond key and value: CBOR framing and the version stamp. */
const ENTRY_OVERHEAD_BYTES = 12;
const DAY_S = 86_400;

/**
 * A Pi over a day, advanced one sampling tick at a time. Each quantity draws from its own stream,
 * so the run with deadbands and the run without see exactly the same day.
 */
class PiDay {
  readonly #temp: Prng;
  readonly #wifi: Prng;
  readonly #load: Prng;
  readonly #mem: Prng;
  readonly #disk: Prng;
  readonly #throttle: Prng;
  #t = 0; // seconds since the start
  #tempWalk = 0;
  #level = -58;
  #loads: [number, number, number] = [0.3, 0.3, 0.3];
  #memWalk = 0;
  // 32 GB card in 4 KiB blocks; 5% reserved for root, as mkfs.ext4 leaves it.
  readonly #blocks = 7_500_000;
  #usedBlocks = 1_500_000;
  #flags = 0;
  #eventTicks = 0;
  /** Throttle events so far, for the report: they are rare enough that a seed may have none. */
  events = 0;

  constructor(seed: number) {
    const rng = new Prng(seed);
    this.#temp = rng.fork('temperature');
    this.#wifi = rng.fork('wifi');
    this.#load = rng.fork('load');
    this.#mem = rng.fork('memory');
    this.#disk = rng.fork('disk');
    this.#throttle = rng.fork('throttle');
  }

  step(): void {
    const dt = TICK_MS / 1000;
    this.#t += dt;
    const u = (r: Prng, a: number, b: number): number => a + (b - a) * r.next();
    // Mean-reverting, so ±0.3 °C a tick stays within about a degree of the daily curve.
    this.#tempWalk = 0.97 * this.#tempWalk + u(this.#temp, -0.3, 0.3);
    this.#level = -58 + this.#wifi.int(5) - 2;
    // The kernel folds the run queue in every 5 s with 1, 5 and 15 min time constants.
    for (let s = 0; s < dt; s += 5) {
      const p = this.#load.next();
      const running = p < 0.75 ? 0 : p < 0.95 ? 1 : 2;
      this.#loads = this.#loads.map((l, k) => {
        const e = Math.exp(-5 / [60, 300, 900][k]!);
        return l * e + running * (1 - e);
      }) as [number, number, number];
    }
    this.#memWalk = 0.99 * this.#memWalk + u(this.#mem, -2048, 2048);
    // Logs fill the card by about 150 MB a day; writes and rotation jitter it by half a MB.
    this.#usedBlocks += (150 * 256 * dt) / DAY_S + u(this.#disk, -128, 128);
    // Rare short brown-outs (and rarer frequency capping) that the sticky bits then remember.
    if (this.#eventTicks > 0 && --this.#eventTicks === 0) this.#flags &= ~0xf;
    else if (this.#eventTicks === 0) {
      const p = this.#throttle.next();
      if (p < 1 / 1500) this.#event(0);
      else if (p < 1 / 1500 + 1 / 3000) this.#event(1);
    }
  }

  #event(bit: number): void {
    this.#flags |= (1 << bit) | (1 << (bit + 16));
    this.#eventTicks = 1 + this.#throttle.int(3);
    this.events++;
  }

  write(tree: Tree): void {
    const swing = Math.sin((2 * Math.PI * this.#t) / DAY_S);
    tree.file(`${THERMAL}/temp`, `${Math.round((50 + 4 * swing + this.#tempWalk) * 1000)}\n`);
    tree.file(THROTTLED, `${this.#flags.toString(16)}\n`);
    tree.file('/proc/net/wireless', wireless(Math.min(70, 110 + this.#level), this.#level));
    tree.file('/proc/loadavg', `${this.#loads.map(f2).join(' ')} 1/389 12345\n`);
    tree.file('/proc/meminfo', meminfo(Math.round(3_000_000 + 60_000 * swing + this.#memWalk)));
    const up = 200_000.37 + this.#t;
    tree.file('/proc/uptime', `${up.toFixed(2)} ${(up * 3.8).toFixed(2)}\n`);
  }

  readonly statfs = async (): Promise<DiskStats> => {
    const bfree = Math.round(this.#blocks - this.#usedBlocks);
    return { bsize: 4096, blocks: this.#blocks, bfree, bavail: bfree - this.#blocks * 0.05 };
  };
}

/** Ticks when told to: the benchmark owns time. */
class HandScheduler implements Scheduler {
  readonly #tasks = new Set<() => void>();

  every(_expression: string, task: () => void): Scheduled {
    this.#tasks.add(task);
    return { stop: () => void this.#tasks.delete(task) };
  }

  fire(): void {
    for (const t of [...this.#tasks]) t();
  }
}

interface GossipRun {
  samples: number;
  throttleEvents: number;
  perKey: Map<string, { unit: string; deadband: number; publishes: number; bytes: number }>;
  published: number;
  suppressed: number;
  errors: string[];
}

const PI_DEFAULT_SENSORS = ['cpu', 'throttle', 'wifi', 'load', 'memory', 'disk', 'uptime'];

async function gossipRun(seed: number, hours: number, deadband: (unit: string, quantity: string) => number): Promise<GossipRun> {
  const tree = new Tree();
  const day = new PiDay(seed);
  try {
    day.write(tree);
    // What `hal.sensors: "auto"` picks on this tree, so the set follows detectSensors.
    const specs = detectSensors(tree.fs);
    const names = specs.map((s) => s.name);
    if (names.join() !== PI_DEFAULT_SENSORS.join()) throw new Error(`detectSensors found ${names.join(', ')} on the fake Pi, expected ${PI_DEFAULT_SENSORS.join(', ')}`);
    // statfs of a temporary folder does not fill up over a virtual day; the disk gets a fake one.
    const sensors = specs.map((s) => (s.type === 'disk' ? new DiskSensor(s.name, tree.fs, { mount: s.mount, statfs: day.statfs }) : createSensor(s, { fs: tree.fs, commands: NO_COMMANDS })));

    const { schedule, maxIntervalS } = defaults.hal.sampling;
    if (schedule !== '*/30 * * * * *') throw new Error(`the default schedule is now ${schedule}; update TICK_MS in bench-hal`);
    const run: GossipRun = { samples: 0, throttleEvents: 0, perKey: new Map(), published: 0, suppressed: 0, errors: [] };
    let now = 0;
    const scheduler = new HandScheduler();
    const sampler = new Sampler(
      sensors.map((sensor) => ({ sensor, schedule, maxIntervalS, deadband: (q: string, unit: string) => deadband(unit, q) })),
      {
        scheduler,
        monotonic: () => now,
        wallClock: () => Date.UTC(2026, 0, 1) + now,
        // No spread, so delay only ever times a read. Reads take no virtual time, so that deadline
        // never passes: the delay settles only when the sampler cancels it.
        delay: (_ms, signal) => new Promise<void>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true })),
        spreadMs: () => 0,
        publish: (key, value) => {
          const unit = (JSON.parse(value) as { u: string }).u;
          const k = run.perKey.get(key) ?? { unit, deadband: deadband(unit, key.slice(key.lastIndexOf('/') + 1)), publishes: 0, bytes: 0 };
          k.publishes++;
          k.bytes += Buffer.byteLength(key) + Buffer.byteLength(value) + SIGNATURE_BYTES + ENTRY_OVERHEAD_BYTES;
          run.perKey.set(key, k);
        },
        onError: (sensor, e) => void run.errors.push(`${sensor}: ${e.message}`),
      },
    );
    const ticks = Math.round((hours * 3600_000) / TICK_MS);
    sampler.start(); // takes the first sample at once, as on a device
    await sampler.settled();
    for (let k = 1; k < ticks; k++) {
      now += TICK_MS;
      day.step();
      day.write(tree);
      scheduler.fire();
      await sampler.settled();
    }
    sampler.stop();
    run.samples = ticks;
    run.throttleEvents = day.events;
    for (const s of sampler.status()) {
      run.published += s.counts.published;
      run.suppressed += s.counts.suppressed;
      if (s.counts.timeouts + s.counts.overlapsSkipped > 0) run.errors.push(`${s.name}: ${s.counts.timeouts} timeouts, ${s.counts.overlapsSkipped} skipped ticks in virtual time`);
    }
    return run;
  } finally {
    tree.remove();
  }
}

async function partGossip(a: Args): Promise<boolean> {
  const { maxIntervalS } = defaults.hal.sampling;
  console.log(`\n## 2. Gossip cost of sampling (virtual time: ${a.hours} h, a sample every ${TICK_MS / 1000} s, maxIntervalS ${maxIntervalS}, seed ${a.seed})`);
  const withDb = await gossipRun(a.seed, a.hours, defaultDeadband);
  const noDb = await gossipRun(a.seed, a.hours, () => 0);
  const errors = [...withDb.errors.map((e) => `default deadbands: ${e}`), ...noDb.errors.map((e) => `deadband 0: ${e}`)];
  for (const e of errors.slice(0, 10)) console.error(`bench-hal: sampling: ${e}`);
  if (errors.length > 0) return false;

  const perHour = (n: number): string => f1(n / a.hours);
  console.log(`\nper key, publishes per hour (a sample is ${3600_000 / TICK_MS}/h):\n`);
  table(
    ['key', 'unit', 'deadband', 'default', 'deadband 0', 'B/entry'],
    // Sorted: publishes arrive in whatever order the reads settle.
    [...noDb.perKey].sort(([x], [y]) => (x < y ? -1 : 1)).map(([key, z]) => {
      const d = withDb.perKey.get(key);
      return [key, z.unit === '' ? '(none)' : z.unit, d ? String(d.deadband) : '?', perHour(d?.publishes ?? 0), perHour(z.publishes), Math.round(z.bytes / z.publishes)];
    }),
  );

  const total = (r: GossipRun): { pubs: number; bytes: number } =>
    [...r.perKey.values()].reduce((s, k) => ({ pubs: s.pubs + k.publishes, bytes: s.bytes + k.bytes }), { pubs: 0, bytes: 0 });
  const t1 = total(withDb);
  const t0 = total(noDb);
  const seconds = withDb.samples * (TICK_MS / 1000);
  // Deadband 0 still holds back an unchanged value; publishing every sample of every key is the bound.
  const tAll = [...noDb.perKey.values()].reduce((s, k) => ({ pubs: s.pubs + noDb.samples, bytes: s.bytes + (k.bytes / k.publishes) * noDb.samples }), { pubs: 0, bytes: 0 });
  const row = (name: string, suppressed: number, t: { pubs: number; bytes: number }): (string | number)[] => [
    name,
    perHour(t.pubs),
    `${f1(suppressed * 100)}%`,
    Math.round(t.bytes / t.pubs),
    f2(t.bytes / seconds),
  ];
  const share = (r: GossipRun): number => r.suppressed / (r.published + r.suppressed);
  console.log(`\nper device, new entries as they leave it (each is then gossiped on to every peer); ${withDb.throttleEvents} throttle event(s) in the run:\n`);
  table(
    ['run', 'publishes/h', 'suppressed', 'B/entry', 'B/device/s'],
    [row('default deadbands', share(withDb), t1), row('deadband 0', share(noDb), t0), row('every sample', 0, tAll)],
  );
  console.log(
    `\nentry = key + value + ${SIGNATURE_BYTES} B signature + ${ENTRY_OVERHEAD_BYTES} B CBOR/version; ` +
      `default deadbands publish ${f1(t0.pubs / t1.pubs)}x fewer entries than deadband 0 (${f1((1 - t1.bytes / t0.bytes) * 100)}% fewer bytes), ` +
      `${f1(tAll.pubs / t1.pubs)}x fewer than every sample`,
  );
  return true;
}

// ---------------------------------------------------------------------------------------------
// 3. LED player cost, real timers

/** Counts brightness writes: each is one step the player took. */
class CountingFs extends FsRoot {
  writes = 0;

  override writeSync(p: string, text: string): void {
    if (p.endsWith('/brightness')) this.writes++;
    super.writeSync(p, text);
  }
}

async function partLed(a: Args): Promise<boolean> {
  console.log(`\n## 3. LED player cost (SysfsLed on a fake /sys/class/leds/ACT, real timers, whole cycles filling at least ${a.ledS} s per pattern)\n`);
  const tree = new Tree()
    .file('/sys/class/leds/ACT/trigger', 'none rc-feedback kbd-scrolllock timer oneshot heartbeat default-on input [mmc0]\n')
    .file('/sys/class/leds/ACT/max_brightness', '255\n')
    .file('/sys/class/leds/ACT/brightness', '0\n');
  const fs = new CountingFs(tree.root);
  const errors: string[] = [];
  try {
    const led = SysfsLed.open({ fs, name: 'ACT', onError: (e) => void errors.push(e.message) });
    const measure = async (p: Pattern | undefined): Promise<(string | number)[]> => {
      // Whole cycles: identify's strobe is 24 of its 25 steps, so a cut cycle would skew writes/s.
      const ms = p ? Math.ceil((a.ledS * 1000) / cycleMs(p)) * cycleMs(p) : a.ledS * 1000;
      const player = new LedPlayer(led);
      const w0 = fs.writes;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      if (p) player.show(p);
      // The agent renews the lease every second; so does the benchmark, to cost what it costs there.
      const renew = setInterval(() => p && player.show(p), 1000);
      await sleep(ms);
      clearInterval(renew);
      const cpu = process.cpuUsage(cpu0);
      const s = (performance.now() - t0) / 1000;
      const writes = fs.writes - w0;
      player.off();
      const expected = p ? f1(p.steps.length / (cycleMs(p) / 1000)) : '0.0';
      return [p?.status ?? 'idle (no pattern)', f1(s), expected, f1(writes / s), f2((cpu.user + cpu.system) / 1000 / s)];
    };
    const rows = [await measure(undefined)];
    for (const p of Object.values(PATTERNS)) rows.push(await measure(p));
    await led.close();
    const trigger = tree.fs.readSync('/sys/class/leds/ACT/trigger').trim();
    if (trigger !== 'mmc0') errors.push(`trigger not restored on close: ${trigger}`);
    table(['pattern', 's', 'steps/s', 'writes/s', 'CPU ms/s'], rows);
    console.log('\nCPU is the whole process (idle row for the baseline); writes go to a file here, to the LED driver on a Pi.');
  } catch (e) {
    errors.push(e instanceof Error ? e.message : String(e));
  } finally {
    tree.remove();
  }
  for (const e of errors) console.error(`bench-hal: LED: ${e}`);
  return errors.length === 0;
}

// ---------------------------------------------------------------------------------------------

let a: Args;
try {
  a = parse(process.argv.slice(2));
} catch (e) {
  console.error(`bench-hal: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
console.log('# bench:hal');
const via = process.env['npm_lifecycle_event'] ? ` (npm run ${process.env['npm_lifecycle_event']})` : '';
console.log(`command: ${[process.execPath, ...process.argv.slice(1)].join(' ')}${via}`);
console.log(`node ${process.version}, ${cpuModel()}, ${cpus().length} CPUs`);
const wall = performance.now();
const ok = [await partReads(a), await partGossip(a), await partLed(a)];
console.log(`\nwall time ${f1((performance.now() - wall) / 1000)} s`);
if (ok.includes(false)) {
  console.error('bench-hal: some parts failed (see above)');
  process.exitCode = 1;
}
