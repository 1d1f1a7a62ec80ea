// Simulation benchmark: the fleet sequence of shared/bench/SCENARIOS.md, in virtual time.
//   npm run bench:sim -- --nodes 128 --loss 0.1 --seed 1 [--workload 5 --steady 30 --profile lan] [--insecure]
// Every node runs the host a device runs: sealed, replay-checked, gatekept and signing. With
// --insecure, the bare protocol (what security costs is the difference).
// Prints one JSON line. Times are virtual milliseconds; wall_ms is how long the run took.

import { profileByName } from '../runtime/core/profiles.js';
import { Fleet } from '../runtime/sim/fleet.js';
import { FleetFigures } from '../runtime/sim/figures.js';
import { Prng } from '../runtime/sim/prng.js';
import { parseBenchArgs, type BenchArgs } from './bench-args.js';

interface Args extends BenchArgs {
  multicast: boolean;
  insecure: boolean;
}

function parse(argv: readonly string[]): Args {
  let multicast = true;
  let insecure = false;
  const a = parseBenchArgs(argv, 'see scripts/bench-sim.ts for usage', (flag) => {
    if (flag === '--no-multicast') multicast = false;
    else if (flag === '--insecure') insecure = true;
    else return false;
    return true;
  });
  return { ...a, multicast, insecure };
}

/** MURMUR_TRACE=1 prints each phase's virtual and wall time to stderr. */
function trace(phase: string, wallStart: number, now: number): void {
  if (process.env['MURMUR_TRACE']) console.error(`${phase}: virtual ${now} ms, wall ${Math.round(performance.now() - wallStart)} ms`);
}

export function runSimBenchmark(a: Args): Record<string, unknown> {
  const wallStart = performance.now();
  const profile = profileByName(a.profile);
  const fleet = new Fleet({ seed: a.seed, nodes: a.nodes, profile, loss: a.loss, multicast: a.multicast, seeds: a.multicast ? 'none' : 'first', insecure: a.insecure });
  const figures = new FleetFigures(a.nodes);
  fleet.onEvent((now, id, e) => figures.observe(now, id, e));
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
  fleet.crash(victim);
  try {
    fleet.runUntil(() => figures.detectedBy >= a.nodes - 1, { maxMs: deadlineMs, what: 'failure detection' });
  } catch {
    // Reported through detect_seen below.
  }
  const det = figures.detection();
  trace('detect', wallStart, fleet.now);
  if (process.env['MURMUR_TRACE'] && figures.falsePositives > 0) console.error(figures.falsePositiveLog.join('\n'));

  return {
    system: 'murmur-sim',
    profile: profile.name,
    n: a.nodes,
    loss: a.loss,
    workload_s: a.workload,
    steady_s: a.steady,
    multicast: a.multicast,
    ...(a.insecure ? {} : { secure: true }),
    join_converge_ms: join,
    update_p50_ms: upd.p50,
    update_all_ms: upd.all,
    detect_first_ms: det.first,
    detect_p50_ms: det.p50,
    detect_all_ms: det.all,
    detect_seen: det.seen,
    false_positives: figures.falsePositives,
    bytes_per_node_s: Math.round(bytesPerNodeS),
    packets_per_node_s: Math.round(packetsPerNodeS * 100) / 100,
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
