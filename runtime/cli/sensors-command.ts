// `murmur sensors`: what this device measures, what the fleet measures, and who has gone quiet.

import { apiRequest, check } from './api-client.js';
import { jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { apiPath, table, terminal } from './format.js';
import { parseArgs } from './target-args.js';

export const sensorsHelp = `usage: murmur sensors [KEY | --fleet] [options]

  murmur sensors          this device's sensors: last reading or error, counters
  murmur sensors --fleet  every sensor key across the fleet: devices with a
                          fresh reading, min, mean, max, which devices are
                          stale or report an error, and which were left out of
                          the figures (another unit, out of range, outlier)
  murmur sensors KEY      one key (e.g. sensor/cpu/temperature), a row a device

Readings are gossiped as sensor/<sensor>/<quantity> keys (see README
"Sensors"). A reading is stale when its device is not alive or has not
republished it within twice its max interval.

options:
  --fleet           aggregates across the fleet
  --state-dir DIR   the node's state directory (default from the config)
  --config FILE     the node's config file
  --socket PATH     the API socket (default: api.socket in the state directory)
  --json            machine-readable output`;

type Row = Record<string, unknown>;

export async function sensorsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('sensors', args, { flags: ['--fleet'] }, sensorsHelp, io);
  const fleet = p.options.has('--fleet');
  const key = p.positional[0];
  if (p.positional.length > 1 || (fleet && key !== undefined)) throw new CliError(`murmur sensors: give one KEY or --fleet\n\n${sensorsHelp}`);
  const socket = p.target().socket;
  const path = key !== undefined ? `/v1/sensors/fleet/${apiPath(key)}` : fleet ? '/v1/sensors/fleet' : '/v1/sensors';
  const r = await apiRequest(socket, 'GET', path);
  const body = check(r, 'sensors') as unknown;
  if (p.json) {
    io.out(jsonText(body));
    return 0;
  }
  const width = { width: terminal(io).width };
  if (key !== undefined) io.out(table(['device', 'value', 'unit', 'age', 'state'], (body as Row[]).map(deviceRow), width));
  else if (fleet) io.out(table(['key', 'fresh', 'min', 'mean', 'max', 'unit', 'stale', 'errors', 'left out'], (body as Row[]).map(aggregateRow), width));
  else io.out(table(['sensor', 'type', 'state', 'reading', 'reads', 'failures'], ((body as Row).sensors as Row[]).map(localRow), width));
  return 0;
}

function localRow(s: Row): string[] {
  const qs = (s.quantities as Array<{ quantity: string; value: number; unit: string }>).map((q) => `${q.quantity}=${q.value}${q.unit === '' ? '' : ` ${q.unit}`}`);
  const counts = s.counts as Row;
  return [String(s.name), String(s.type), String(s.state), s.state === 'error' ? String(s.error) : qs.join(', '), String(counts.reads), String(counts.failures)];
}

function aggregateRow(a: Row): string[] {
  const n = (x: unknown): string => (typeof x === 'number' ? String(Math.round(x * 100) / 100) : '-');
  const list = (x: unknown): string => ((x as string[]).length === 0 ? '-' : (x as string[]).join(','));
  // Stale and error devices have columns of their own; the rest say why their number was not counted.
  const numeric = Array.isArray(a.leftOut) ? (a.leftOut as Row[]).filter((l) => l.reason !== 'stale' && l.reason !== 'error' && l.reason !== 'malformed') : [];
  return [String(a.key), String(a.count), n(a.min), n(a.mean), n(a.max), String(a.unit), list(a.stale), list(a.errors), list(numeric.map((l) => `${String(l.owner)}:${String(l.reason)}`))];
}

function deviceRow(d: Row): string[] {
  return [String(d.owner), d.error !== null ? `error: ${String(d.error)}` : String(d.value), String(d.unit ?? ''), `${Math.round(Number(d.age) / 1000)} s`, String(d.state)];
}
