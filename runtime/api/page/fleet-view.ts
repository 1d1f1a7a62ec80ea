// What the fleet page shows, in one JSON document: every device this node knows (itself
// first), with its status, LED, values and their recent history; the fleet-wide aggregate of
// each sensor quantity; and the suspicions and partition this node sees. Built from the same
// backend as the local API, so the page shows nothing the API would not.

import type { ApiBackend } from '../server.js';
import { apiValue } from '../json-value.js';
import type { Value } from '../../core/messages.js';
import { PATTERNS } from '../../../hal/leds/patterns.js';
import { decodeReading, SENSOR_PREFIX } from '../../sensing/reading.js';
import type { Point, SensorHistory } from './sensor-history.js';

/** Values shown per device: the page is a glance, `murmur get` shows the rest. */
export const MAX_VALUES_PER_DEVICE = 24;
/** Longest value text shown. */
const MAX_VALUE_TEXT = 80;

export interface PageValue {
  readonly key: string;
  /** The value as text (a reading's number, or the JSON of anything else), cut to MAX_VALUE_TEXT. */
  readonly text: string;
  readonly unit: string | null;
  readonly error: string | null;
  /** [wall-clock ms, value] pairs, oldest first. */
  readonly history: ReadonlyArray<readonly [number, number]>;
}

export interface PageDevice {
  readonly id: string;
  readonly self: boolean;
  /** Whatever status the member view carries (alive, suspect, dead, left, or a newer one). */
  readonly status: string;
  /** Why the status is what it is, when the member view says. */
  readonly explanation: string | null;
  readonly gen: number | null;
  readonly addr: string | null;
  readonly lastHeardMsAgo: number | null;
  readonly suspicion: unknown;
  /** The LED status the device last published; null when unknown. */
  readonly led: string | null;
  readonly values: readonly PageValue[];
  /** Values held beyond MAX_VALUES_PER_DEVICE, not shown. */
  readonly more: number;
}

export interface FleetView {
  readonly now: number;
  readonly self: { readonly id: string; readonly fleet: string | null; readonly led: unknown };
  readonly devices: readonly PageDevice[];
  readonly aggregates: unknown;
  readonly suspicions: ReadonlyArray<{ readonly id: string; readonly suspicion: unknown }>;
  /** This node's partition reason, when its LED status names one. */
  readonly partition: string | null;
  /** Every LED pattern as [on, ms] steps, so the page draws what the LED does. */
  readonly patterns: Readonly<Record<string, ReadonlyArray<readonly [boolean, number]>>>;
  /** Whether this request could use Identify (it carried the page token). */
  readonly canIdentify: boolean;
}

type Rec = Record<string, unknown>;

export function fleetView(b: ApiBackend, history: SensorHistory, canIdentify: boolean, now = Date.now()): FleetView {
  const status = b.status() as Rec;
  const selfId = String(status.id);
  const led = (status.led ?? null) as Rec | null;
  const members = (b.members() as Rec[]).filter((m) => m.status !== 'removed');
  const device = (m: Rec, self: boolean): PageDevice => {
    const id = String(m.id);
    const all = Object.entries(b.keysOf(id) ?? {}).sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0));
    const values = all.slice(0, MAX_VALUES_PER_DEVICE).map(([key, e]) => pageValue(id, key, e.value, history));
    return {
      id,
      self,
      status: String(m.status),
      explanation: explanationOf(m),
      gen: typeof m.gen === 'number' ? m.gen : null,
      addr: typeof m.addr === 'string' ? m.addr : null,
      lastHeardMsAgo: typeof m.lastHeardMsAgo === 'number' ? m.lastHeardMsAgo : null,
      suspicion: m.suspicion ?? null,
      led: typeof m.led === 'string' ? m.led : null,
      values,
      more: all.length - values.length,
    };
  };
  const self = device({ id: selfId, status: 'alive', gen: status.gen, addr: status.addr, lastHeardMsAgo: 0, led: led?.status ?? null }, true);
  const others = members.map((m) => device(m, false)).sort((a, c) => (a.id < c.id ? -1 : 1));
  const why = Array.isArray(led?.why) ? (led.why as unknown[]).map(String) : [];
  return {
    now,
    self: { id: selfId, fleet: typeof status.fleet === 'string' ? status.fleet : null, led },
    devices: [self, ...others],
    aggregates: b.hal?.fleet() ?? [],
    suspicions: others.filter((d) => d.suspicion !== null).map((d) => ({ id: d.id, suspicion: d.suspicion })),
    partition: why.find((w) => w.startsWith('partition')) ?? null,
    patterns: Object.fromEntries(Object.entries(PATTERNS).map(([k, p]) => [k, p.steps])),
    canIdentify,
  };
}

/** The member view's explanation of its status, under whichever name it carries one. */
function explanationOf(m: Rec): string | null {
  const r = m.reliability as Rec | null | undefined;
  if (m.status === 'unreliable' && r && typeof r.delivery === 'number' && typeof r.fleetDelivery === 'number') {
    const pct = (x: number): string => `${Math.round(x * 100)}%`;
    const back = typeof r.outageMs === 'number' ? `back after ${Math.round(r.outageMs / 1000)} s of silence; ` : '';
    return `${back}${pct(r.delivery)} of its heartbeats arrive (fleet: ${pct(r.fleetDelivery)}); alive again once it delivers like the fleet`;
  }
  for (const k of ['explanation', 'why', 'reason']) {
    const v = m[k];
    if (typeof v === 'string' && v !== '') return v;
    if (Array.isArray(v) && v.length > 0) return v.map(String).join('; ');
  }
  return null;
}

function pageValue(owner: string, key: string, value: unknown, history: SensorHistory): PageValue {
  const points: readonly Point[] = history.of(owner, key);
  const h = points.map((p) => [p.at, p.v] as const);
  const r = key.startsWith(SENSOR_PREFIX) ? decodeReading(value) : undefined;
  if (r) return { key, text: r.ok ? String(r.value) : '', unit: r.unit || null, error: r.ok ? null : r.error, history: h };
  const shown = value instanceof Uint8Array ? `<${value.length} bytes>` : apiValue(value as Value);
  const text = typeof shown === 'string' ? shown : JSON.stringify(shown) ?? '';
  return { key, text: text.length > MAX_VALUE_TEXT ? `${text.slice(0, MAX_VALUE_TEXT - 1)}…` : text, unit: null, error: null, history: h };
}
