// Simulation benchmark: the fleet sequence of shared/bench/SCENARIOS.md, in virtual time.
//   npm run bench:sim -- --nodes 128 --loss 0.1 --seed 1 [--workload 5 --steady 30 --profile lan]
//                        [--no-multicast] [--insecure] [--fault <kind>:<key>=<value>,...]... [--no-invariants]
//                        [--crash K]
// Every node runs the host a device runs: sealed, replay-checked, gatekept and signing. With
// --insecure, the bare protocol (what security costs is the difference).
// Prints one JSON line. Times are virtual milliseconds; wall_ms is how long the run took.
// received/opened/verified/remembered_per_node_s count each node's receive work in the steady
// window (datagrams, seal opens, signature verifications, checks passed from memory): proxies
// for CPU that do not depend on the machine. --crash K: after the single death, K more nodes
// crash at once; crash_all_ms is the time until every survivor has seen all K dead, and
// crash_received_per_node_s what each survivor received a second meanwhile.
//
// --fault adds a fault (repeatable). Its window starts `at` after the steady window starts (the
// fleet has joined by then) and lasts `for` (default: to the end of the run). Durations take
// ms, s, m, h or d (`20s`); node ids are n000, n001, ... as the fleet names them.
//   clog:node=n003[,peer=n001],for=3s       datagrams to n003 (from n001 only) held, then delivered
//   one-way:from=n001,to=n002               n001 -> n002 lost, n002 -> n001 fine
//   group-deaf:node=n003                    n003 hears no group traffic but is heard
//   group-mute:node=n003                    nobody hears n003's group traffic; it hears theirs
//   flap:node=n005[,peer=n001],up=20s,down=20s   cut for `down`, then up for `up`, repeating
//   partition:mode=halves|isolate|bridge    sides drawn from the seed; a bridge node reaches both halves
//   loss:node=n004,p=0.8[,dir=both|in|out]  that node's own loss, on top of --loss
//                                           (p=1,dir=out: it hears everyone, nobody hears it; dir=in: the reverse)
//   readdress:node=n003,at=5s               from then, n003 sends from a new address; the old one receives nothing
//   clock-step:node=n002,step=-3d           its wall clock jumps; the core runs on monotonic time and
//                                           never reads it, so only layers above the core could notice
//   stall:node=n004,at=5s,for=4s            n004 runs no timer and reads nothing, then catches up at once
// e.g. --fault flap:node=n005,up=20s,down=20s,for=60s --steady 60
//
// Every event is checked against the protocol's invariants (runtime/sim/invariants.ts); the first
// violation stops the run, and the line that replays it goes to stderr with exit status 1.
// --no-invariants turns the checks off.

import { profileByName } from '../runtime/core/profiles.js';
import { formatFault, parseFault, type FaultSpec } from '../runtime/sim/faults.js';
import { Fleet } from '../runtime/sim/fleet.js';
import { FleetFigures } from '../runtime/sim/figures.js';
import { Invariants, InvariantViolation } from '../runtime/sim/invariants.js';
import { Prng } from '../runtime/sim/prng.js';
import { numberArg, parseBenchArgs, type BenchArgs } from './bench-args.js';

interface Args extends BenchArgs {
  multicast: boolean;
  /** After the single death: this many more nodes crash at once (0: none). */
  crash?: number;
  /** Faults whose `atMs` counts from the start of the steady window. */
  faults?: readonly FaultSpec[];
  invariants?: boolean;
  insecure: boolean;
}

export function parse(argv: readonly string[]): Args {
  let multicast = true;
  let invariants = true;
  let insecure = false;
  let crash = 0;
  const faults: FaultSpec[] = [];
  const a = parseBenchArgs(argv, 'see scripts/bench-sim.ts for usage', (flag, value) => {
    switch (flag) {
      case '--no-multicast':
        multicast = false;
        return true;
      case '--insecure':
        insecure = true;
        return true;
      case '--crash':
        crash = numberArg(flag, value());
        return true;
      case '--no-invariants':
        invariants = false;
        return true;
      case '--fault': {
        const text = value();
        if (text === undefined) throw new Error('--fault: expected <kind>:<key>=<value>,... (see scripts/bench-sim.ts)');
        faults.push(parseFault(text));
        return true;
      }
      default:
        return false;
    }
  });
  if (!Number.isInteger(crash) || crash < 0 || crash > a.nodes - 3) throw new Error(`--crash: expected an integer from 0 to ${a.nodes - 3}, got ${crash}`);
  return { ...a, multicast, faults, invariants, insecure, crash };
}

