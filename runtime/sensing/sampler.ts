// Reads each configured sensor on its schedule and publishes what changed. Sensors are
// independent: one that fails, hangs or runs slow never delays or stops another.
//
// Per tick of a sensor: wait its spread offset (fixed per device and sensor, so a fleet that
// shares a schedule does not read and gossip in lock-step, while each device keeps a regular
// interval), read with a timeout, stamp, and publish each quantity through the deadband.
//
// Errors are published, not just logged, so the fleet sees a broken sensor as broken rather than
// as quiet: a failed read writes an error reading to every quantity key the sensor has published
// before (keeping its unit), or to sensor/<name>/error if it has never succeeded. That error key
// is unpublished (deps.unpublish) at the first success; without unpublish it is simply no longer
// refreshed and goes stale at readers.

import { SensorError, type Quantity, type Sensor } from '../../hal/sensors/sensor.js';
import { publishReason, type LastPublished, type Sample } from './deadband.js';
import { MAX_KEY_LENGTH } from '../wire/limits.js';
import { ERROR_QUANTITY, MAX_UNIT_BYTES, SENSOR_PREFIX, encodeReading, isSensorName, roundValue, sensorKey } from './reading.js';
import { validateSchedule, type Scheduled, type Scheduler } from './schedule.js';

export interface SensorPlan {
  readonly sensor: Sensor;
  /** Cron expression, 5 fields or 6 with seconds first. */
  readonly schedule: string;
  /**
   * Smallest change of a value worth publishing, in its unit: one number for every quantity, or
   * per quantity (a BME280's °C, hPa and %RH need different ones). 0 publishes every change;
   * Infinity only the max-interval republish.
   */
  readonly deadband: number | ((quantity: string, unit: string) => number);
  /** An unchanged value is republished at least this often (seconds); published as `i`. */
  readonly maxIntervalS: number;
}

export interface SamplerDeps {
  readonly scheduler: Scheduler;
  /** Wall clock, ms since the epoch: only for the `t` stamp readers display. */
  readonly wallClock: () => number;
  /** Monotonic ms: every interval the sampler measures. */
  readonly monotonic: () => number;
  /**
   * Resolves after `ms`. Should settle early (resolve or reject) when `signal` aborts, as
   * node:timers/promises setTimeout does, so that a read's timeout timer does not outlive the read.
   */
  readonly delay: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** This device's fixed offset for a sensor, in [0, spread), e.g. from a hash of node id and sensor name. */
  readonly spreadMs: (sensorName: string) => number;
  readonly publish: (key: string, value: string) => void;
  /** Delete one of this device's keys; used to retire sensor/<name>/error once the sensor works. */
  readonly unpublish?: (key: string) => void;
  /** Each failed sample, invalid quantity and failed publish; the sampler carries on regardless. */
  readonly onError?: (sensor: string, error: Error) => void;
  /** A read taking longer becomes an error reading; its late result is ignored. Default 10 s. */
  readonly timeoutMs?: number;
  /**
   * Timed-out reads that may still be pending before the sampler stops calling read() on that
   * sensor (each tick then publishes an error without reading). A driver stuck for good would
   * otherwise pile up one more stuck call per tick. Default 2.
   */
  readonly maxHungReads?: number;
}

export interface SensorCounts {
  /** Calls to read(), including those that failed or timed out. */
  reads: number;
  /** Samples that produced an error instead of quantities (timeouts included). */
  failures: number;
  timeouts: number;
  /** Ticks skipped because the previous sample of the sensor was still under way. */
  overlapsSkipped: number;
  /** Per-key writes made, and per-key samples the deadband held back. */
  published: number;
  suppressed: number;
}

export interface SensorStatus {
  readonly name: string;
  readonly type: string;
  readonly schedule: string;
  /** pending until the first sample completes; then whether the latest one succeeded. */
  readonly state: 'pending' | 'ok' | 'error';
  /** Wall-clock ms of the latest completed sample, success or not. */
  readonly lastReadAt: number | null;
  /** From the latest successful read, as the reader returned them. */
  readonly quantities: readonly Quantity[];
  /** The latest failure's message while the sensor is failing; null once a read succeeds. */
  readonly error: string | null;
  readonly counts: Readonly<SensorCounts>;
}

export const DEFAULT_READ_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_HUNG_READS = 2;
/**
 * A key is due for its liveness republish this much before its max interval is up. Ticks come
 * from timers that run a little late; without the allowance a key due at 300 s but sampled at
 * 299.998 s would wait a whole further period, past the `i` it promises.
 */
export const LIVENESS_EARLY_MS = 1000;

interface Published extends LastPublished {
  readonly unit: string;
}

