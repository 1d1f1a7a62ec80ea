// Fleet-wide views of the sensor readings, computed by any device from the gossip state it
// holds (its own entries included): no device collects, every device can answer.
//
// Each owner's reading of a key lands in exactly one bucket:
//   fresh     an ok reading, owner alive, republished recently enough
//   errors    an error reading, owner alive and fresh
//   stale     owner not alive (suspect, dead, left, unknown), or nothing heard for
//             longer than 2 × i + slack (the publisher republishes at least every i seconds,
//             so two missed republishes and then some mean it is gone or cut off)
//   malformed a value that does not decode as a reading
// Fresh readings are counted in min/max/mean unless robust.ts leaves them out: out of range,
// in a unit other than the one most devices use, or an outlier. Mixed units are listed rather
// than averaged into nonsense; grouping by unit would turn one key into several rows for every
// consumer, to serve what is a configuration mistake. `leftOut` names every device not counted
// and why, so count + leftOut is every device holding the key.

import { decodeReading, parseSensorKey, type Reading } from './reading.js';
import { majorityUnit, robustStats, type LeftOutReason } from './robust.js';

export type MemberStatus = 'alive' | 'unreliable' | 'suspect' | 'dead' | 'left';

export interface FleetState {
  readonly members: ReadonlyArray<{ readonly id: string; readonly status: MemberStatus }>;
  /** Every KV entry held; `at` is the local monotonic ms this replica learned it. */
  readonly entries: ReadonlyArray<{ readonly owner: string; readonly key: string; readonly value: unknown; readonly at: number }>;
}

/** The longest republish interval believed from a peer: a day. */
export const MAX_TRUSTED_INTERVAL_S = 86_400;

export interface AggregateOptions {
  /** Added to 2 × i before a reading counts as stale: gossip delay and timer lateness. Default 10 s. */
  readonly staleSlackMs?: number;
  /** This device's id: its unit breaks a tie between units. */
  readonly self?: string | undefined;
}

export type AggregateLeftOutReason = 'stale' | 'error' | 'malformed' | LeftOutReason;

export interface AggregateLeftOut {
  readonly owner: string;
  readonly reason: AggregateLeftOutReason;
  /** The value and unit left out, for the reasons that concern a number (unit, out-of-range, outlier). */
  readonly value?: number;
  readonly unit?: string;
}

export interface Aggregate {
  readonly key: string;
  /** The majority unit among plausible fresh ok readings (or among all readings when none is). */
  readonly unit: string;
  /** Over the fresh ok readings counted; min, max and mean are null when count is 0, finite otherwise. */
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly stale: string[];
  readonly errors: string[];
  readonly malformed: string[];
  /** Every owner holding the key and not counted, sorted by owner, with the reason. */
  readonly leftOut: AggregateLeftOut[];
  /** Owners holding the key at all: count + leftOut. */
  readonly devices: number;
}

export type RowState = 'fresh' | 'stale' | 'error' | 'malformed';

export interface DeviceRow {
  readonly owner: string;
  readonly member: MemberStatus | 'unknown';
  readonly value: number | null;
  readonly error: string | null;
  readonly unit: string | null;
  /** Wall-clock unix seconds of the measurement, as the publisher stamped it. */
  readonly t: number | null;
  /** Ms since this device learned the reading (local clock; publishers' clocks may disagree). */
  readonly age: number;
  readonly state: RowState;
}

export const DEFAULT_STALE_SLACK_MS = 10_000;

interface Classified {
  readonly owner: string;
  readonly member: MemberStatus | 'unknown';
  readonly reading: Reading | undefined;
  readonly age: number;
  readonly state: RowState;
}

/** One aggregate per sensor key anyone holds, sorted by key. */
export function aggregate(state: FleetState, now: number, options: AggregateOptions = {}): Aggregate[] {
  const byKey = classify(state, now, options);
  return [...byKey.keys()].sort().map((key) => summarize(key, byKey.get(key)!, options.self));
}

/** Each owner's reading of `key`, sorted by owner: the rows of a CLI table. */
export function deviceRows(state: FleetState, key: string, now: number, options: AggregateOptions = {}): DeviceRow[] {
  const rows = classify(state, now, options, key).get(key) ?? [];
  return rows.map((c) => ({
    owner: c.owner,
    member: c.member,
    value: c.reading?.ok ? c.reading.value : null,
    error: c.reading && !c.reading.ok ? c.reading.error : null,
    unit: c.reading ? c.reading.unit : null,
    t: c.reading ? c.reading.t : null,
    age: c.age,
    state: c.state,
  }));
}

function classify(state: FleetState, now: number, options: AggregateOptions, only?: string): Map<string, Classified[]> {
  const slack = options.staleSlackMs ?? DEFAULT_STALE_SLACK_MS;
  const status = new Map(state.members.map((m) => [m.id, m.status]));
  // Latest entry per key and owner: a caller passing two copies must not count a device twice.
  const latest = new Map<string, Map<string, FleetState['entries'][number]>>();
  for (const e of state.entries) {
    if (only !== undefined && e.key !== only) continue;
    // null is a tombstone: the owner deleted the key.
    if (e.value === null || e.value === undefined || !parseSensorKey(e.key)) continue;
    let owners = latest.get(e.key);
    if (!owners) latest.set(e.key, (owners = new Map()));
    const prev = owners.get(e.owner);
    if (!prev || e.at > prev.at) owners.set(e.owner, e);
  }
  const out = new Map<string, Classified[]>();
  for (const [key, owners] of latest) {
    const rows: Classified[] = [];
    for (const [owner, e] of owners) {
      const member = status.get(owner) ?? 'unknown';
      const reading = decodeReading(e.value);
      const age = now - e.at;
      let s: RowState;
      if (!reading) s = 'malformed';
      // `i` is the publisher's word; capped, so a peer announcing i = 1e308 cannot stay fresh forever.
      // An unreliable member is alive and heard; only the age says whether its reading is stale.
      else if ((member !== 'alive' && member !== 'unreliable') || age > 2 * Math.min(reading.i, MAX_TRUSTED_INTERVAL_S) * 1000 + slack) s = 'stale';
      else s = reading.ok ? 'fresh' : 'error';
      rows.push({ owner, member, reading, age, state: s });
    }
    rows.sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0));
    out.set(key, rows);
  }
  return out;
}

function summarize(key: string, rows: readonly Classified[], self: string | undefined): Aggregate {
  const samples = rows.flatMap((r) => (r.state === 'fresh' && r.reading?.ok ? [{ owner: r.owner, value: r.reading.value, unit: r.reading.unit }] : []));
  const stats = robustStats(samples, self);
  const unit = stats.unit ?? majorityUnit(rows.flatMap((r) => (r.reading ? [{ owner: r.owner, unit: r.reading.unit }] : [])), self) ?? '';
  const owners = (s: RowState): string[] => rows.filter((r) => r.state === s).map((r) => r.owner);
  const numeric = new Map(stats.leftOut.map((l) => [l.owner, l]));
  const leftOut: AggregateLeftOut[] = [];
  for (const r of rows) {
    const l = numeric.get(r.owner);
    if (l) leftOut.push(l);
    else if (r.state !== 'fresh') leftOut.push({ owner: r.owner, reason: r.state });
  }
  return {
    key,
    unit,
    count: stats.count,
    min: stats.min,
    max: stats.max,
    mean: stats.mean,
    stale: owners('stale'),
    errors: owners('error'),
    malformed: owners('malformed'),
    leftOut,
    devices: rows.length,
  };
}