/** The command line that runs `a` again. */
export function commandLine(a: Args): string {
  const flags = [`--nodes ${a.nodes}`, `--loss ${a.loss}`, `--seed ${a.seed}`, `--workload ${a.workload}`, `--steady ${a.steady}`, `--profile ${a.profile}`, `--deadline ${a.deadline}`];
  if (!a.multicast) flags.push('--no-multicast');
  if (a.insecure) flags.push('--insecure');
  if (a.crash) flags.push(`--crash ${a.crash}`);
  for (const f of a.faults ?? []) flags.push(`--fault ${formatFault(f)}`);
  return `npm run bench:sim -- ${flags.join(' ')}`;
}

/** MURMUR_TRACE=1 prints each phase's virtual and wall time to stderr. */
function trace(phase: string, wallStart: number, now: number): void {
  if (process.env['MURMUR_TRACE']) console.error(`${phase}: virtual ${now} ms, wall ${Math.round(performance.now() - wallStart)} ms`);
}

/** Receive work summed over the running nodes: deterministic proxies for CPU (runtime/host/node-host.ts). */
function receiveWork(fleet: Fleet): { datagrams: number; opened: number; checks: number; remembered: number } {
  const w = { datagrams: 0, opened: 0, checks: 0, remembered: 0 };
  for (const id of fleet.runningIds()) {
    const h = fleet.host(id);
    w.datagrams += h.work.datagrams;
    w.opened += h.work.opened;
    w.checks += h.signatureChecks.checks;
    w.remembered += h.signatureChecks.remembered;
  }
  return w;
}

