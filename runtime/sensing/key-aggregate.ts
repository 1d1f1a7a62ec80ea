// `murmur agg KEY` / GET /v1/agg/<key>: one key's values across the fleet, whatever wrote it.
// Sensor readings (the sensor/... JSON) count with their unit and staleness rules; a plain
// number that an application published counts as it is, fresh while its device is alive.
// Either way the numbers pass robust.ts first, and every device not counted is listed in
// `leftOut` with the reason.

import { aggregate, deviceRows, type AggregateOptions, type FleetState } from './aggregate.js';
import { decodeReading } from './reading.js';
import { robustStats, type LeftOutReason } from './robust.js';

export type KeyLeftOutReason = 'stale' | 'error' | 'not-a-number' | LeftOutReason;

export interface KeyAggregate {
  readonly key: string;
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly unit: string | null;
  /** Every device holding the key, sorted by owner; `reason` says why one that is not counted was left out. */
  readonly devices: ReadonlyArray<{ readonly owner: string; readonly value: unknown; readonly state: 'fresh' | 'stale' | 'error' | 'other'; readonly reason?: KeyLeftOutReason }>;
  readonly stale: string[];
  readonly errors: string[];
  /** Devices whose value is not a number (or not a reading). */
  readonly nonNumeric: string[];
  /** Every device not counted, sorted by owner, with the reason (and the number, when there is one). */
  readonly leftOut: ReadonlyArray<{ readonly owner: string; readonly reason: KeyLeftOutReason; readonly value?: number; readonly unit?: string }>;
}

/** undefined when no device holds `key`. */
export function aggregateKey(state: FleetState, key: string, now: number, options: AggregateOptions = {}): KeyAggregate | undefined {
  const entries = state.entries.filter((e) => e.key === key);
  if (entries.length === 0) return undefined;
  if (entries.some((e) => decodeReading(e.value) !== undefined)) {
    const a = aggregate({ members: state.members, entries }, now, options)[0]!;
    const rows = deviceRows({ members: state.members, entries }, key, now, options);
    const leftOut = a.leftOut.map((l) => (l.reason === 'malformed' ? { owner: l.owner, reason: 'not-a-number' as const } : { ...l, reason: l.reason }));
    const why = new Map(leftOut.map((l) => [l.owner, l.reason]));
    return {
      key,
      count: a.count,
      min: a.min,
      max: a.max,
      mean: a.mean,
      unit: a.unit,
      devices: rows.map((r) => {
        const reason = why.get(r.owner);
        return {
          owner: r.owner,
          value: r.error ?? r.value,
          state: r.state === 'fresh' || r.state === 'stale' || r.state === 'error' ? r.state : 'other',
          ...(reason !== undefined ? { reason } : {}),
        };
      }),
      stale: a.stale,
      errors: a.errors,
      nonNumeric: rows.filter((r) => r.state === 'malformed').map((r) => r.owner),
      leftOut,
    };
  }
  const status = new Map(state.members.map((m) => [m.id, m.status]));
  const devices = entries
    .map((e) => {
      const fresh = status.get(e.owner) === 'alive';
      const numeric = typeof e.value === 'number';
      return { owner: e.owner, value: e.value, state: !numeric ? ('other' as const) : fresh ? ('fresh' as const) : ('stale' as const) };
    })
    .sort((a, b) => (a.owner < b.owner ? -1 : 1));
  const stats = robustStats(devices.flatMap((d) => (d.state === 'fresh' ? [{ owner: d.owner, value: d.value as number, unit: '' }] : [])));
  const numericWhy = new Map(stats.leftOut.map((l) => [l.owner, l]));
  const leftOut: Array<KeyAggregate['leftOut'][number]> = [];
  for (const d of devices) {
    const l = numericWhy.get(d.owner);
    if (l) leftOut.push({ owner: l.owner, reason: l.reason, value: l.value });
    else if (d.state !== 'fresh') leftOut.push({ owner: d.owner, reason: d.state === 'other' ? 'not-a-number' : 'stale' });
  }
  const why = new Map(leftOut.map((l) => [l.owner, l.reason]));
  return {
    key,
    count: stats.count,
    min: stats.min,
    max: stats.max,
    mean: stats.mean,
    unit: null,
    devices: devices.map((d) => {
      const reason = why.get(d.owner);
      return reason !== undefined ? { ...d, reason } : d;
    }),
    stale: devices.filter((d) => d.state === 'stale').map((d) => d.owner),
    errors: [],
    nonNumeric: devices.filter((d) => d.state === 'other').map((d) => d.owner),
    leftOut,
  };
}
