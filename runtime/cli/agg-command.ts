// `murmur agg KEY`: one key's numeric values across the fleet (count, min, mean, max, unit),
// and the devices whose value is stale, an error, or not a number.

import { apiRequest, check } from './api-client.js';
import { jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { apiPath, EXIT, fields, num, palette, printable, showValue, statusPaint, table, terminal, TARGET_OPTIONS_HELP, TARGET_OPTIONS, optionLines, para } from './format.js';
import { parseArgs } from './target-args.js';

export const aggHelp = `usage: murmur agg KEY [--devices] [options]

${para("KEY's numeric values across the fleet, as this node knows them: how many devices have a fresh one, min, mean, max and unit. Sensor readings (sensor/<sensor>/<quantity>) count with their unit and staleness rules; a plain number an application set counts while its device is alive. Then the devices left out: stale (the device is not alive, or its reading is overdue), in error, or not a number. Exits 4 when no device has KEY.")}

options:
${optionLines([['--devices', 'also one row per device: value and state'], ...TARGET_OPTIONS])}`;

type Row = Record<string, unknown>;

export async function aggCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('agg', args, { flags: ['--devices'] }, aggHelp);
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
  const list = (x: unknown): string[] => (Array.isArray(x) ? (x as unknown[]).map((d) => printable(String(d))) : []);
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
  const stale = list(a.stale);
  const errors = list(a.errors);
  const other = list(a.nonNumeric);
  if (stale.length > 0) lines.push(['stale', p.yellow(stale.join(', '))]);
  if (errors.length > 0) lines.push(['errors', p.red(errors.join(', '))]);
  if (other.length > 0) lines.push(['not numbers', other.join(', ')]);
  const out = [fields(lines, { width: t.width })];
  if (devices) {
    const rows = all.map((d) => {
      const state = String(d.state ?? '?');
      return [String(d.owner), showValue(d.value), { text: state, paint: statusPaint(p, state) }];
    });
    out.push('', table([{ head: 'device', elide: 'middle', min: 10 }, { head: 'value', elide: 'end', min: 10 }, { head: 'state' }], rows, { width: t.width }));
  }
  return out.join('\n');
}
