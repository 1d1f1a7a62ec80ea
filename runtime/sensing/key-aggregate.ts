// `murmur agg KEY` / GET /v1/agg/<key>: one key's values across the fleet, whatever wrote it.
// Sensor readings (the sensor/... JSON) count with their unit and staleness rules; a plain
// number that an application published counts as it is, fresh while its device is alive.

import { aggregate, deviceRows, type FleetState } from './aggregate.js';
import { decodeReading } from './reading.js';

export interface KeyAggregate {
  readonly key: string;
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly unit: string | null;
  readonly devices: ReadonlyArray<{ readonly owner: string; readonly value: unknown; readonly state: 'fresh' | 'stale' | 'error' | 'other' }>;
  readonly stale: string[];
  readonly errors: string[];
  /** Devices whose value is not a number (or not a reading). */
  readonly nonNumeric: string[];
}

/** undefined when no device holds `key`. */
export function aggregateKey(state: FleetState, key: string, now: number): KeyAggregate | undefined {
  const entries = state.entries.filter((e) => e.key === key);
  if (entries.length === 0) return undefined;
  if (entries.some((e) => decodeReading(e.value) !== undefined)) {
    const a = aggregate({ members: state.members, entries }, now)[0]!;
    const rows = deviceRows({ members: state.members, entries }, key, now);
    return {
      key,
      count: a.count,
      min: a.min,
      max: a.max,
      mean: a.mean,
      unit: a.unit,
      devices: rows.map((r) => ({ owner: r.owner, value: r.error ?? r.value, state: r.state === 'fresh' || r.state === 'stale' || r.state === 'error' ? r.state : 'other' })),
      stale: a.stale,
      errors: a.errors,
      nonNumeric: rows.filter((r) => r.state === 'malformed').map((r) => r.owner),
    };
  }
  const status = new Map(state.members.map((m) => [m.id, m.status]));
  const devices = entries
    .map((e) => {
      const fresh = status.get(e.owner) === 'alive';
      const numeric = typeof e.value === 'number' && Number.isFinite(e.value);
      return { owner: e.owner, value: e.value, state: !numeric ? ('other' as const) : fresh ? ('fresh' as const) : ('stale' as const) };
    })
    .sort((a, b) => (a.owner < b.owner ? -1 : 1));
  const nums = devices.filter((d) => d.state === 'fresh').map((d) => d.value as number);
  return {
    key,
    count: nums.length,
    min: nums.length ? Math.min(...nums) : null,
    max: nums.length ? Math.max(...nums) : null,
    mean: nums.length ? nums.reduce((s, x) => s + x, 0) / nums.length : null,
    unit: null,
    devices,
    stale: devices.filter((d) => d.state === 'stale').map((d) => d.owner),
    errors: [],
    nonNumeric: devices.filter((d) => d.state === 'other').map((d) => d.owner),
  };
}
