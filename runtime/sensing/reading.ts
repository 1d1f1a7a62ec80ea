// The documented shape of a sensor reading in gossip. Any client (the CLI, a dashboard, another
// language) reads these keys, so the format is plain JSON with short field names:
//
//   key    sensor/<sensor name>/<quantity>             e.g. sensor/room/temperature
//   ok     {"v":21.44,"u":"°C","t":1795424497,"i":300}
//   error  {"e":"sensor room: no reply","u":"°C","t":1795424497,"i":300}
//
// v is the value, u its unit, t the wall-clock unix seconds of the measurement, i the longest the
// publisher goes without republishing (seconds): an unchanged value is still republished every i
// seconds, so a reader can tell a quiet sensor from a dead one. e replaces v when the read failed.
// A sensor that fails before it ever succeeded publishes under sensor/<name>/error (ERROR_QUANTITY).

import { MAX_KEY_LENGTH } from '../wire/limits.js';

export const SENSOR_PREFIX = 'sensor/';
/** The quantity a sensor's errors go under until it has published any real quantity. */
export const ERROR_QUANTITY = 'error';
/** Error text budget, in bytes of its JSON form: a few lines of diagnosis, far under the value limit. */
export const MAX_ERROR_BYTES = 256;
/** Units are short labels ("°C", "%RH", "hPa"); anything longer is a reader bug or hostile. */
export const MAX_UNIT_BYTES = 32;
/**
 * Significant digits kept in v. Five resolve 0.001 °C, 0.01 %RH and 0.1 hPa, finer than any
 * sensor on a Pi, while float noise (21.437500000000004) never reaches the wire and never counts
 * as a change. Integer digits are never rounded away (an uptime of 1234567 s stays exact).
 */
export const SIGNIFICANT_DIGITS = 5;

const NAME = /^[a-z0-9._-]+$/;

export interface OkReading {
  readonly ok: true;
  readonly value: number;
  readonly unit: string;
  /** Wall-clock unix seconds of the measurement. */
  readonly t: number;
  /** The publisher's maximum publish interval, seconds. */
  readonly i: number;
}

export interface ErrorReading {
  readonly ok: false;
  readonly error: string;
  readonly unit: string;
  readonly t: number;
  readonly i: number;
}

export type Reading = OkReading | ErrorReading;

export interface SensorKey {
  readonly sensor: string;
  readonly quantity: string;
}

/** Whether `name` may be a sensor or quantity name: lower-case letters, digits, ".", "-", "_". */
export function isSensorName(name: string): boolean {
  return NAME.test(name);
}

/** The gossip key of one quantity of one sensor. Throws naming the part that is wrong. */
export function sensorKey(sensor: string, quantity: string): string {
  if (!isSensorName(sensor)) throw new Error(`sensor name ${JSON.stringify(sensor)}: expected lower-case letters, digits, ".", "-" or "_"`);
  if (!isSensorName(quantity)) throw new Error(`sensor ${sensor}: quantity ${JSON.stringify(quantity)}: expected lower-case letters, digits, ".", "-" or "_"`);
  const key = `${SENSOR_PREFIX}${sensor}/${quantity}`;
  // Names are ASCII by the pattern above, so length is bytes.
  if (key.length > MAX_KEY_LENGTH) throw new Error(`sensor ${sensor}: key ${key} is ${key.length} bytes, at most ${MAX_KEY_LENGTH} fit the wire format`);
  return key;
}

/** The sensor and quantity a key names, or undefined when it is not a sensor key. */
export function parseSensorKey(key: string): SensorKey | undefined {
  if (key.length > MAX_KEY_LENGTH || !key.startsWith(SENSOR_PREFIX)) return undefined;
  const parts = key.slice(SENSOR_PREFIX.length).split('/');
  if (parts.length !== 2) return undefined;
  const [sensor, quantity] = parts as [string, string];
  return isSensorName(sensor) && isSensorName(quantity) ? { sensor, quantity } : undefined;
}

