// `murmur sim`: runs a simulated fleet in virtual time and prints its membership and state
// events one per line, so a person can watch the protocol work without any hardware.

import { profileByName } from '../core/profiles.js';
import { Fleet } from '../sim/fleet.js';
import type { CoreEvent } from '../core/effects.js';
import { CliError, type CliIo } from './io.js';

export const simHelp = `usage: murmur sim [--nodes N] [--loss P] [--seed S] [--seconds T]
                 [--profile lan|wifi]

Runs N simulated nodes for T virtual seconds: they join, one publishes a value,
one is killed and later restarted. Prints one line per membership event.
Defaults: 8 nodes, 10% loss, seed 1, 20 seconds, lan.`;

function num(flag: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min || n > max) {
    throw new CliError(`${flag}: expected a number from ${min} to ${max}, got ${v ?? 'nothing'}`);
  }
  return n;
}

export function describeEvent(e: CoreEvent): string | undefined {
  switch (e.type) {
    case 'member-joined':
      return `joined   ${e.member.id} gen=${e.member.gen} at ${e.addr}`;
    case 'member-restarted':
      return `restart  ${e.member.id} gen=${e.previousGen} -> gen=${e.member.gen}`;
    case 'member-status':
      return `status   ${e.member.id} ${e.previous} -> ${e.status}${e.sources.length ? ` (sources: ${e.sources.length})` : ''}`;
    case 'member-removed':
      return `removed  ${e.member.id} gen=${e.member.gen}`;
    case 'suspected-self':
      return `refuted  suspicion by ${e.by.id} (inc ${e.inc})`;
    case 'kv-changed':
      return undefined;
  }
}

export function simCommand(args: readonly string[], io: CliIo): number {
  let nodes = 8;
  let loss = 0.1;
  let seed = 1;
  let seconds = 20;
  let profile = 'lan';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    switch (a) {
      case '--nodes': nodes = num(a, v, 2, 2000); i++; break;
      case '--loss': loss = num(a, v, 0, 0.95); i++; break;
      case '--seed': seed = num(a, v, 0, 2 ** 32 - 1); i++; break;
      case '--seconds': seconds = num(a, v, 1, 3600); i++; break;
      case '--profile': profile = v ?? ''; i++; break;
      case '-h':
      case '--help': io.out(simHelp); return 0;
      default: throw new CliError(`murmur sim: unknown option ${a}\n${simHelp}`);
    }
  }
  let p;
  try {
    p = profileByName(profile);
  } catch (e) {
    throw new CliError(`--profile: ${(e as Error).message}`);
  }
  const fleet = new Fleet({ seed, nodes: Math.floor(nodes), profile: p, loss });
  const watcher = fleet.ids[0]!;
  fleet.onEvent((now, id, e) => {
    if (id !== watcher) return;
    const line = describeEvent(e);
    if (line) io.out(`${(now / 1000).toFixed(3).padStart(8)}s ${id}  ${line}`);
  });
  io.out(`murmur sim: ${fleet.describe()} (events as seen by ${watcher})`);
  fleet.start();
  const ms = seconds * 1000;
  const victim = fleet.ids[fleet.ids.length - 1]!;
  fleet.runFor(ms * 0.2);
  fleet.set(fleet.ids[1]!, 'sensor/temp', 21.5);
  fleet.runFor(ms * 0.1);
  io.out(`${(fleet.now / 1000).toFixed(3).padStart(8)}s --  kill -9 ${victim}`);
  fleet.crash(victim);
  fleet.runFor(ms * 0.4);
  io.out(`${(fleet.now / 1000).toFixed(3).padStart(8)}s --  restart ${victim}`);
  fleet.restart(victim);
  fleet.runFor(ms * 0.3);
  const n = fleet.node(watcher);
  io.out(`done: ${watcher} sees ${n.presentCount} of ${nodes - 1} peers present; ${fleet.ids[1]}'s sensor/temp = ${String(n.get(fleet.ids[1]!, 'sensor/temp', fleet.now))}`);
  return 0;
}
