// The device's hardware, wired to its node: status LEDs that show what the node knows, and
// sensors sampled into the node's own gossip keys.
//
//   hal/sensors (readers) -> runtime/sensing (sampler, deadband) -> own keys "sensor/..." -> fleet
//   core state -> runtime/status (state machine) -> hal/leds (player, drivers)
//
// Nothing here may take the node down: a LED that cannot be driven is replaced by a simulated
// one and reported as a problem (the other LEDs show it), and a sensor that fails publishes an
// error reading while the others carry on.

import { setTimeout as sleep } from 'node:timers/promises';
import { FsRoot } from '../../hal/fs-root.js';
import { SystemCommands, type CommandRunner } from '../../hal/command.js';
import type { LedDriver } from '../../hal/leds/led.js';
import { LedPlayer } from '../../hal/leds/player.js';
import { PATTERNS, renderPattern, type LedStatus } from '../../hal/leds/patterns.js';
import { openLed, type LedSpec } from '../../hal/leds/select.js';
import { parseSensorKey, SENSOR_PREFIX } from '../sensing/reading.js';
import { SimulatedLed } from '../../hal/leds/simulated.js';
import { createSensor, detectSensors, type SensorSpec } from '../../hal/sensors/catalog.js';
import type { Sensor } from '../../hal/sensors/sensor.js';
import type { HalConfig, SensorConfig } from '../config/hal-config.js';
import { aggregate, deviceRows, type FleetState } from '../sensing/aggregate.js';
import { aggregateKey } from '../sensing/key-aggregate.js';
import { Sampler, type SensorStatus } from '../sensing/sampler.js';
import { CronScheduler, longestGapS, type Scheduler } from '../sensing/schedule.js';
import { defaultDeadband } from '../sensing/deadband-defaults.js';
import { LedStatusMachine, type StatusDecision } from '../status/led-status.js';
import { DEFAULT_IDENTIFY_S, identifyKey, identifyRequesters, isIdentifyRequest, MAX_IDENTIFY_S } from '../status/identify.js';
import { KeyMismatchWatch } from '../status/key-mismatch.js';
import { LED_KEY } from '../status/led-key.js';
import type { Logger } from '../log/log.js';
import type { NodeHost } from '../host/node-host.js';
import { monotonicClock, type TimerScheduler } from '../host/scheduler.js';
import { nextDueMs } from '../core/timing.js';
import { UnknownMemberError } from '../api/server.js';

export interface DeviceHalDeps {
  readonly log: Logger;
  /** Defaults to the config's hal.root. */
  readonly fs?: FsRoot;
  readonly commands?: CommandRunner;
  readonly scheduler?: Scheduler;
  readonly wallClock?: () => number;
}

/** How often the LED status is judged; also renews the players' leases. */
const STATUS_INTERVAL_MS = 1000;
/**
 * How much later a judgement may come: it waits for the node's next timer (a heartbeat, at
 * least every 275 ms on the lan profile) and shares its wake-up, since each wake-up of an
 * otherwise idle device costs about as much as the work it does.
 */
const STATUS_LATE_MS = STATUS_INTERVAL_MS / 2;

interface SensorEntry {
  readonly sensor: Sensor;
  readonly config: SensorConfig;
}

interface Led {
  readonly name: string;
  readonly player: LedPlayer;
  readonly writes: WriteErrors;
}

/** A failing LED write is logged once a minute (not on every blink) and shown as a problem while it lasts. */
class WriteErrors {
  count = 0;
  last: { at: number; message: string } | undefined;
  #loggedAt = -Infinity;

  constructor(
    readonly led: string,
    readonly log: Logger,
  ) {}

  record(e: Error): void {
    const now = monotonicClock();
    this.count++;
    this.last = { at: now, message: e.message };
    if (now - this.#loggedAt < 60_000) return;
    this.#loggedAt = now;
    this.log.log('warn', 'led-write-failed', { led: this.led, error: e.message, failures: this.count });
  }

