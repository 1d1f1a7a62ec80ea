// `murmur members`: the other devices this node knows, with their status; --explain says why
// a suspect is suspected and when it will be declared dead.

import { apiRequest, check } from './api-client.js';
import { jsonText } from '../log/escape.js';
import { CliError, type CliIo } from './io.js';
import { duration, palette, printable, statusPaint, table, terminal, wrap, TARGET_OPTIONS_HELP, type Palette, TARGET_OPTIONS, optionLines, para } from './format.js';
import { parseArgs } from './target-args.js';

export const membersHelp = `usage: murmur members [--explain] [options]

${para('The other devices this node knows (itself excluded: see "murmur status"), one row each: id, status (alive, suspect, dead, left), generation (changes when the device restarts), address, and how long ago this node last heard from it directly ("never": only through others).')}

options:
${optionLines([['--explain', 'for each suspect: who accused it, how many confirmed, and how long until it is declared dead unless it answers'], ...TARGET_OPTIONS])}`;

interface Suspicion {
  accusers?: unknown;
  confirmations?: unknown;
  msLeft?: unknown;
  sinceMs?: unknown;
}

interface Member {
  id: string;
  gen?: unknown;
  status?: unknown;
  addr?: unknown;
  incarnation?: unknown;
  lastHeardMsAgo?: unknown;
  suspicion?: Suspicion | null;
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
    out.push('');
    if (suspects.length === 0) out.push('no suspects');
    // Continuation lines indented, so each suspect's explanation reads as one block.
    for (const m of suspects) out.push(wrap(explainSuspect(m, p), t.width, '  ').slice(2));
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
