// `murmur agg KEY`: one key's numeric values across the fleet (count, min, mean, max, unit),
// and the devices whose value is stale, an error, or not a number.

import { apiRequest, check } from './api-client.js';
import { jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { apiPath, EXIT, fields, num, palette, printable, showValue, statusPaint, table, terminal, TARGET_OPTIONS_HELP, TARGET_OPTIONS, optionLines, para } from './format.js';
import { parseArgs } from './target-args.js';

export const aggHelp = `usage: murmur agg KEY [--devices] [options]

${para("KEY's numeric values across the fleet, as this node knows them: how many devices have a fresh one, min, mean, max and unit. Sensor readings (sensor/<sensor>/<quantity>) count with their unit and staleness rules; a plain number an application set counts while its device is alive. Then every device left out, and why: stale (the device is not alive, or its reading is overdue), in error, not a number, in another unit than most devices use, out of range (not a number any sensor could read, e.g. below absolute zero or over 1e12), or an outlier (far from the median of at least 5 values). Exits 4 when no device has KEY.")}

options:
${optionLines([['--devices', 'also one row per device: value, state and why it was left out'], ...TARGET_OPTIONS])}`;

/** How each reason for leaving a device out reads, in the order they are listed. */
const LEFT_OUT: ReadonlyArray<[reason: string, label: string]> = [
  ['stale', 'stale'],
  ['error', 'errors'],
  ['not-a-number', 'not numbers'],
  ['unit', 'other unit'],
  ['out-of-range', 'out of range'],
  ['outlier', 'outliers'],
];

type Row = Record<string, unknown>;

export async function aggCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('agg', args, { flags: ['--devices'] }, aggHelp, io);
  if (p.positional.length !== 1) throw new CliError(`murmur agg: expected one KEY\n\n${aggHelp}`);
  const key = p.positional[0]!;
  const r = await apiRequest(p.target().socket, 'GET', `/v1/agg/${apiPath(key)}`);
  if (r.status === 404 && r.body.error === 'unknown-key') throw new CliError(`murmur agg: no device has "${printable(key)}"`, EXIT.notFound);
  const body = check(r, `agg ${key}`);
  if (p.json) {
    io.out(jsonText(body));
    return 0;
  }
  io.out(renderAgg(body, p.options.has('--devices'), terminal(io)));
  return 0;
}

export function renderAgg(a: Row, devices: boolean, t: { color: boolean; width: number }): string {
  const p = palette(t.color);
  const unit = typeof a.unit === 'string' && a.unit !== '' ? ` ${printable(a.unit)}` : '';
  const count = typeof a.count === 'number' ? a.count : 0;
  const all = Array.isArray(a.devices) ? (a.devices as Row[]) : [];
  const lines: Array<[string, string]> = [['key', printable(String(a.key))]];
  lines.push(['devices', `${count} with a fresh number${all.length > count ? ` (of ${all.length} holding the key)` : ''}`]);
  if (count > 0) {
    lines.push(['min', `${num(a.min)}${unit}`]);
    lines.push(['mean', `${num(a.mean)}${unit}`]);
    lines.push(['max', `${num(a.max)}${unit}`]);
  }
  if (unit === '') lines.push(['unit', '(none)']);
  const leftOut = Array.isArray(a.leftOut) ? (a.leftOut as Row[]) : [];
  for (const [reason, label] of LEFT_OUT) {
    const who = leftOut
      .filter((l) => l.reason === reason)
      .map((l) => printable(String(l.owner)) + (typeof l.value === 'number' ? ` (${showNumber(l.value)}${typeof l.unit === 'string' && l.unit !== '' ? ` ${printable(l.unit)}` : ''})` : ''));
    if (who.length === 0) continue;
    const paint = reason === 'stale' ? p.yellow : reason === 'error' || reason === 'out-of-range' || reason === 'outlier' ? p.red : (x: string) => x;
    lines.push([label, paint(who.join(', '))]);
  }
  const out = [fields(lines, { width: t.width })];
  if (devices) {
    // The "left out" column only when some device was: a fleet that agrees reads as before.
    const why = all.some((d) => typeof d.reason === 'string');
    const rows = all.map((d) => {
      const state = String(d.state ?? '?');
      const row = [String(d.owner), showValue(d.value), { text: state, paint: statusPaint(p, state) }];
      return why ? [...row, typeof d.reason === 'string' ? d.reason : ''] : row;
    });
    const columns = [{ head: 'device', elide: 'middle' as const, min: 10 }, { head: 'value', elide: 'end' as const, min: 10 }, { head: 'state' }];
    out.push('', table(why ? [...columns, { head: 'left out' }] : columns, rows, { width: t.width }));
  }
  return out.join('\n');
}

/** A number as short as it reads: 21.5, 1e+308. */
function showNumber(v: number): string {
  return Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toPrecision(3).replace(/\.?0+e/, 'e') : num(v);
}
