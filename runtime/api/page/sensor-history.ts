// The recent values of each device's numeric keys (sensor readings, plain numbers), for the
// fleet page's small plots. Kept in memory on the serving node only, from the moment the page
// server starts, and bounded twice: points per series and series in all. A fleet that publishes
// more series than fit loses the one updated longest ago, so a device that stopped publishing
// makes room for the ones that are live.

import { decodeReading } from '../../sensing/reading.js';

/** Points kept per series: at the default 30 s sampling, half an hour. */
export const MAX_POINTS = 60;
/** Series kept in all: 16 devices with 16 quantities each. */
export const MAX_SERIES = 256;

export interface Point {
  /** Wall-clock ms when this node learned the value. */
  readonly at: number;
  readonly v: number;
}

/** The number a key's value carries: a sensor reading's v, or a plain finite number. */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const r = decodeReading(value);
  return r?.ok ? r.value : undefined;
}

export class SensorHistory {
  /** Insertion order is update order: the first entry is the one updated longest ago. */
  readonly #series = new Map<string, Point[]>();

  constructor(
    readonly maxPoints = MAX_POINTS,
    readonly maxSeries = MAX_SERIES,
  ) {}

  get size(): number {
    return this.#series.size;
  }

  /** Records `value` if it carries a number; anything else (an error reading, text) is ignored. */
  record(owner: string, key: string, value: unknown, at: number): void {
    const v = numericValue(value);
    if (v === undefined) return;
    const id = seriesId(owner, key);
    let points = this.#series.get(id);
    if (points) this.#series.delete(id);
    else {
      points = [];
      if (this.#series.size >= this.maxSeries) this.#series.delete(this.#series.keys().next().value!);
    }
    this.#series.set(id, points);
    const last = points[points.length - 1];
    // A republished unchanged value adds nothing a plot can show, except that time passed.
    if (last && last.v === v && points.length >= 2 && points[points.length - 2]!.v === v) points[points.length - 1] = { at, v };
    else points.push({ at, v });
    if (points.length > this.maxPoints) points.splice(0, points.length - this.maxPoints);
  }

  /** Forgets a deleted key. */
  forget(owner: string, key: string): void {
    this.#series.delete(seriesId(owner, key));
  }

  of(owner: string, key: string): readonly Point[] {
    return this.#series.get(seriesId(owner, key)) ?? [];
  }
}

function seriesId(owner: string, key: string): string {
  return JSON.stringify([owner, key]);
}
