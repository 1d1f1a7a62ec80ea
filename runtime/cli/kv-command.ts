// `murmur get`, `murmur set`, `murmur del`: the shared key/value state. Each device writes
// only its own keys; any device reads what it has learned of the others'.

import { apiRequest, check } from './api-client.js';
import { jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { apiPath, duration, EXIT, parseDuration, printable, rawValue, showValue, table, terminal, TARGET_OPTIONS_HELP, TARGET_OPTIONS, optionLines, para } from './format.js';
import { parseArgs } from './target-args.js';

export const getHelp = `usage: murmur get [KEY] [--device ID] [options]

  murmur get KEY              the value of this device's KEY
  murmur get KEY --device ID  KEY of device ID, as this node knows it
  murmur get [--device ID]    every key of this device (or of ID), as a table

${para('The value is printed as it is: strings bare, numbers and booleans as JSON, bytes as base64:<data> (on a terminal, control characters show as \\xNN). The table shows sensor readings decoded ("21.5 °C"). KEY may contain "/" (e.g. sensor/cpu/temperature). Exits 4 when the key or the device is not known.')}

options:
${optionLines([['--device ID', 'whose keys: a member id as "murmur members" shows it (default: this device)'], ...TARGET_OPTIONS])}`;

export const setHelp = `usage: murmur set KEY VALUE [--ttl DURATION] [--type TYPE] [options]

${para("Publishes this device's KEY; the fleet learns it through gossip within seconds. VALUE is read as a number when it looks like one (21.5, -3, 1e3; not 007), as a boolean when it is true or false, and as a string otherwise. --type says it outright:")}
  string   VALUE as it is ("murmur set version 1.10 --type string")
  number   a finite number, else an error
  bool     true/false, yes/no, on/off or 1/0
  json     JSON text: a string, number, boolean, object or array; an object
           or array comes back from get --json, watch --json and the API as
           that JSON value (it travels as its compact JSON text, which must
           fit the 1,024-byte value limit)

options:
${optionLines([
  ['--ttl DURATION', 'the key expires after DURATION: 30s, 5m, 2h, 1d (a bare number is seconds; at most 30 days). Default: never'],
  ['--type TYPE', 'string, number, bool or json (see above)'],
  ...TARGET_OPTIONS,
])}`;

export const delHelp = `usage: murmur del KEY [options]

${para("Deletes this device's KEY; the fleet learns of the deletion through gossip. Exits 4 when this device has no such key.")}

options:
${TARGET_OPTIONS_HELP}`;

/** This node's own member id, for commands whose default device is "this one". */
export async function ownId(socket: string): Promise<string> {
  return String(check(await apiRequest(socket, 'GET', '/v1/status'), 'status').id);
}

type Entry = { value: unknown; version: unknown };

export async function getCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('get', args, { valued: ['--device'] }, getHelp, io);
  if (p.positional.length > 1) throw new CliError(`murmur get: one KEY at a time, got ${p.positional.join(' ')}\n\n${getHelp}`);
  const key = p.positional[0];
  const socket = p.target().socket;
  const given = p.options.get('--device');
  const device = typeof given === 'string' ? given : await ownId(socket);
  const r = await apiRequest(socket, 'GET', `/v1/kv/${apiPath(device)}`);
  if (r.status === 404 && r.body.error === 'unknown-member') throw new CliError(`murmur get: no device "${printable(device)}" is known here (see "murmur members")`, EXIT.notFound);
  const keys = check(r, 'get') as Record<string, Entry>;
  if (key === undefined) {
    if (p.json) {
      io.out(jsonText(keys));
      return 0;
    }
    const names = Object.keys(keys).sort();
    const t = terminal(io);
    const rows = names.map((k) => [k, showValue(keys[k]!.value), String(keys[k]!.version)]);
    io.out(table([{ head: 'key', elide: 'middle', min: 16 }, { head: 'value', elide: 'end', min: 12 }, { head: 'version', align: 'right' }], rows, { width: t.width, empty: `${printable(device)} has no keys` }));
    return 0;
  }
  const e = Object.hasOwn(keys, key) ? keys[key] : undefined;
  if (e === undefined) throw new CliError(`murmur get: ${printable(device)} has no key "${printable(key)}"`, EXIT.notFound);
  if (p.json) io.out(jsonText({ owner: device, key, value: e.value, version: e.version }));
  // As it is for scripts; on a terminal, without escape sequences another device may have sent.
  else io.out(terminal(io).tty ? printable(rawValue(e.value), { keepLines: true }) : rawValue(e.value));
  return 0;
}

export async function setCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('set', args, { valued: ['--ttl', '--type'] }, setHelp, io);
  if (p.positional.length !== 2) {
    const why = p.positional.length < 2 ? 'expected KEY and VALUE' : `one KEY and one VALUE, got ${p.positional.length} arguments (quote a VALUE with spaces)`;
    throw new CliError(`murmur set: ${why}\n\n${setHelp}`);
  }
  const [key, text] = p.positional as [string, string];
  const type = p.options.get('--type');
  const value = parseValue(text, typeof type === 'string' ? type : undefined);
  let ttlMs: number | undefined;
  const ttl = p.options.get('--ttl');
  if (typeof ttl === 'string') {
    ttlMs = parseDuration(ttl);
    if (ttlMs === undefined || ttlMs <= 0) throw new CliError(`murmur set: --ttl: expected a duration such as 30s, 5m, 2h or 1d, got "${ttl}"`);
  }
  const body = check(await apiRequest(p.target().socket, 'PUT', `/v1/kv/${apiPath(key)}`, { value, ...(ttlMs !== undefined ? { ttlMs } : {}) }), `set ${key}`);
  if (p.json) io.out(jsonText(body));
  else io.out(`${key} = ${JSON.stringify(value)} (version ${String(body.version)}${ttlMs !== undefined ? `, expires in ${duration(ttlMs)}` : ''})`);
  return 0;
}

export async function delCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('del', args, {}, delHelp, io);
  if (p.positional.length !== 1) throw new CliError(`murmur del: expected one KEY\n\n${delHelp}`);
  const key = p.positional[0]!;
  const r = await apiRequest(p.target().socket, 'DELETE', `/v1/kv/${apiPath(key)}`);
  if (r.status === 404 && r.body.error === 'unknown-key') throw new CliError(`murmur del: this device has no key "${key}"`, EXIT.notFound);
  const body = check(r, `del ${key}`);
  if (p.json) io.out(jsonText(body));
  else io.out(`deleted ${key}`);
  return 0;
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** VALUE as the API takes it: see setHelp for the rules. */
export function parseValue(text: string, type: string | undefined): string | number | boolean | object {
  switch (type) {
    case undefined: {
      if (text === 'true') return true;
      if (text === 'false') return false;
      if (NUMBER.test(text) && Number.isFinite(Number(text))) return Number(text);
      return text;
    }
    case 'string':
      return text;
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new CliError(`murmur set: --type number: "${text}" is not a finite number`);
      return n;
    }
    case 'bool':
    case 'boolean': {
      const t = text.toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(t)) return true;
      if (['false', 'no', 'off', '0'].includes(t)) return false;
      throw new CliError(`murmur set: --type bool: expected true or false (yes/no, on/off, 1/0), got "${text}"`);
    }
    case 'json': {
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch (e) {
        throw new CliError(`murmur set: --type json: ${(e as Error).message}`);
      }
      if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
      if (v === null) throw new CliError('murmur set: --type json: null is not a value; use "murmur del" to remove a key');
      return v as object;
    }
    default:
      throw new CliError(`murmur set: --type: expected string, number, bool or json, got "${type}"`);
  }
}