interface Slot {
  readonly plan: SensorPlan;
  readonly spreadMs: number;
  readonly errorKey: string;
  /** Token of the sample under way, if any. */
  busy: object | undefined;
  /** Timed-out reads whose promise has not settled yet. */
  hung: number;
  /** Quantities with a key of their own, and their unit: where errors go. */
  readonly known: Map<string, string>;
  readonly last: Map<string, Published>;
  state: SensorStatus['state'];
  lastReadAt: number | null;
  quantities: readonly Quantity[];
  error: string | null;
  readonly counts: SensorCounts;
}

type ReadOutcome = { readonly ok: true; readonly quantities: unknown } | { readonly ok: false; readonly error: Error; readonly timedOut: boolean };

interface Run {
  /**
   * Called once by stop(): each cuts short one spread wait or read under way, and removes
   * itself when that ends. A set rather than one AbortSignal all of them listen on: a device
   * with a dozen sensors would pass the signal's listener limit and print a leak warning.
   */
  readonly onStop: Set<() => void>;
  stopped: boolean;
  readonly schedules: Scheduled[];
}

/** Calls `f` when `run` stops (at once if it has); returns what removes `f` again. */
function whenStopped(run: Run, f: () => void): () => void {
  if (run.stopped) {
    f();
    return () => {};
  }
  run.onStop.add(f);
  return () => run.onStop.delete(f);
}

export class Sampler {
  readonly #deps: SamplerDeps;
  readonly #slots: Slot[] = [];
  readonly #readTimeoutMs: number;
  readonly #maxHungReads: number;
  readonly #pending = new Set<Promise<void>>();
  #run: Run | undefined;

