// A simulated room climate for development without hardware: temperature, humidity and pressure
// that wander slowly around plausible indoor values. Deterministic given a seed, so a demo or a
// test sees the same series every run; it can also be told to fail, to exercise error paths.

import { SensorError, type Quantity, type Sensor } from './sensor.js';
import { roundTo } from './system.js';

/** mulberry32: a tiny, fast PRNG with good enough spread for made-up readings. Values in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Walk {
  readonly quantity: string;
  readonly unit: string;
  readonly mean: number;
  /** How far from the mean the first value may start. */
  readonly spread: number;
  /** Largest random step per read. */
  readonly step: number;
  readonly min: number;
  readonly max: number;
  readonly decimals: number;
}

// Each value drifts by a small random step and is pulled back towards its mean (a discrete
// Ornstein-Uhlenbeck walk), so it moves like a real room: no jumps, no drift off to extremes.
const PULL = 0.02;
export const ENVIRONMENT: readonly Walk[] = [
  { quantity: 'temperature', unit: '°C', mean: 21, spread: 2, step: 0.15, min: 15, max: 28, decimals: 2 },
  { quantity: 'humidity', unit: '%RH', mean: 45, spread: 5, step: 0.5, min: 30, max: 65, decimals: 1 },
  { quantity: 'pressure', unit: 'hPa', mean: 1013, spread: 5, step: 0.3, min: 990, max: 1035, decimals: 2 },
];

export interface SimulatedOptions {
  /** Seeds the built-in PRNG; ignored when `random` is given. */
  readonly seed?: number | undefined;
  /** A source of values in [0, 1); defaults to the PRNG seeded with `seed` (or 1). */
  readonly random?: (() => number) | undefined;
  /** Chance in [0, 1] that a read fails, for demos of flaky hardware. */
  readonly failRate?: number | undefined;
}

export class SimulatedEnvironmentSensor implements Sensor {
  readonly type = 'simulated';
  readonly #random: () => number;
  readonly #failRate: number;
  readonly #values: number[];
  #failure: string | undefined;

  constructor(
    readonly name: string,
    options: SimulatedOptions = {},
  ) {
    this.#random = options.random ?? seededRandom(options.seed ?? 1);
    this.#failRate = Math.min(Math.max(options.failRate ?? 0, 0), 1);
    this.#values = ENVIRONMENT.map((w) => w.mean + (this.#random() * 2 - 1) * w.spread);
  }

  /** Makes every read reject with `reason` until called again with undefined. */
  fail(reason: string | undefined): void {
    this.#failure = reason;
  }

  read(): Promise<Quantity[]> {
    if (this.#failure !== undefined) return Promise.reject(new SensorError(this.name, `simulated failure: ${this.#failure}`));
    // Only draw for the failure when asked to, so a seed gives the same values with or without this option.
    if (this.#failRate > 0 && this.#random() < this.#failRate) {
      return Promise.reject(new SensorError(this.name, 'simulated failure: random (failRate)'));
    }
    const out = ENVIRONMENT.map((w, i) => {
      const prev = this.#values[i] ?? w.mean;
      const next = Math.min(w.max, Math.max(w.min, prev + PULL * (w.mean - prev) + (this.#random() * 2 - 1) * w.step));
      this.#values[i] = next;
      return { quantity: w.quantity, value: roundTo(next, w.decimals), unit: w.unit };
    });
    return Promise.resolve(out);
  }
}