  /** A problem while writes failed within the last few seconds. */
  problem(now: number): string | undefined {
    return this.last && now - this.last.at < 5000 ? `LED ${this.led}: writes failing: ${this.last.message}` : undefined;
  }
}

export class DeviceHal {
  #config: HalConfig;
  readonly #log: Logger;
  #leds: Led[];
  #sensors: readonly SensorEntry[];
  #problems: string[];
  readonly #deps: DeviceHalDeps;
  #host: NodeHost | undefined;
  #sampler: Sampler | undefined;
  #machine: LedStatusMachine | undefined;
  #mismatch = new KeyMismatchWatch();
  /** Bumped by stop: a status tick queued before it does not run after it. */
  #ticks = 0;
  #decision: StatusDecision = { status: 'booting', reasons: ['starting'] };
  /** What this device last told the fleet its LED shows (LED_KEY). */
  #published: LedStatus | undefined;
  /** A `murmur leds test` in progress: what it plays, since when, for how long each. */
  #test: { playing: readonly LedStatus[]; from: number; ms: number } | undefined;
  readonly #restoreOnExit: () => void;
  /** Renews "booting" until the node is up: a slow start must not look like a hung one. */
  #bootTimer: NodeJS.Timeout | undefined;
  /** What the exit handler hands back: the LEDs in use, also after a reload. */
  #ledHolder: { leds: Led[] } = { leds: [] };

