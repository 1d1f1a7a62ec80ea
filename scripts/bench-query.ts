// Fleet query benchmark in the simulator: a secure fleet joins, then askers spread over the
// fleet ask one query after another; every live device answers after a 5 ms think time.
//   npm run bench:query -- --nodes 128 --loss 0.1 --seed 7 [--queries 10] [--timeout 3000] [--no-multicast] [--insecure]
// Prints one JSON line: the share of live devices that answered within the timeout (the worst
// query and all queries together), and reply times. Times are virtual milliseconds.

import { profileByName } from '../runtime/core/profiles.js';
import { Fleet } from '../runtime/sim/fleet.js';
import { percentile } from '../runtime/sim/figures.js';
import { answerQueries, runQuery } from '../runtime/sim/query-run.js';
import { numberArg, parseBenchArgs } from './bench-args.js';

export function runQueryBenchmark(argv: readonly string[]): Record<string, unknown> {
  const wallStart = performance.now();
  let queries = 10;
  let timeoutMs = 3000;
  let multicast = true;
  let insecure = false;
  const a = parseBenchArgs(argv, 'see scripts/bench-query.ts for usage', (flag, value) => {
    if (flag === '--queries') queries = numberArg(flag, value());
    else if (flag === '--timeout') timeoutMs = numberArg(flag, value());
    else if (flag === '--no-multicast') multicast = false;
    else if (flag === '--insecure') insecure = true;
    else return false;
    return true;
  });
  const fleet = new Fleet({ seed: a.seed, nodes: a.nodes, profile: profileByName(a.profile), loss: a.loss, multicast, seeds: multicast ? 'none' : 'first', insecure });
  answerQueries(fleet);
  fleet.start();
  const everyoneKnown = (): boolean => fleet.ids.every((id) => fleet.node(id).presentCount === a.nodes - 1);
  fleet.runUntil(everyoneKnown, { maxMs: a.deadline * 1000, what: 'join' });
  const joinMs = fleet.now;
  fleet.network.resetCounters();
  const times: number[] = [];
  let answered = 0;
  let asked = 0;
  let worst = 1;
  let missingMax = 0;
  for (let i = 0; i < queries; i++) {
    const asker = fleet.ids[(i * 37) % a.nodes]!;
    const r = runQuery(fleet, asker, { timeoutMs });
    times.push(...r.replyMs);
    answered += r.replyMs.length;
    asked += r.live;
    worst = Math.min(worst, r.fraction);
    missingMax = Math.max(missingMax, r.missing.length);
    // Askers are a few people and scripts, not a flood: a second between queries.
    fleet.runFor(1000);
  }
  times.sort((x, y) => x - y);
  return {
    system: 'murmur-sim-query',
    n: a.nodes,
    loss: a.loss,
    multicast,
    ...(insecure ? {} : { secure: true }),
    queries,
    timeout_ms: timeoutMs,
    join_ms: joinMs,
    answered_fraction: Math.round((answered / asked) * 10000) / 10000,
    worst_query_fraction: Math.round(worst * 10000) / 10000,
    missing_max: missingMax,
    reply_p50_ms: percentile(times, 0.5),
    reply_p99_ms: percentile(times, 0.99),
    reply_max_ms: times.at(-1) ?? -1,
    bytes_per_node_s: Math.round(fleet.network.bytesSent / ((fleet.now - joinMs) / 1000) / a.nodes),
    wall_ms: Math.round(performance.now() - wallStart),
    seed: a.seed,
  };
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/.*\/dist\//, '/dist/').split('/').pop()!);
if (isMain) {
  try {
    console.log(JSON.stringify(runQueryBenchmark(process.argv.slice(2))));
  } catch (e) {
    console.error(`bench:query: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