/** `v` as published: SIGNIFICANT_DIGITS significant digits, integer part intact. */
export function roundValue(v: number): number {
  if (v === 0) return 0;
  if (!Number.isFinite(v)) return v;
  const intDigits = Math.floor(Math.log10(Math.abs(v))) + 1;
  const r = intDigits >= SIGNIFICANT_DIGITS ? Math.round(v) : Number(v.toPrecision(SIGNIFICANT_DIGITS));
  return r === 0 ? 0 : r; // no "-0" on the wire
}

/**
 * The value string for a reading. Rounds v, truncates error text to MAX_ERROR_BYTES and strips
 * control characters (they would land in someone's terminal). Throws on what the format cannot
 * carry (a non-finite v, an over-long unit, a bad t or i): the sampler never produces those.
 */
export function encodeReading(r: Reading): string {
  if (!Number.isInteger(r.t) || r.t < 0) throw new RangeError(`reading t: expected whole unix seconds, got ${r.t}`);
  if (!Number.isFinite(r.i) || r.i <= 0) throw new RangeError(`reading i: expected a positive number of seconds, got ${r.i}`);
  const unit = clean(r.unit);
  if (Buffer.byteLength(unit) > MAX_UNIT_BYTES) throw new RangeError(`reading u: ${JSON.stringify(unit)} is longer than ${MAX_UNIT_BYTES} bytes`);
  if (r.ok) {
    if (!Number.isFinite(r.value)) throw new RangeError(`reading v: ${r.value} is not a finite number`);
    return JSON.stringify({ v: roundValue(r.value), u: unit, t: r.t, i: r.i });
  }
  return JSON.stringify({ e: truncateJson(clean(r.error), MAX_ERROR_BYTES), u: unit, t: r.t, i: r.i });
}

/**
 * A reading from a value another device published, or undefined for anything that is not a
 * well-formed reading. Never throws: the input is whatever a peer chose to send.
 */
export function decodeReading(value: unknown): Reading | undefined {
  // The whole value fits the wire's 1024 bytes; a longer string did not come from the wire.
  if (typeof value !== 'string' || value.length > 4 * 1024) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  // Own properties only: a "__proto__" or "constructor" key in the JSON must not stand in for a field.
  const rec = o as Record<string, unknown>;
  const own = (k: string): unknown => (Object.hasOwn(rec, k) ? rec[k] : undefined);
  const v = own('v');
  const e = own('e');
  const u = own('u');
  const t = own('t');
  const i = own('i');
  if (typeof u !== 'string' || Buffer.byteLength(u) > MAX_UNIT_BYTES) return undefined;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) return undefined;
  if (typeof i !== 'number' || !Number.isFinite(i) || i <= 0) return undefined;
  const unit = clean(u);
  if (typeof v === 'number' && e === undefined) {
    // JSON cannot spell NaN or Infinity, but 1e999 parses to Infinity.
    return Number.isFinite(v) ? { ok: true, value: v, unit, t, i } : undefined;
  }
  if (typeof e === 'string' && v === undefined) {
    return { ok: false, error: truncateJson(clean(e), MAX_ERROR_BYTES), unit, t, i };
  }
  return undefined;
}

// C0 and C1 controls, including ESC: an error text is shown in terminals and logs.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function clean(s: string): string {
  return s.replace(CONTROL, ' ');
}

/** `s` cut at a code point so its JSON string form (quotes excluded) is at most `max` bytes. */
function truncateJson(s: string, max: number): string {
  if (Buffer.byteLength(JSON.stringify(s)) - 2 <= max) return s;
  const ellipsis = '…';
  const budget = max - Buffer.byteLength(ellipsis);
  let used = 0;
  let out = '';
  for (const ch of s) {
    const n = Buffer.byteLength(JSON.stringify(ch)) - 2;
    if (used + n > budget) break;
    used += n;
    out += ch;
  }
  return out + ellipsis;
}