  private constructor(config: HalConfig, deps: DeviceHalDeps, leds: Led[], sensors: readonly SensorEntry[], problems: string[], restore: () => void) {
    this.#restoreOnExit = restore;
    this.#bootTimer = setInterval(() => {
      for (const l of leds) l.player.show(PATTERNS.booting);
    }, STATUS_INTERVAL_MS);
    this.#bootTimer.unref();
    this.#config = config;
    this.#deps = deps;
    this.#log = deps.log;
    this.#leds = leds;
    this.#sensors = sensors;
    this.#problems = problems;
  }

  /**
   * Opens the LEDs (showing "booting" at once) and builds the sensors. Call before the sockets
   * open, so a device that hangs while starting says so.
   */
  static async open(config: HalConfig, deps: DeviceHalDeps): Promise<DeviceHal> {
    const log = deps.log;
    const fs = deps.fs ?? new FsRoot(config.root);
    const commands = deps.commands ?? new SystemCommands();
    const problems: string[] = [];
    const leds: Led[] = [];
    // Registered before the first LED is taken over: a crash from here on still hands it back.
    const restore = (): void => {
      for (const l of holder.leds) (l.player.driver as LedDriver & { restoreSync?: () => void }).restoreSync?.();
    };
    const holder = { leds };
    process.on('exit', restore);
    try {
      for (const [i, spec] of config.leds.entries()) leds.push(await openOne(spec, `hal.leds[${i}]`, config, fs, commands, log, problems));
      const sensors = buildSensors(config, fs, commands);
      log.log('info', 'sensors-ready', { sensors: sensorList(sensors) });
      const hal = new DeviceHal(config, deps, leds, sensors, problems, restore);
      hal.#ledHolder = holder;
      return hal;
    } catch (e) {
      await Promise.all(leds.map((l) => l.player.close()));
      process.off('exit', restore);
      throw e;
    }
  }

  /**
   * Starts judging the LED status from `host` and sampling sensors into its own keys. The
   * judgements run on `timers`, the node's own, so they share its wake-ups.
   */
  start(host: NodeHost, timers: TimerScheduler): void {
    clearInterval(this.#bootTimer);
    this.#host = host;
    this.#machine = new LedStatusMachine(monotonicClock());
    this.#startSampler(host);
    this.#tick();
    const ticks = ++this.#ticks;
    let due = monotonicClock();
    const next = (): void => {
      due = nextDueMs(due, monotonicClock(), STATUS_INTERVAL_MS);
      timers.at(due, () => {
        if (this.#ticks !== ticks) return;
        // Queued first: a judgement that throws does not end the ones after it.
        next();
        this.#tick();
      }, STATUS_LATE_MS);
    };
    next();
  }

  #startSampler(host: NodeHost): void {
    const node = host.node;
    const spreadMs = this.#config.sampling.spreadS * 1000;
    this.#sampler = new Sampler(
      this.#sensors.map(({ sensor, config }) => ({
        sensor,
        schedule: config.schedule,
        deadband: (quantity: string, unit: string) => config.deadband[quantity] ?? config.deadband['*'] ?? defaultDeadband(unit, quantity),
        // Republishing happens on ticks: a slow schedule stretches the interval readers are promised.
        maxIntervalS: Math.max(config.maxIntervalS, longestGapS(config.schedule)),
      })),
      {
        scheduler: this.#deps.scheduler ?? new CronScheduler({ log: (level, message) => this.#log.log(level, 'schedule-warning', { message }) }),
        wallClock: this.#deps.wallClock ?? Date.now,
        monotonic: monotonicClock,
        delay: (ms, signal) => sleep(ms, undefined, { ref: false, ...(signal ? { signal } : {}) }),
        // A fixed offset per device and sensor: the fleet spreads out, each device keeps a regular beat.
        spreadMs: (name) => (spreadMs > 0 ? hash(`${node.self.id}/${name}`) % spreadMs : 0),
        timeoutMs: this.#config.sampling.timeoutS * 1000,
        // Readings are not persisted with the own keys: after a restart they are read afresh.
        publish: (key, value) => host.set(key, value, 0),
        unpublish: (key) => host.delete(key),
        onError: (sensor, e) => this.#log.log('warn', 'sensor-failed', { sensor, error: e.message }),
      },
    );
    this.#sampler.start();
  }

  /**
   * Takes a new `hal` section while the node runs (`systemctl reload murmur`): LEDs and sensors
   * are rebuilt, and the keys of sensors no longer configured are deleted so the fleet stops
   * showing them. Nothing changes when the new sensors cannot be built; the error names the
   * sensor. `hal.root` and `hal.simulate` choose the hardware itself and need a restart.
   */
  async reload(next: HalConfig): Promise<void> {
    const fs = this.#deps.fs ?? new FsRoot(next.root);
    const commands = this.#deps.commands ?? new SystemCommands();
    const sensors = buildSensors(next, fs, commands);
    if (ledsChanged(this.#config, next)) {
      const problems: string[] = [];
      const leds: Led[] = [];
      for (const [i, spec] of next.leds.entries()) leds.push(await openOne(spec, `hal.leds[${i}]`, next, fs, commands, this.#log, problems));
      const old = this.#leds;
      this.#leds = leds;
      this.#ledHolder.leds = leds;
      this.#problems = problems;
      await Promise.all(old.map((l) => l.player.close()));
    }
    const kept = new Set(sensors.map((e) => e.config.name));
    const removed = this.#sensors.map((e) => e.config.name).filter((n) => !kept.has(n));
    this.#sampler?.stop();
    await this.#sampler?.settled();
    this.#config = next;
    this.#sensors = sensors;
    const host = this.#host;
    if (host) {
      const self = host.node.self.id;
      for (const [key] of host.node.liveValues(self, monotonicClock())) {
        const k = parseSensorKey(key);
        if (k && removed.includes(k.sensor)) host.delete(key);
      }
      this.#startSampler(host);
      this.#tick();
    }
    this.#log.log('info', 'sensors-ready', { sensors: sensorList(sensors), removed: removed.join(',') || undefined });
  }

  async stop(): Promise<void> {
    clearInterval(this.#bootTimer);
    this.#ticks++;
    this.#sampler?.stop();
    await Promise.all(this.#leds.map((l) => l.player.close()));
    process.off('exit', this.#restoreOnExit);
  }

  get problems(): readonly string[] {
    return this.#problems;
  }

  #tick(): void {
    const host = this.#host;
    if (!host || !this.#machine) return;
    const node = host.node;
    const now = monotonicClock();
    const peers = [...node.members()].map((m) => ({ id: m.id, status: m.status }));
    const alive = peers.filter((p) => p.status === 'alive').length;
    const problems = [...this.#problems];
    for (const l of this.#leds) {
      const p = l.writes.problem(now);
      if (p) problems.push(p);
    }
    const mismatch = this.#mismatch.update(now, host.refusals()['unknown-key'] ?? 0, alive);
    if (mismatch) problems.push(mismatch);
    const owners = [node.self.id, ...peers.filter((p) => p.status === 'alive' || p.status === 'suspect').map((p) => p.id)];
    const identify = identifyRequesters(node.self.id, owners, (o, k) => isIdentifyRequest(node.liveValue(o, k, now)));
    const d = this.#machine.update({ now, peers, health: node.health, loss: node.measuredLoss, problems, identify: identify.length > 0 });
    if (d.status !== this.#decision.status) {
      const p = PATTERNS[d.status];
      this.#log.log(d.status === 'error' ? 'error' : 'info', 'led-status', {
        status: d.status,
        previous: this.#decision.status,
        why: d.reasons.join('; '),
        by: d.status === 'identify' ? identify.join(',') : undefined,
        looks: p.looks,
        pattern: renderPattern(p),
      });
    }
    this.#decision = d;
    const test = this.#test;
    const step = test ? Math.floor((now - test.from) / test.ms) : 0;
    if (test && step >= test.playing.length) this.#test = undefined;
    const shown = test && step < test.playing.length ? test.playing[step]! : d.status;
    for (const l of this.#leds) l.player.show(PATTERNS[shown]);
    if (shown !== this.#published) {
      this.#published = shown;
      host.set(LED_KEY, shown, 0);
    }
  }

  /** The status the LEDs show now (metrics). */
  get ledStatus(): LedStatus {
    return this.#decision.status;
  }

  /** Every sensor's latest read (metrics). */
  sensorStatus(): readonly SensorStatus[] {
    return this.#sampler?.status() ?? [];
  }

  /** The LED block of /v1/status. */
  statusView(): unknown {
    const d = this.#decision;
    const p = PATTERNS[d.status];
    return {
      status: d.status,
      why: d.reasons,
      looks: p.looks,
      means: p.means,
      pattern: renderPattern(p),
      problems: this.#problems,
      leds: this.#leds.map((l) => ({
        name: l.name,
        backend: l.player.driver.backend,
        device: l.player.driver.description,
        playing: l.player.pattern?.status ?? null,
        leaseExpired: l.player.leaseExpired,
      })),
    };
  }

  /** GET /v1/sensors. */
  sensorsView(): unknown {
    return { sampling: this.#config.sampling, sensors: this.#sampler?.status() ?? [] };
  }

  /** GET /v1/sensors/fleet[/<key>]. */
  fleet(key?: string): unknown {
    const now = monotonicClock();
    const state = this.#fleetState((k) => (key === undefined ? k.startsWith(SENSOR_PREFIX) : k === key), now);
    const self = { self: this.#host!.node.self.id };
    if (key === undefined) return aggregate(state, now, self);
    if (state.entries.length === 0 || !key.startsWith(SENSOR_PREFIX)) return undefined;
    return deviceRows(state, key, now);
  }

  /** GET /v1/agg/<key>: any key's numeric values across the fleet. */
  aggregateKey(key: string): unknown {
    const now = monotonicClock();
    return aggregateKey(this.#fleetState((k) => k === key, now), key, now, { self: this.#host!.node.self.id });
  }

  /** Live values of the keys `want` selects, of this device and every member it knows. */
  #fleetState(want: (key: string) => boolean, now: number): FleetState {
    const node = this.#host!.node;
    const members = [{ id: node.self.id, status: 'alive' as const }, ...[...node.members()].map((m) => ({ id: m.id, status: m.status }))];
    const entries: Array<{ owner: string; key: string; value: unknown; at: number }> = [];
    for (const m of members) {
      // Live values only: tombstones and expired TTLs are left out by the core.
      for (const [k, e] of node.liveValues(m.id, now)) {
        if (want(k)) entries.push({ owner: m.id, key: k, value: e.value, at: e.at });
      }
    }
    return { members, entries };
  }

  /**
   * POST /v1/leds/test: play `pattern` (or every pattern in turn) for `seconds` each, so a person
   * can check the LED and learn the patterns; then back to the real status.
   */
  ledsTest(pattern: string | undefined, seconds = 3): unknown {
    let playing: LedStatus[];
    if (pattern === undefined) playing = Object.keys(PATTERNS) as LedStatus[];
    else if (Object.hasOwn(PATTERNS, pattern)) playing = [pattern as LedStatus];
    else throw new Error(`pattern: expected one of ${Object.keys(PATTERNS).join(', ')}, got "${pattern}"`);
    this.#test = { playing, from: monotonicClock(), ms: seconds * 1000 };
    this.#log.log('info', 'leds-test', { patterns: playing.join(','), seconds });
    this.#tick();
    return { playing, seconds };
  }

  /** POST /v1/identify: publish (or delete) this device's request that `target` identify itself. */
  identify(target: string, seconds: number | undefined, off: boolean): unknown {
    const host = this.#host!;
    const node = host.node;
    if (target !== node.self.id && !node.member(target)) throw new UnknownMemberError(`target: no device "${target}" is known here (GET /v1/members lists them)`);
    const key = identifyKey(target);
    if (off) {
      if (node.liveValue(node.self.id, key, monotonicClock())) host.delete(key);
      return { target, off: true };
    }
    const s = seconds ?? DEFAULT_IDENTIFY_S;
    if (s < 1 || s > MAX_IDENTIFY_S) throw new Error(`seconds: expected 1-${MAX_IDENTIFY_S}, got ${s}`);
    host.set(key, true, s * 1000);
    this.#log.log('info', 'identify-requested', { target, seconds: s });
    return { target, seconds: s };
  }
}

async function openOne(spec: LedSpec, field: string, config: HalConfig, fs: FsRoot, commands: CommandRunner, log: Logger, problems: string[]): Promise<Led> {
  const writes = new WriteErrors(spec.name, log);
  let driver: LedDriver;
  try {
    const opened = await openLed(config.simulate === true ? { ...spec, backend: 'simulated' } : spec, { fs, commands, onError: (e) => writes.record(e), field });
    driver = opened.driver;
    for (const note of opened.notes) log.log('info', 'led-choice', { led: spec.name, note });
    if (opened.problem) problems.push(opened.problem);
    else if (driver.backend === 'simulated' && config.simulate === false) problems.push(`${field}: no LED hardware found, and hal.simulate is false`);
  } catch (e) {
    // Shown on the LEDs that work, in the log and in /v1/status; the node still runs.
    problems.push((e as Error).message);
    log.log('error', 'led-unavailable', { led: spec.name, error: (e as Error).message, fallback: 'simulated' });
    driver = new SimulatedLed();
  }
  log.log('info', 'led-ready', { led: spec.name, backend: driver.backend, device: driver.description });
  const player = new LedPlayer(driver, {
    leaseMs: 5 * STATUS_INTERVAL_MS,
    onLeaseExpired: () => log.log('error', 'led-lease-expired', { led: spec.name, reason: 'the status loop stopped renewing it; LED turned off' }),
  });
  player.show(PATTERNS.booting);
  return { name: spec.name, player, writes };
}

/**
 * What this machine has, with the sampling defaults. With no sensor hardware at all (a laptop,
 * CI) and simulation allowed, a simulated environment sensor shows the whole path working.
 */
function autoSensors(fs: FsRoot, config: HalConfig): SensorConfig[] {
  const found: SensorSpec[] = detectSensors(fs);
  const hardware = found.some((s) => !['load', 'memory', 'disk', 'uptime'].includes(s.type));
  if (config.simulate === true || (config.simulate === 'auto' && !hardware)) found.push({ name: 'sim-env', type: 'simulated' });
  return found.map((s) => ({ ...s, schedule: config.sampling.schedule, deadband: {}, maxIntervalS: config.sampling.maxIntervalS }));
}

function buildSensors(config: HalConfig, fs: FsRoot, commands: CommandRunner): SensorEntry[] {
  const specs: SensorConfig[] = config.sensors === 'auto' ? autoSensors(fs, config) : [...config.sensors];
  return specs.map((c, i) => {
    try {
      return { sensor: createSensor(c, { fs, commands }), config: c };
    } catch (e) {
      throw new Error(`hal.sensors[${i}]: ${(e as Error).message}`);
    }
  });
}

function sensorList(sensors: readonly SensorEntry[]): string {
  return sensors.map((s) => `${s.config.name}:${s.config.type}`).join(',') || 'none';
}

function ledsChanged(a: HalConfig, b: HalConfig): boolean {
  return JSON.stringify(a.leds) !== JSON.stringify(b.leds);
}

/** FNV-1a: a stable, well-spread number from a string. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
