// `murmur status`: this device's node at a glance, on one screen of an 80-column terminal.

import { apiRequest, check } from './api-client.js';
import { jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { counts, duration, fields, palette, statusPaint, terminal, TARGET_OPTIONS_HELP, TARGET_OPTIONS, optionLines, para } from './format.js';
import { parseArgs } from './target-args.js';

export const statusHelp = `usage: murmur status [options]

${para("This device's node: its id and generation, fleet, address, uptime, local health and measured loss, the other members by status, what the status LED shows and why, datagrams it rejected, and its memory. --json prints the API's whole answer (GET /v1/status), counters included.")}

options:
${TARGET_OPTIONS_HELP}`;

type Row = Record<string, unknown>;

export async function statusCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('status', args, {}, statusHelp, io);
  if (p.positional.length > 0) throw new CliError(`murmur status: unexpected argument "${p.positional[0]!}"\n\n${statusHelp}`);
  const body = check(await apiRequest(p.target().socket, 'GET', '/v1/status'), 'status');
  if (p.json) {
    io.out(jsonText(body));
    return 0;
  }
  io.out(renderStatus(body, terminal(io)));
  return 0;
}

const obj = (x: unknown): Row => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Row) : {});
const str = (x: unknown, none = '-'): string => (x === undefined || x === null || x === '' ? none : String(x));

/** "pi-3.local:7478 (192.168.1.3:7478): heard 2s ago", or why it is not answering. */
function seedLine(sd: Row, p: ReturnType<typeof palette>): string {
  const seed = str(sd.seed);
  const addrs = Array.isArray(sd.addrs) ? (sd.addrs as unknown[]).map(String) : [];
  const named = addrs.length === 1 && addrs[0] === seed ? seed : `${seed} (${addrs.length > 0 ? addrs.join(', ') : 'no address'})`;
  if (typeof sd.error === 'string' && addrs.length === 0) return `${named}: ${p.red(`cannot resolve: ${sd.error}`)}`;
  if (typeof sd.lastHeardMsAgo === 'number') return `${named}: heard ${duration(sd.lastHeardMsAgo)} ago`;
  return `${named}: ${p.yellow('never heard')}`;
}

export function renderStatus(s: Row, t: { color: boolean; width: number }): string {
  const p = palette(t.color);
  const led = obj(s.led);
  const ledStatus = str(led.status, 'unknown');
  const lines: Array<[string, string]> = [];
  lines.push(['device', `${p.bold(str(s.id))}  gen ${str(s.gen)}, incarnation ${str(s.incarnation)}`]);
  if ('fleet' in s) lines.push(['fleet', str(s.fleet, '(not set)')]);
  lines.push(['address', `${str(s.addr)}  ${str(s.profile)} profile, multicast ${s.multicast === true ? 'on' : 'off'}`]);
  // Whole seconds from the API: a node under half a second old reads 0s, not a false 0ms.
  if (typeof s.uptimeS === 'number') lines.push(['uptime', s.uptimeS < 1 ? '0s' : duration(s.uptimeS * 1000)]);
  // The node reports no loss figure while it has no peer to measure it against.
  const loss = typeof s.measuredLoss === 'number' ? `${Math.round(s.measuredLoss * 1000) / 10}%` : s.measuredLoss === null ? '- (no peers)' : '-';
  const health = typeof s.health === 'number' ? s.health : undefined;
  const healthText = health === undefined ? '-' : health === 0 ? p.green('0') : health >= 3 ? p.red(String(health)) : p.yellow(String(health));
  lines.push(['health', `score ${healthText} (0 is best), measured loss ${loss}`]);
  // Why its peers wait longer for this device: it is joining, or stalled lately (CPU, SD card), and said so.
  if (typeof s.stallSlackMs === 'number' && s.stallSlackMs > 0) {
    const why = s.joining === true ? 'joining' : 'stalled lately';
    lines.push(['', p.yellow(`${why}: asks peers to allow ${duration(s.stallSlackMs)} between heartbeats`)]);
  }
  const members = counts(obj(s.members), p);
  lines.push(['members', members === '' ? 'no other devices known' : members]);
  const why = Array.isArray(led.why) && led.why.length > 0 ? `: ${(led.why as unknown[]).map(String).join('; ')}` : '';
  lines.push(['led', `${statusPaint(p, ledStatus)(ledStatus)}${why}`]);
  if (typeof led.looks === 'string') lines.push(['', `(${led.looks})`]);
  const problems = Array.isArray(led.problems) ? (led.problems as unknown[]) : [];
  for (const [i, pr] of problems.entries()) lines.push([i === 0 ? 'problems' : '', p.red(typeof pr === 'string' ? pr : JSON.stringify(pr))]);
  const seeds = Array.isArray(s.seeds) ? (s.seeds as unknown[]).map(obj) : [];
  for (const [i, sd] of seeds.entries()) lines.push([i === 0 ? 'seeds' : '', seedLine(sd, p)]);
  const unknown = Array.isArray(s.unknownKeySenders) ? (s.unknownKeySenders as unknown[]).map(obj) : [];
  for (const [i, u] of unknown.entries()) {
    const what = `${str(u.addr)}: ${str(u.count)} datagram${u.count === 1 ? '' : 's'} under another fleet key, last ${duration(Number(u.lastMsAgo))} ago`;
    lines.push([i === 0 ? 'unknown key' : '', p.yellow(what)]);
  }
  const rejected = Object.entries(obj(s.rejected)).filter(([, n]) => typeof n === 'number' && n > 0);
  if (rejected.length > 0) lines.push(['rejected', rejected.map(([why, n]) => `${why} ${String(n)}`).join(', ')]);
  const sec = obj(s.security);
  if ('fleetKey' in sec) lines.push(['keys', `fleet key ${str(sec.fleetKey)}, device key ${str(sec.deviceKey)}${sec.admin === true ? ', admin certificates' : ''}`]);
  const mem = obj(s.memory);
  if (typeof mem.rss === 'number') lines.push(['memory', `${String(mem.rss)} MB resident, ${str(mem.heapUsed)} MB heap used`]);
  return fields(lines, { width: t.width });
}
