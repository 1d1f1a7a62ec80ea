// Statistics over values that other devices published, any of which may be wrong or hostile:
// a misconfigured sensor, a unit nobody else uses, or an insider publishing 1e308 from a few
// made-up devices. Every value is either counted or left out with a reason, so a reader sees
// what the figure is made of rather than a silently wrong one.
//
// In order:
//   out-of-range  not a finite number, |v| > MAX_MAGNITUDE, or outside what the unit can mean
//                 (below absolute zero, a humidity over 100 %...). Decided before the unit vote,
//                 so absurd values cannot choose the unit.
//   unit          the unit most of the remaining devices use wins (ties: this device's unit,
//                 then alphabetical); devices in another unit are left out, not converted.
//   outlier       with at least MIN_FOR_OUTLIERS values, one further than OUTLIER_MADS median
//                 absolute deviations from the median, and further from it than the median's
//                 own size (at least 1): a reading a few devices cannot pull the median to.
// min, max and mean are over the values counted: finite whenever one is, null when none is.

import { defaultDeadband } from './deadband-defaults.js';

/** Larger magnitudes mean no physical quantity a Pi measures, and a sum of them could overflow. */
export const MAX_MAGNITUDE = 1e12;
export const MIN_FOR_OUTLIERS = 5;
export const OUTLIER_MADS = 10;

/** What a value in each unit can physically be; a unit not listed is bounded by MAX_MAGNITUDE only. */
const PLAUSIBLE: Readonly<Record<string, readonly [number, number]>> = {
  '°C': [-273.15, 10_000],
  K: [0, 10_273.15],
  '°F': [-459.67, 18_032],
  '%RH': [0, 100],
  '%': [0, 100],
  hPa: [0, 100_000],
  dBm: [-200, 100],
  bool: [0, 1],
  s: [0, MAX_MAGNITUDE],
  MB: [0, MAX_MAGNITUDE],
  load: [0, MAX_MAGNITUDE],
};

export type LeftOutReason = 'unit' | 'out-of-range' | 'outlier';

export interface Sample {
  readonly owner: string;
  readonly value: number;
  readonly unit: string;
}

export interface LeftOut {
  readonly owner: string;
  readonly reason: LeftOutReason;
  readonly value: number;
  readonly unit: string;
}

export interface RobustStats {
  /** The unit counted; undefined when no sample is plausible. */
  readonly unit: string | undefined;
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  /** Every sample not counted, in the order given, with the reason. */
  readonly leftOut: LeftOut[];
}

export function plausible(value: number, unit: string): boolean {
  if (!Number.isFinite(value) || Math.abs(value) > MAX_MAGNITUDE) return false;
  const range = PLAUSIBLE[unit];
  return range === undefined || (value >= range[0] && value <= range[1]);
}

/** `self`: this device's id, whose unit breaks a tie. */
export function robustStats(samples: readonly Sample[], self?: string): RobustStats {
  const why = new Map<Sample, LeftOutReason>();
  const inRange = samples.filter((s) => plausible(s.value, s.unit) || (why.set(s, 'out-of-range'), false));
  const unit = majorityUnit(inRange, self);
  const inUnit = inRange.filter((s) => s.unit === unit || (why.set(s, 'unit'), false));
  let counted = inUnit;
  if (inUnit.length >= MIN_FOR_OUTLIERS) {
    const m = median(inUnit.map((s) => s.value));
    const mad = median(inUnit.map((s) => Math.abs(s.value - m)));
    // A unit's deadband is the change too small to matter: identical readings (MAD 0) must not make every other one an outlier.
    const scale = Math.max(mad, unit === undefined ? 0 : finiteOr0(defaultDeadband(unit)));
    const far = Math.max(Math.abs(m), 1);
    counted = inUnit.filter((s) => {
      const d = Math.abs(s.value - m);
      return !(d > OUTLIER_MADS * scale && d > far) || (why.set(s, 'outlier'), false);
    });
  }
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const s of counted) {
    sum += s.value;
    if (s.value < min) min = s.value;
    if (s.value > max) max = s.value;
  }
  const n = counted.length;
  return {
    unit,
    count: n,
    min: n ? min : null,
    max: n ? max : null,
    mean: n ? sum / n : null,
    leftOut: samples.filter((s) => why.has(s)).map((s) => ({ owner: s.owner, reason: why.get(s)!, value: s.value, unit: s.unit })),
  };
}

function finiteOr0(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

function median(xs: readonly number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const mid = a.length >> 1;
  return a.length % 2 ? a[mid]! : (a[mid - 1]! + a[mid]!) / 2;
}

/** The unit most samples use; a tie goes to `self`'s unit when it is among the tied, else to the first alphabetically. */
export function majorityUnit(samples: readonly { readonly owner: string; readonly unit: string }[], self?: string): string | undefined {
  const n = new Map<string, number>();
  for (const s of samples) n.set(s.unit, (n.get(s.unit) ?? 0) + 1);
  const top = Math.max(0, ...n.values());
  const tied = [...n].filter(([, c]) => c === top).map(([u]) => u);
  if (tied.length === 0) return undefined;
  const own = samples.find((s) => s.owner === self)?.unit;
  if (own !== undefined && tied.includes(own)) return own;
  return tied.sort()[0];
}