export function runSimBenchmark(a: Args): Record<string, unknown> {
  const wallStart = performance.now();
  const profile = profileByName(a.profile);
  const fleet = new Fleet({ seed: a.seed, nodes: a.nodes, profile, loss: a.loss, multicast: a.multicast, seeds: a.multicast ? 'none' : 'first', insecure: a.insecure });
  const figures = new FleetFigures(a.nodes);
  fleet.onEvent((now, id, e) => figures.observe(now, id, e));
  const invariants = a.invariants === false ? undefined : new Invariants(fleet, { replay: () => `${commandLine(a)}  (${fleet.describe()})` });
  const deadlineMs = a.deadline * 1000;

  // 1. Join: all nodes at once.
  fleet.start();
  fleet.runUntil(() => figures.joinConvergedAt >= 0, { maxMs: deadlineMs, what: 'join convergence' });
  const join = figures.joinConvergedAt;
  trace('join', wallStart, fleet.now);

  // 2. Steady window with the sensor workload: 64 bytes per node every W s, random phase.
  const rng = new Prng(a.seed).fork('workload');
  const steadyMs = a.steady * 1000;
  const steadyStart = fleet.now;
  fleet.network.resetCounters();
  const w0 = receiveWork(fleet);
  for (const f of a.faults ?? []) fleet.fault(f);
  if (a.workload > 0) {
    const period = a.workload * 1000;
    const next = fleet.ids.map(() => steadyStart + rng.int(period));
    const seq = fleet.ids.map(() => 0);
    let t = steadyStart;
    while (t < steadyStart + steadyMs) {
      const due = Math.min(...next, steadyStart + steadyMs);
      fleet.runFor(due - t);
      t = due;
      fleet.ids.forEach((id, i) => {
        if (next[i]! <= t && t < steadyStart + steadyMs) {
          const s = seq[i]!++;
          fleet.set(id, 'sensor', `s${String(s).padStart(6, '0')}-${String(i).padStart(57, '0')}`.slice(0, 64));
          next[i]! += period;
        }
      });
    }
  } else {
    fleet.runFor(steadyMs);
  }
  const secs = steadyMs / 1000;
  const w1 = receiveWork(fleet);
  const bytesPerNodeS = fleet.network.bytesSent / secs / a.nodes;
  const packetsPerNodeS = fleet.network.packetsSent / secs / a.nodes;

  trace('steady', wallStart, fleet.now);
  // 3. One update on node 0.
  const value = 'v1-sensor-23.5C';
  figures.updated(fleet.ids[0]!, 'sensor', value, fleet.now);
  fleet.set(fleet.ids[0]!, 'sensor', value);
  fleet.runUntil(() => figures.updateSeenBy >= a.nodes - 1, { maxMs: deadlineMs, what: 'update propagation' });
  const upd = figures.update();
  trace('update', wallStart, fleet.now);

  // 4. The last node dies without a goodbye.
  const victim = fleet.ids[a.nodes - 1]!;
  figures.killed(victim, fleet.now);
  invariants?.mayDie.add(victim);
  fleet.crash(victim);
  try {
    fleet.runUntil(() => figures.detectedBy >= a.nodes - 1, { maxMs: deadlineMs, what: 'failure detection' });
  } catch (e) {
    // A slow detection is reported through detect_seen below; a broken rule stops the run.
    if (e instanceof InvariantViolation) throw e;
  }
  const det = figures.detection();
  trace('detect', wallStart, fleet.now);

  // 5. Optionally, a mass crash: --crash K more nodes at once, spread over the fleet.
  let crash: Record<string, unknown> = {};
  if (a.crash) {
    const ids = Array.from({ length: a.crash }, (_, j) => fleet.ids[1 + Math.floor((j * (a.nodes - 2)) / a.crash!)]!);
    figures.crashed(ids, fleet.now);
    for (const id of ids) {
      invariants?.mayDie.add(id);
      fleet.crash(id);
    }
    // Counted over the survivors only, from the moment of the crash (no virtual time passed).
    const before = receiveWork(fleet);
    const crashedAt = fleet.now;
    try {
      fleet.runUntil(() => figures.crashSeenBy >= a.nodes - 1 - ids.length, { maxMs: deadlineMs, what: 'mass-crash detection' });
    } catch (e) {
      if (e instanceof InvariantViolation) throw e;
    }
    const c = figures.crash();
    // What the crash costs the survivors: datagrams each received a second until the last verdict.
    const survivors = fleet.runningIds().length;
    const received = (receiveWork(fleet).datagrams - before.datagrams) / ((fleet.now - crashedAt) / 1000) / survivors;
    crash = { crash_nodes: ids.length, crash_p50_ms: c.p50, crash_all_ms: c.all, crash_seen: c.seen, crash_received_per_node_s: Math.round(received) };
    trace('crash', wallStart, fleet.now);
  }
  invariants?.checkTotals();
  if (process.env['MURMUR_TRACE'] && figures.falsePositives > 0) console.error(figures.falsePositiveLog.join('\n'));

  return {
    system: 'murmur-sim',
    profile: profile.name,
    n: a.nodes,
    loss: a.loss,
    workload_s: a.workload,
    steady_s: a.steady,
    multicast: a.multicast,
    ...((a.faults?.length ?? 0) > 0 && { faults: a.faults!.map(formatFault) }),
    ...(a.insecure ? {} : { secure: true }),
    join_converge_ms: join,
    update_p50_ms: upd.p50,
    update_all_ms: upd.all,
    detect_first_ms: det.first,
    detect_p50_ms: det.p50,
    detect_all_ms: det.all,
    detect_seen: det.seen,
    false_positives: figures.falsePositives,
    flaps: Math.round(figures.flapsPerObserverHour(fleet.now) * 10) / 10,
    flaps_worst_pair: figures.worstFlapper()?.changes ?? 0,
    flaps_worst_pair_is: figures.worstFlapper()?.pair ?? null,
    suspicions: Math.round(figures.suspicionsPerObserverHour(fleet.now) * 10) / 10,
    bytes_per_node_s: Math.round(bytesPerNodeS),
    packets_per_node_s: Math.round(packetsPerNodeS * 100) / 100,
    received_per_node_s: Math.round((w1.datagrams - w0.datagrams) / secs / a.nodes),
    opened_per_node_s: Math.round((w1.opened - w0.opened) / secs / a.nodes),
    verified_per_node_s: Math.round(((w1.checks - w0.checks) / secs / a.nodes) * 100) / 100,
    remembered_per_node_s: Math.round(((w1.remembered - w0.remembered) / secs / a.nodes) * 100) / 100,
    ...crash,
    wall_ms: Math.round(performance.now() - wallStart),
    seed: a.seed,
  };
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/.*\/dist\//, '/dist/').split('/').pop()!);
if (isMain) {
  try {
    console.log(JSON.stringify(runSimBenchmark(parse(process.argv.slice(2)))));
  } catch (e) {
    console.error(`bench:sim: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