  constructor(plans: readonly SensorPlan[], deps: SamplerDeps) {
    this.#deps = deps;
    this.#readTimeoutMs = deps.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.#maxHungReads = deps.maxHungReads ?? DEFAULT_MAX_HUNG_READS;
    if (!(this.#readTimeoutMs > 0)) throw new Error(`sampler timeoutMs: expected a positive number, got ${this.#readTimeoutMs}`);
    if (!(this.#maxHungReads >= 1)) throw new Error(`sampler maxHungReads: expected at least 1, got ${this.#maxHungReads}`);
    const names = new Set<string>();
    for (const plan of plans) {
      const name = plan.sensor.name;
      const errorKey = sensorKey(name, ERROR_QUANTITY);
      if (names.has(name)) throw new Error(`sensor ${name}: configured twice; sensor names must be unique on a device`);
      names.add(name);
      validateSchedule(plan.schedule, `sensor ${name}: schedule`);
      if (typeof plan.deadband === 'number' && !(plan.deadband >= 0)) throw new Error(`sensor ${name}: deadband: expected a number >= 0, got ${plan.deadband}`);
      if (!(Number.isFinite(plan.maxIntervalS) && plan.maxIntervalS > 0)) throw new Error(`sensor ${name}: maxIntervalS: expected a number > 0, got ${plan.maxIntervalS}`);
      const spreadMs = deps.spreadMs(name);
      if (!(Number.isFinite(spreadMs) && spreadMs >= 0)) throw new Error(`sensor ${name}: spread offset: expected ms >= 0, got ${spreadMs}`);
      this.#slots.push({
        plan,
        spreadMs,
        errorKey,
        busy: undefined,
        hung: 0,
        known: new Map(),
        last: new Map(),
        state: 'pending',
        lastReadAt: null,
        quantities: [],
        error: null,
        counts: { reads: 0, failures: 0, timeouts: 0, overlapsSkipped: 0, published: 0, suppressed: 0 },
      });
    }
  }

  /** Start every schedule, and take each sensor's first sample now (after its spread offset) so a fresh device publishes quickly. */
  start(): void {
    if (this.#run) return;
    const run: Run = { onStop: new Set(), stopped: false, schedules: [] };
    this.#run = run;
    for (const slot of this.#slots) run.schedules.push(this.#deps.scheduler.every(slot.plan.schedule, () => void this.#tick(slot)));
    void this.sampleNow();
  }

  /** Stop the schedules. Samples under way are abandoned: nothing they return is published. */
  stop(): void {
    const run = this.#run;
    if (!run) return;
    this.#run = undefined;
    for (const s of run.schedules) s.stop();
    run.stopped = true;
    for (const f of [...run.onStop]) f();
    run.onStop.clear();
    // Abandoned samples must not block a later start().
    for (const slot of this.#slots) slot.busy = undefined;
  }

  /** One sample of every sensor, through spread and overlap rules as a scheduled tick. Resolves when they are done. */
  async sampleNow(): Promise<void> {
    await Promise.all(this.#slots.map((slot) => this.#tick(slot)));
  }

  /** Resolves when no sample is under way (after stop(), promptly). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  status(): SensorStatus[] {
    return this.#slots.map((s) => ({
      name: s.plan.sensor.name,
      type: s.plan.sensor.type,
      schedule: s.plan.schedule,
      state: s.state,
      lastReadAt: s.lastReadAt,
      quantities: s.quantities,
      error: s.error,
      counts: { ...s.counts },
    }));
  }

  #tick(slot: Slot): Promise<void> {
    const run = this.#run;
    if (!run) return Promise.resolve();
    if (slot.busy) {
      slot.counts.overlapsSkipped++;
      return Promise.resolve();
    }
    const token = {};
    slot.busy = token;
    const p: Promise<void> = this.#sample(slot, run)
      .catch((e: unknown) => this.#report(slot, e))
      .finally(() => {
        if (slot.busy === token) slot.busy = undefined;
        this.#pending.delete(p);
      });
    this.#pending.add(p);
    return p;
  }

  async #sample(slot: Slot, run: Run): Promise<void> {
    // Liveness is measured from the tick, not the read's end: reads vary in length, ticks do not.
    const tickAt = this.#deps.monotonic();
    if (slot.spreadMs > 0) {
      const wait = new AbortController();
      const off = whenStopped(run, () => wait.abort());
      await this.#deps.delay(slot.spreadMs, wait.signal).catch(() => {});
      off();
      if (this.#run !== run) return;
    }
    const outcome = await this.#read(slot, run);
    if (this.#run !== run) return;
    const wallMs = this.#deps.wallClock();
    const t = Math.max(0, Math.floor(wallMs / 1000));
    slot.lastReadAt = wallMs;
    if (outcome.ok) {
      const problem = this.#publishQuantities(slot, outcome.quantities, t, tickAt);
      if (problem === undefined) return;
      this.#fail(slot, new SensorError(slot.plan.sensor.name, problem), t, tickAt);
    } else {
      if (outcome.timedOut) slot.counts.timeouts++;
      this.#fail(slot, outcome.error, t, tickAt);
    }
  }

  async #read(slot: Slot, run: Run): Promise<ReadOutcome> {
    const name = slot.plan.sensor.name;
    if (slot.hung >= this.#maxHungReads) {
      return { ok: false, timedOut: false, error: new SensorError(name, `${slot.hung} earlier reads never returned; not reading again until one does`) };
    }
    slot.counts.reads++;
    let read: Promise<unknown>;
    try {
      read = Promise.resolve(slot.plan.sensor.read());
    } catch (e) {
      read = Promise.reject(e);
    }
    const result = read.then(
      (quantities): ReadOutcome => ({ ok: true, quantities }),
      (e: unknown): ReadOutcome => ({ ok: false, timedOut: false, error: asError(e) }),
    );
    const timer = new AbortController();
    const timeout = this.#deps.delay(this.#readTimeoutMs, timer.signal).then(
      () => 'timeout' as const,
      () => 'aborted' as const,
    );
    // A listener per read, removed after: racing one promise that lives as long as the run
    // would leave a reaction on it for every read ever made.
    let off = (): void => {};
    const stopped = new Promise<'stopped'>((resolve) => {
      off = whenStopped(run, () => resolve('stopped'));
    });
    let r = await Promise.race([result, timeout, stopped]);
    timer.abort();
    // A delay that failed on its own gives no timeout; the read is still bounded by stop().
    if (r === 'aborted') r = await Promise.race([result, stopped]);
    off();
    if (r === 'timeout' || r === 'stopped') {
      // The driver still owns the call (a read cut off by stop() too): count it until it returns.
      slot.hung++;
      void result.then(() => slot.hung--);
      return { ok: false, timedOut: true, error: new SensorError(name, `no reply within ${this.#readTimeoutMs} ms`) };
    }
    return r;
  }

  /** Publish a successful read. Returns why the result as a whole is unusable, if it is. */
  #publishQuantities(slot: Slot, raw: unknown, t: number, tickAt: number): string | undefined {
    if (!Array.isArray(raw)) return `reader returned ${raw === null ? 'null' : typeof raw} instead of a list of quantities`;
    const name = slot.plan.sensor.name;
    const good = new Map<string, Quantity & { readonly key: string }>();
    for (const q of raw as unknown[]) {
      const checked = checkQuantity(name, q);
      if (typeof checked === 'string') this.#report(slot, new SensorError(name, checked));
      else if (good.has(checked.quantity)) this.#report(slot, new SensorError(name, `quantity ${checked.quantity} returned twice in one read; the first is kept`));
      else good.set(checked.quantity, checked);
    }
    if (good.size === 0) return raw.length === 0 ? 'reader returned no quantities' : 'reader returned no usable quantities';
    // From here on errors of this sensor go to these keys, not to sensor/<name>/error.
    for (const q of good.values()) slot.known.set(q.quantity, q.unit);
    const finite = [...good.values()].filter((q) => Number.isFinite(q.value));
    if (finite.length === 0) return `no finite value (${[...good.values()].map((q) => `${q.quantity} ${q.value}`).join(', ')})`;
    for (const q of good.values()) {
      // A reader that yields NaN for one quantity has failed for that quantity only.
      const sample: Sample = Number.isFinite(q.value) ? { ok: true, value: roundValue(q.value) } : { ok: false, error: `sensor ${name}: ${q.quantity} is ${q.value}, not a finite number` };
      this.#offer(slot, q.key, q.unit, sample, t, tickAt);
    }
    slot.state = 'ok';
    slot.error = null;
    slot.quantities = [...good.values()].map(({ quantity, value, unit }) => ({ quantity, value, unit }));
    this.#retireErrorKey(slot);
    return undefined;
  }

  #fail(slot: Slot, error: Error, t: number, tickAt: number): void {
    slot.counts.failures++;
    slot.state = 'error';
    slot.error = error.message;
    this.#report(slot, error);
    const sample: Sample = { ok: false, error: error.message };
    if (slot.known.size === 0) {
      this.#offer(slot, slot.errorKey, '', sample, t, tickAt);
      return;
    }
    for (const [quantity, unit] of slot.known) this.#offer(slot, sensorKey(slot.plan.sensor.name, quantity), unit, sample, t, tickAt);
  }

  #offer(slot: Slot, key: string, unit: string, sample: Sample, t: number, tickAt: number): void {
    const { maxIntervalS } = slot.plan;
    const deadband = this.#deadband(slot, key, unit);
    const last = slot.last.get(key);
    const maxIntervalMs = Math.max(0, maxIntervalS * 1000 - LIVENESS_EARLY_MS);
    const due = (last !== undefined && last.unit !== unit) || publishReason(last, sample, tickAt, deadband, maxIntervalMs) !== undefined;
    if (!due) {
      slot.counts.suppressed++;
      return;
    }
    try {
      const value = sample.ok
        ? encodeReading({ ok: true, value: sample.value, unit, t, i: maxIntervalS })
        : encodeReading({ ok: false, error: sample.error, unit, t, i: maxIntervalS });
      this.#deps.publish(key, value);
    } catch (e) {
      this.#report(slot, asError(e));
      return;
    }
    slot.last.set(key, { sample, at: tickAt, unit });
    slot.counts.published++;
  }

  #deadband(slot: Slot, key: string, unit: string): number {
    const d = slot.plan.deadband;
    if (typeof d === 'number') return d;
    const quantity = key.slice(key.lastIndexOf('/') + 1);
    let v: number;
    try {
      v = d(quantity, unit);
    } catch (e) {
      v = NaN;
      this.#report(slot, asError(e));
    }
    if (v >= 0) return v;
    // Publishing every change wastes some bandwidth; suppressing on a bad deadband could hide a change.
    this.#report(slot, new SensorError(slot.plan.sensor.name, `deadband for ${quantity}: expected a number >= 0, got ${v}; publishing every change`));
    return 0;
  }

  #retireErrorKey(slot: Slot): void {
    if (!slot.last.has(slot.errorKey)) return;
    slot.last.delete(slot.errorKey);
    try {
      this.#deps.unpublish?.(slot.errorKey);
    } catch (e) {
      this.#report(slot, asError(e));
    }
  }

  #report(slot: Slot, e: unknown): void {
    try {
      this.#deps.onError?.(slot.plan.sensor.name, asError(e));
    } catch {
      // A throwing error hook must not take the sampler down with it.
    }
  }
}

