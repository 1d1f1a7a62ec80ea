// Fleet-wide views of the sensor readings, computed by any device from the gossip state it
// holds (its own entries included): no device collects, every device can answer.
//
// Each owner's reading of a key lands in exactly one bucket:
//   fresh     an ok reading, owner alive, republished recently enough; counted in min/max/mean
//   mismatched  fresh but in a unit other than the key's majority unit; listed, not counted
//   errors    an error reading, owner alive and fresh
//   stale     owner not alive (suspect, dead, left, unknown), or nothing heard for
//             longer than 2 × i + slack (the publisher republishes at least every i seconds,
//             so two missed republishes and then some mean it is gone or cut off)
//   malformed a value that does not decode as a reading
// Mixed units: the unit most fresh ok readings use wins (ties: alphabetical) and the others are
// listed rather than averaged into nonsense; grouping by unit would turn one key into several
// rows for every consumer, to serve what is a configuration mistake.

import { decodeReading, parseSensorKey, type Reading } from './reading.js';

export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

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
}

export interface Aggregate {
  readonly key: string;
  /** The majority unit among fresh ok readings (or among all readings when none is fresh). */
  readonly unit: string;
  /** Over fresh ok readings in `unit` only; min, max and mean are null when count is 0. */
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly stale: string[];
  readonly errors: string[];
  /** Owners with a fresh ok reading in another unit. */
  readonly mismatched: string[];
  readonly malformed: string[];
  /** Owners holding the key at all: count + stale + errors + mismatched + malformed. */
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
  return [...byKey.keys()].sort().map((key) => summarize(key, byKey.get(key)!));
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
      else if (member !== 'alive' || age > 2 * Math.min(reading.i, MAX_TRUSTED_INTERVAL_S) * 1000 + slack) s = 'stale';
      else s = reading.ok ? 'fresh' : 'error';
      rows.push({ owner, member, reading, age, state: s });
    }
    rows.sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0));
    out.set(key, rows);
  }
  return out;
}

function summarize(key: string, rows: readonly Classified[]): Aggregate {
  const fresh = rows.filter((r) => r.state === 'fresh');
  const unit = majorityUnit(fresh) ?? majorityUnit(rows) ?? '';
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const mismatched: string[] = [];
  for (const r of fresh) {
    if (!r.reading?.ok) continue;
    if (r.reading.unit !== unit) {
      mismatched.push(r.owner);
      continue;
    }
    const v = r.reading.value;
    count++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const owners = (s: RowState): string[] => rows.filter((r) => r.state === s).map((r) => r.owner);
  return {
    key,
    unit,
    count,
    min: count ? min : null,
    max: count ? max : null,
    mean: count ? sum / count : null,
    stale: owners('stale'),
    errors: owners('error'),
    mismatched,
    malformed: owners('malformed'),
    devices: rows.length,
  };
}

function majorityUnit(rows: readonly Classified[]): string | undefined {
  const n = new Map<string, number>();
  for (const r of rows) if (r.reading) n.set(r.reading.unit, (n.get(r.reading.unit) ?? 0) + 1);
  let best: string | undefined;
  let bestN = 0;
  for (const [u, c] of n) if (c > bestN || (c === bestN && best !== undefined && u < best)) [best, bestN] = [u, c];
  return best;
}
