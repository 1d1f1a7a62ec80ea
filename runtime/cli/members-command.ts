// `murmur members`: the other devices this node knows, with their status; --explain says why
// a suspect is suspected and when it will be declared dead, why an unreliable device is
// unreliable and when it is alive again, and which devices reach this node only one way on
// the multicast group.

import { apiRequest, check } from './api-client.js';
import { jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { duration, palette, printable, statusPaint, table, terminal, wrap, TARGET_OPTIONS_HELP, type Palette, TARGET_OPTIONS, optionLines, para } from './format.js';
import { parseArgs } from './target-args.js';

export const membersHelp = `usage: murmur members [--explain] [options]

${para('The other devices this node knows (itself excluded: see "murmur status"), one row each: id, status (alive, unreliable, suspect, dead, left), generation (changes when the device restarts), address, and how long ago this node last heard from it directly ("never": only through others).')}

options:
${optionLines([['--explain', 'for each suspect: who accused it, how many confirmed, and how long until it is declared dead unless it answers; for each unreliable device: the silence it came back from and what it takes to be alive again; devices the multicast group reaches only one way; devices that ask for more time between heartbeats (joining, or stalled lately) and the silence this node allows them'], ...TARGET_OPTIONS])}

${para('A device is unreliable when it went silent long enough to be suspected or declared dead, then turned out to be alive (a weak Wi-Fi link, a flapping cable). It is given longer silences before it is suspected again, so it does not cycle alive, suspect, dead, alive. It is alive again once it has been back 1.5 times the longest silence it came back from (at most 30 s on a LAN) and its heartbeats arrive about as reliably as the rest of the fleet. If it really dies, it is declared dead after that longer silence, a probe and a suspicion.')}`;

interface Suspicion {
  accusers?: unknown;
  confirmations?: unknown;
  msLeft?: unknown;
  sinceMs?: unknown;
}

interface Reliability {
  outageMs?: unknown;
  backForMs?: unknown;
  holdMsLeft?: unknown;
  delivery?: unknown;
  fleetDelivery?: unknown;
}

interface GroupPath {
  groupSilentMs?: unknown;
  notHeardOnGroup?: unknown;
  doesNotHearUs?: unknown;
}

interface SilenceAllowed {
  intervalMs?: unknown;
  fleetIntervalMs?: unknown;
  silenceMs?: unknown;
}

interface Member {
  id: string;
  gen?: unknown;
  status?: unknown;
  addr?: unknown;
  incarnation?: unknown;
  lastHeardMsAgo?: unknown;
  suspicion?: Suspicion | null;
  reliability?: Reliability | null;
  groupPath?: GroupPath | null;
  silenceAllowed?: SilenceAllowed | null;
}

export async function membersCommand(args: readonly string[], io: CliIo): Promise<number> {
  const p = parseArgs('members', args, { flags: ['--explain'] }, membersHelp, io);
  if (p.positional.length > 0) throw new CliError(`murmur members: unexpected argument "${p.positional[0]!}"\n\n${membersHelp}`);
  const body = check(await apiRequest(p.target().socket, 'GET', '/v1/members'), 'members') as unknown;
  if (p.json) {
    io.out(jsonText(body));
    return 0;
  }
  const members = (Array.isArray(body) ? (body as Member[]) : []).slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  io.out(renderMembers(members, p.options.has('--explain'), terminal(io)));
  return 0;
}

export function renderMembers(members: readonly Member[], explain: boolean, t: { color: boolean; width: number }): string {
  if (members.length === 0) return 'no other devices known: this node has not heard from any other device yet';
  const p = palette(t.color);
  const rows = members.map((m) => {
    const status = String(m.status ?? '?');
    return [
      m.id,
      { text: status, paint: statusPaint(p, status) },
      String(m.gen ?? '-'),
      String(m.addr ?? '-'),
      typeof m.lastHeardMsAgo === 'number' ? duration(m.lastHeardMsAgo) : 'never',
    ];
  });
  const out = [
    table(
      [
        { head: 'id', elide: 'middle', min: 10 },
        { head: 'status' },
        { head: 'gen', align: 'right' },
        { head: 'address', elide: 'middle', min: 15 },
        { head: 'last heard', align: 'right' },
      ],
      rows,
      { width: t.width },
    ),
  ];
  if (explain) {
    const suspects = members.filter((m) => m.status === 'suspect');
    const unreliable = members.filter((m) => m.status === 'unreliable');
    const oneWay = members.filter((m) => m.groupPath?.notHeardOnGroup === true || m.groupPath?.doesNotHearUs === true);
    const slack = members.filter((m) => m.status !== 'suspect' && asksForSlack(m));
    out.push('');
    if (suspects.length === 0) out.push('no suspects');
    // Continuation lines indented, so each explanation reads as one block.
    for (const m of suspects) out.push(wrap(explainSuspect(m, p), t.width, '  ').slice(2));
    for (const m of unreliable) out.push(wrap(explainUnreliable(m, p), t.width, '  ').slice(2));
    for (const m of oneWay) out.push(wrap(explainOneWay(m, p), t.width, '  ').slice(2));
    for (const m of slack) out.push(wrap(explainSlack(m, p), t.width, '  ').slice(2));
  }
  return out.join('\n');
}

function explainSuspect(m: Member, p: Palette): string {
  const s = m.suspicion;
  const who = p.bold(printable(m.id));
  if (!s) return `${who} is ${p.yellow('suspect')}: this node has no details of the suspicion`;
  const accusers = Array.isArray(s.accusers) ? (s.accusers as unknown[]).map((a) => printable(String(a))) : [];
  const since = typeof s.sinceMs === 'number' ? ` for ${duration(s.sinceMs)}` : '';
  const by = accusers.length === 0 ? 'no accuser recorded' : `accused by ${accusers.join(', ')}`;
  const n = typeof s.confirmations === 'number' ? s.confirmations : 0;
  const conf = `${n} confirmation${n === 1 ? '' : 's'}`;
  const left = typeof s.msLeft === 'number' ? (s.msLeft > 0 ? `declared dead in ${duration(s.msLeft)} unless it answers` : 'about to be declared dead') : '';
  return `${who} is ${p.yellow('suspect')}${since}: ${by}; ${conf}${left === '' ? '' : `; ${left}`}`;
}

function explainUnreliable(m: Member, p: Palette): string {
  const r = m.reliability;
  const who = p.bold(printable(m.id));
  const head = `${who} is ${p.yellow('unreliable')}`;
  if (!r) return `${head}: this node has no details`;
  const outage = typeof r.outageMs === 'number' ? `it came back after ${duration(r.outageMs)} of silence` : 'it came back after a silence';
  const back = typeof r.backForMs === 'number' ? ` ${duration(r.backForMs)} ago` : '';
  const pct = (x: unknown): string => (typeof x === 'number' ? `${Math.round(x * 100)}%` : '?');
  const delivery = `${pct(r.delivery)} of its heartbeats arrive here (fleet: ${pct(r.fleetDelivery)})`;
  const hold = typeof r.holdMsLeft === 'number' && r.holdMsLeft > 0 ? `alive again in ${duration(r.holdMsLeft)} at the earliest, once its heartbeats arrive about as well as the fleet's` : 'alive again once its heartbeats arrive about as well as the fleet does';
  return `${head}: ${outage}${back}; ${delivery}; ${hold}; given a longer silence than others before it is suspected again`;
}

function asksForSlack(m: Member): boolean {
  const a = m.silenceAllowed;
  return typeof a?.intervalMs === 'number' && typeof a.fleetIntervalMs === 'number' && a.intervalMs > a.fleetIntervalMs;
}

function explainSlack(m: Member, p: Palette): string {
  const a = m.silenceAllowed!;
  const who = p.bold(printable(m.id));
  const wait = typeof a.silenceMs === 'number' ? `: this node waits for ${duration(a.silenceMs)} of silence before it checks on it` : '';
  return `${who} asks for ${duration(a.intervalMs as number)} between heartbeats, more than the fleet's ${duration(a.fleetIntervalMs as number)} (it is joining, stalled lately, or sees a larger fleet)${wait}; its death is noticed that much later`;
}

function explainOneWay(m: Member, p: Palette): string {
  const g = m.groupPath!;
  const who = p.bold(printable(m.id));
  const silent = typeof g.groupSilentMs === 'number' ? ` for ${duration(g.groupSilentMs)}` : '';
  const parts: string[] = [];
  if (g.notHeardOnGroup === true) parts.push(`its multicast has not reached this node${silent}, so this node heartbeats to it directly and asks for the same back`);
  if (g.doesNotHearUs === true) parts.push('it does not hear the multicast of this node and asked for direct heartbeats');
  return `${who} is reached one way on the multicast group: ${parts.join('; ')}; unicast carries the rest, so its status is judged as for anyone else`;
}