/** The quantity with its key, or what is wrong with it. */
function checkQuantity(sensor: string, q: unknown): (Quantity & { readonly key: string }) | string {
  if (typeof q !== 'object' || q === null) return `reader returned ${String(q)} as a quantity`;
  const { quantity, value, unit } = q as Record<string, unknown>;
  if (typeof quantity !== 'string' || !isSensorName(quantity)) return `quantity name ${JSON.stringify(quantity)}: expected lower-case letters, digits, ".", "-" or "_"`;
  if (quantity === ERROR_QUANTITY) return `quantity name "${ERROR_QUANTITY}" is reserved for the sensor's own errors`;
  const key = `${SENSOR_PREFIX}${sensor}/${quantity}`;
  if (key.length > MAX_KEY_LENGTH) return `quantity ${quantity}: key ${key} is longer than ${MAX_KEY_LENGTH} bytes`;
  if (typeof value !== 'number') return `quantity ${quantity}: value ${JSON.stringify(value)} is not a number`;
  if (typeof unit !== 'string' || Buffer.byteLength(unit) > MAX_UNIT_BYTES) return `quantity ${quantity}: unit ${JSON.stringify(unit)}: expected a string of at most ${MAX_UNIT_BYTES} bytes`;
  return { quantity, value, unit, key };
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
