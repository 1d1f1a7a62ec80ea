// Fleet benchmark on real sockets, as shared/bench/SCENARIOS.md specifies:
//   npm run bench:fleet -- --nodes 128 --loss 0.1 --workload 5 --steady 30 [--profile lan] [--seed 1]
// N nodes, each with its own UDP sockets, multicast over the loopback of a private network
// namespace this script creates (and removes), so the host's interfaces see nothing. Prints
// one JSON line with the SCENARIOS.md keys, plus a few diagnostics.
//
// Deterministic proxies for CPU, per node per second of the steady window: datagrams received
// and opened by the seal, signatures verified and signatures passed from memory
// (runtime/trust/checked-signatures.ts). `--crash K` adds a mass crash after the single death:
// K more nodes die at once, and crash_all_ms is the time until every survivor has seen all K dead.
// `stalls` counts the nodes' sweeps that ran a quarter second late or more: a run with many was
// starved of CPU, and its timings say more about the machine than about the protocol.
//
// Loss is applied at each receiver, independently, from a seeded generator (multicast loss on
// Wi-Fi is per receiver). Bytes are counted at the sender: payload plus 28 bytes of IPv4/UDP
// header per datagram, a multicast datagram once. CPU is user+system time of the processes
// running nodes.
//
// The nodes are split over two processes, as SCENARIOS.md allows (the machine has two cores):
// the coordinator runs the first half and measures; a worker it forks runs the second half and
// reports its nodes' events and counters over IPC. Each node seals, signs and checks like a
// device does, so one process alone saturates a core at 128 nodes.

import { fork, spawn, type ChildProcess } from 'node:child_process';
import type { CoreEvent } from '../runtime/core/effects.js';
import { fileURLToPath } from 'node:url';
import { assembleNode } from '../runtime/host/assembly.js';
import type { NodeHost } from '../runtime/host/node-host.js';
import type { Gatekeeper } from '../runtime/trust/gatekeeper.js';
import { monotonicClock, RealTimeScheduler } from '../runtime/host/scheduler.js';
import { Keyring } from '../runtime/crypto/keyring.js';
import { generateSigningKey } from '../runtime/trust/ed25519.js';
import nacl from 'tweetnacl';
import { profileByName } from '../runtime/core/profiles.js';
import { SystemInterfaces } from '../runtime/net/interfaces.js';
import { UdpTransport } from '../runtime/net/udp-transport.js';
import { FleetFigures } from '../runtime/sim/figures.js';
import { Prng } from '../runtime/sim/prng.js';
import { numberArg, parseBenchArgs, type BenchArgs } from './bench-args.js';
import { createLoopbackNamespace, deleteNamespace } from './netns.js';
import { round, sleep, waitFor } from './bench-wait.js';
import { startWorkload } from './bench-workload.js';

interface Args extends BenchArgs {
  groupPort: number;
  inner: boolean;
  /** No seal, no signatures, no gatekeeper: to measure what security costs. */
  insecure: boolean;
  /** After the single death: this many more nodes killed at once (0: none). */
  crash: number;
  /** Set in the worker process: the node indices it runs, [from, to). */
  worker: [number, number] | undefined;
}

function parse(argv: readonly string[]): Args {
  let groupPort = 7477;
  let inner = false;
  let worker: [number, number] | undefined;
  let insecure = false;
  let crash = 0;
  const usage = 'usage: npm run bench:fleet -- --nodes N --loss P --workload W --steady S [--profile lan] [--seed S] [--crash K] [--insecure]';
  const a = parseBenchArgs(argv, usage, (flag, value) => {
    if (flag === '--group-port') groupPort = numberArg(flag, value());
    else if (flag === '--inner') inner = true;
    else if (flag === '--insecure') insecure = true;
    else if (flag === '--crash') crash = numberArg(flag, value());
    else if (flag === '--worker') {
      const [from, to] = (value() ?? '').split('-').map(Number);
      worker = [from!, to!];
    } else return false;
    return true;
  });
  if (!Number.isInteger(crash) || crash < 0 || crash > a.nodes - 3) throw new Error(`--crash: expected an integer from 0 to ${a.nodes - 3}, got ${crash}`);
  return { ...a, groupPort, inner, worker, insecure, crash };
}


interface Member {
  readonly id: string;
  readonly host: NodeHost;
  readonly gate: Gatekeeper | undefined;
  readonly transport: UdpTransport;
}

const BENCH_KEY_ENV = 'MURMUR_BENCH_FLEET_KEY';
const BENCH_GEN_ENV = 'MURMUR_BENCH_GEN';

/** Open nodes [from, to) on real sockets, each sealing, signing and checking like a device. */
async function openNodes(a: Args, from: number, to: number, key: Uint8Array, gen: number, onEvent: (id: string, e: CoreEvent) => void): Promise<Member[]> {
  const wire = profileByName(a.profile);
  const keyring = new Keyring(0);
  keyring.use(keyring.install(key));
  const rng = new Prng(a.seed);
  const lossRng = rng.fork(`loss-${from}`);
  const members: Member[] = [];
  const ifs = new SystemInterfaces();
  for (let i = from; i < to; i++) {
    const id = nodeId(i);
    const transport = await UdpTransport.open({
      families: ['ipv4'],
      group4: '239.255.77.77',
      group6: 'ff02::77:77',
      groupPort: a.groupPort,
      port: 0,
      bind4: '127.0.0.1',
      interfaces: 'auto',
      multicast: true,
      ttl: 1,
      budget: wire.datagramBudget,
      interfaceSource: ifs,
      interfaceCheckMs: 0,
      receiveLoss: { p: a.loss, next: () => lossRng.next() },
    });
    if (!transport.multicastReady) throw new Error('bench: the namespace loopback did not join the multicast group');
    const { host, gate } = assembleNode({
      id,
      gen,
      profile: wire,
      transport,
      clock: monotonicClock,
      scheduler: new RealTimeScheduler(monotonicClock),
      rng: rng.fork(id),
      multicast: true,
      security: a.insecure ? { insecure: true } : { keyring, deviceKey: generateSigningKey() },
      onEvent: (e) => onEvent(id, e),
    });
    members.push({ id, host, gate, transport });
  }
  return members;
}

const nodeId = (i: number): string => `n${String(i).padStart(3, '0')}`;

interface Counters {
  bytes: number;
  packets: number;
  cpuUs: number;
  sendErrors: number;
  refused: Record<string, number>;
  /** Datagrams received, opened by the seal and decoded; signatures verified and passed from memory. */
  received: number;
  opened: number;
  decoded: number;
  verified: number;
  remembered: number;
  /** Sweeps that found their node stalled (runtime/core/periodic.ts): a starved process, not a slow fleet. */
  stalls: number;
}

function countersOf(members: readonly Member[]): Counters {
  const c: Counters = { bytes: 0, packets: 0, cpuUs: 0, sendErrors: 0, refused: {}, received: 0, opened: 0, decoded: 0, verified: 0, remembered: 0, stalls: 0 };
  for (const m of members) {
    c.stalls += m.host.node.stats.snapshot().stalls ?? 0;
    c.received += m.host.work.datagrams;
    c.opened += m.host.work.opened;
    c.decoded += m.host.work.decoded;
    const checks = m.gate?.signatureChecks;
    c.verified += checks?.checks ?? 0;
    c.remembered += checks?.remembered ?? 0;
    c.bytes += m.transport.counters.sentBytes;
    c.packets += m.transport.counters.sentPackets;
    c.sendErrors += m.transport.counters.sendErrors;
    for (const [r, n] of Object.entries(m.host.refusals())) c.refused[r] = (c.refused[r] ?? 0) + n;
  }
  const u = process.cpuUsage();
  c.cpuUs = u.user + u.system;
  return c;
}

type ToWorker = { cmd: 'start' } | { cmd: 'workload' } | { cmd: 'quiet' } | { cmd: 'counters' } | { cmd: 'kill'; ids: string[] } | { cmd: 'stop' };
interface WorkerEvent {
  t: number;
  id: string;
  e: CoreEvent;
}
type FromWorker = { type: 'ready' } | { type: 'events'; events: WorkerEvent[] } | { type: 'counters'; c: Counters };
/**
 * Events cross to the coordinator in batches: one IPC message per event cost both processes
 * more than the nodes themselves in a storm of status changes, and the counters the coordinator
 * waited for queued behind them.
 */
const EVENT_BATCH_MS = 50;

/** Only what the figures use crosses the process boundary. */
function wanted(e: CoreEvent): boolean {
  if (e.type === 'kv-changed') return typeof e.value === 'string' && e.value.startsWith('v1-');
  return e.type === 'member-joined' || e.type === 'member-status' || e.type === 'member-restarted';
}

/** Worker process: runs its share of the nodes and does what the coordinator says. */
async function runWorker(a: Args): Promise<void> {
  const [from, to] = a.worker!;
  const key = new Uint8Array(Buffer.from(process.env[BENCH_KEY_ENV] ?? '', 'base64'));
  const gen = Number(process.env[BENCH_GEN_ENV]);
  const send = (m: FromWorker): void => {
    process.send!(m);
  };
  let batch: WorkerEvent[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    send({ type: 'events', events: batch });
    batch = [];
  };
  setInterval(flush, EVENT_BATCH_MS).unref();
  const members = await openNodes(a, from, to, key, gen, (id, e) => {
    if (wanted(e)) batch.push({ t: performance.timeOrigin + performance.now(), id, e });
  });
  let timers: NodeJS.Timeout[] = [];
  process.on('message', (m: ToWorker) => {
    switch (m.cmd) {
      case 'start':
        for (const x of members) x.host.start();
        return;
      case 'workload':
        timers = startWorkload(members, a.workload, new Prng(a.seed).fork('workload-worker'));
        return;
      case 'quiet':
        for (const t of timers) clearTimeout(t);
        return;
      case 'counters':
        flush();
        return send({ type: 'counters', c: countersOf(members) });
      case 'kill':
        for (const v of members.filter((x) => m.ids.includes(x.id))) {
          v.host.stop();
          void v.transport.close();
        }
        return;
      case 'stop':
        for (const x of members) x.host.stop();
        void Promise.all(members.map((x) => x.transport.close())).then(() => process.exit(0));
        return;
    }
  });
  send({ type: 'ready' });
}

async function runInner(a: Args): Promise<Record<string, unknown>> {
  const figures = new FleetFigures(a.nodes);
  let t0Abs = performance.timeOrigin + performance.now();
  const now = (): number => performance.timeOrigin + performance.now() - t0Abs;
  const gen = Math.floor(Date.now() / 1000);
  const key = nacl.randomBytes(32);
  const half = a.nodes >= 4 ? Math.ceil(a.nodes / 2) : a.nodes;
  const members = await openNodes(a, 0, half, key, gen, (id, e) => figures.observe(now(), id, e));

  let worker: ChildProcess | undefined;
  let counterWaiter: ((c: Counters) => void) | undefined;
  if (half < a.nodes) {
    worker = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--worker', `${half}-${a.nodes}`], {
      env: { ...process.env, [BENCH_KEY_ENV]: Buffer.from(key).toString('base64'), [BENCH_GEN_ENV]: String(gen) },
      execArgv: process.execArgv,
    });
    const w = worker;
    await new Promise<void>((resolve, reject) => {
      w.on('exit', (code) => reject(new Error(`bench worker exited with ${code}`)));
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'events') for (const x of m.events) figures.observe(x.t - t0Abs, x.id, x.e);
        else if (m.type === 'counters') counterWaiter?.(m.c);
      });
    });
    w.removeAllListeners('exit');
  }
  const tell = (m: ToWorker): void => {
    worker?.send(m);
  };
  const workerCounters = (): Promise<Counters | undefined> =>
    worker
      ? new Promise((resolve, reject) => {
          // An overloaded worker answers late, not never: wait as long as the run's deadline.
          const t = setTimeout(() => reject(new Error(`bench worker did not report its counters within ${a.deadline} s`)), a.deadline * 1000);
          counterWaiter = (c) => {
            clearTimeout(t);
            resolve(c);
          };
        })
      : Promise.resolve(undefined);
  const counters = async (): Promise<Counters> => {
    const p = workerCounters();
    tell({ cmd: 'counters' });
    const w = await p;
    const mine = countersOf(members);
    if (!w) return mine;
    const refused = { ...mine.refused };
    for (const [r, n] of Object.entries(w.refused)) refused[r] = (refused[r] ?? 0) + n;
    const sum = (k: 'bytes' | 'packets' | 'cpuUs' | 'sendErrors' | 'received' | 'opened' | 'decoded' | 'verified' | 'remembered' | 'stalls'): number => mine[k] + w[k];
    return {
      bytes: sum('bytes'),
      packets: sum('packets'),
      cpuUs: sum('cpuUs'),
      sendErrors: sum('sendErrors'),
      received: sum('received'),
      opened: sum('opened'),
      decoded: sum('decoded'),
      verified: sum('verified'),
      remembered: sum('remembered'),
      stalls: sum('stalls'),
      refused,
    };
  };
  const deadlineMs = a.deadline * 1000;

  // 1. Join: every node starts at once.
  t0Abs = performance.timeOrigin + performance.now();
  tell({ cmd: 'start' });
  for (const m of members) m.host.start();
  const progress = process.env['MURMUR_BENCH_VERBOSE']
    ? setInterval(() => {
        const c = countersOf(members);
        const stats: Record<string, number> = {};
        for (const m of members) for (const [k, v] of Object.entries(m.host.node.stats.snapshot() as Record<string, unknown>)) if (typeof v === 'number') stats[k] = (stats[k] ?? 0) + v;
        console.error(`bench: t=${Math.round(now())} pairs=${figures.pairsSeen} refused=${JSON.stringify(c.refused)} stats=${JSON.stringify(stats)}`);
      }, 2000)
    : undefined;
  const joined = await waitFor(() => figures.joinConvergedAt >= 0, deadlineMs, 2);
  if (progress) clearInterval(progress);
  if (!joined) {
    const c = await counters();
    tell({ cmd: 'stop' });
    const missing = figures.missingPairs(Array.from({ length: a.nodes }, (_, i) => nodeId(i)), 10).join(' ');
    throw new Error(`no join convergence within ${a.deadline} s: ${figures.pairsSeen} of ${a.nodes * (a.nodes - 1)} pairs (missing ${missing}); stalls ${c.stalls}; refused ${JSON.stringify(c.refused)}`);
  }
  const join = figures.joinConvergedAt;
  if (process.env['MURMUR_BENCH_VERBOSE']) console.error(`bench: joined in ${Math.round(join)} ms`);

  // 2. Steady window with the sensor workload.
  const timers = startWorkload(members, a.workload, new Prng(a.seed).fork('workload-coordinator'));
  tell({ cmd: 'workload' });
  const c0 = await counters();
  const w0 = performance.now();
  await sleep(a.steady * 1000);
  const c1 = await counters();
  const secs = (performance.now() - w0) / 1000;
  for (const t of timers) clearTimeout(t);
  tell({ cmd: 'quiet' });

  // 3. Workload stops; node 0 changes one value.
  const value = 'v1-sensor-23.5C';
  figures.updated(members[0]!.id, 'sensor', value, now());
  members[0]!.host.set('sensor', value);
  await waitFor(() => figures.updateSeenBy >= a.nodes - 1, deadlineMs, 2);
  const upd = figures.update();

  // 4. The last node dies without a goodbye: timers stop, sockets close.
  const victim = nodeId(a.nodes - 1);
  figures.killed(victim, now());
  const local = members.find((m) => m.id === victim);
  if (local) {
    local.host.stop();
    await local.transport.close();
  } else tell({ cmd: 'kill', ids: [victim] });
  await waitFor(() => figures.detectedBy >= a.nodes - 1, deadlineMs, 2);
  const det = figures.detection();

  // 5. Optionally, a mass crash: --crash K more nodes die at once, spread over both processes.
  let crash: Record<string, unknown> = {};
  if (a.crash > 0) {
    const ids = crashVictims(a.nodes, a.crash);
    figures.crashed(ids, now());
    const mine = members.filter((m) => ids.includes(m.id));
    for (const m of mine) m.host.stop();
    tell({ cmd: 'kill', ids: ids.filter((id) => !mine.some((m) => m.id === id)) });
    const survivors = a.nodes - 1 - a.crash;
    await waitFor(() => figures.crashSeenBy >= survivors, deadlineMs, 2);
    await Promise.all(mine.map((m) => m.transport.close()));
    const c = figures.crash();
    crash = { crash_nodes: a.crash, crash_p50_ms: round(c.p50), crash_all_ms: round(c.all), crash_seen: c.seen };
  }
  const end = await counters();
  const perNodeS = (k: 'received' | 'opened' | 'decoded' | 'verified' | 'remembered'): number => round((c1[k] - c0[k]) / secs / a.nodes);

  const out = {
    system: `murmur-${process.env['npm_package_version'] ?? 'dev'}${a.insecure ? '-insecure' : ''}`,
    profile: a.profile,
    n: a.nodes,
    loss: a.loss,
    workload_s: a.workload,
    steady_s: a.steady,
    join_converge_ms: round(join),
    update_p50_ms: round(upd.p50),
    update_all_ms: round(upd.all),
    update_seen: upd.seen,
    detect_first_ms: round(det.first),
    detect_p50_ms: round(det.p50),
    detect_all_ms: round(det.all),
    detect_seen: det.seen,
    false_positives: figures.falsePositives,
    flaps: round(figures.flapsPerObserverHour(now())),
    suspicions: round(figures.suspicionsPerObserverHour(now())),
    bytes_per_node_s: Math.round((c1.bytes - c0.bytes) / secs / a.nodes),
    packets_per_node_s: round((c1.packets - c0.packets) / secs / a.nodes),
    cpu_ms_per_node_s: round((c1.cpuUs - c0.cpuUs) / 1000 / secs / a.nodes),
    received_per_node_s: perNodeS('received'),
    opened_per_node_s: perNodeS('opened'),
    verified_per_node_s: perNodeS('verified'),
    remembered_per_node_s: perNodeS('remembered'),
    ...crash,
    stalls: end.stalls,
    processes: worker ? 2 : 1,
    send_errors: end.sendErrors,
    rejected: end.refused,
    seed: a.seed,
  };
  if (figures.falsePositives > 0) console.error(figures.falsePositiveLog.slice(0, 10).join('\n'));
  tell({ cmd: 'stop' });
  for (const m of members) {
    m.host.stop();
    await m.transport.close();
  }
  return out;
}

/** K nodes spread evenly over n001..n(N-2): node 0 measures updates, the last one is already dead. */
function crashVictims(n: number, k: number): string[] {
  const out: string[] = [];
  for (let j = 0; j < k; j++) out.push(nodeId(1 + Math.floor((j * (n - 2)) / k)));
  return out;
}


/** Outside: make the namespace, run this script inside it, always remove the namespace. */
async function runOutside(argv: readonly string[]): Promise<number> {
  const ns = `murmur-bench-${process.pid}`;
  createLoopbackNamespace(ns);
  const cleanup = (): void => deleteNamespace(ns);
  let child: ReturnType<typeof spawn> | undefined;
  const onSignal = (): void => {
    child?.kill('SIGKILL');
    cleanup();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // MURMUR_BENCH_NODE_FLAGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", reaches the process that runs the nodes.
    const flags = (process.env['MURMUR_BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...flags, fileURLToPath(import.meta.url), ...argv, '--inner'], { stdio: 'inherit' });
    const c = child;
    return await new Promise<number>((resolve) => {
      c.on('error', (e) => {
        console.error(`bench:fleet: could not run ip netns exec: ${e.message}`);
        resolve(1);
      });
      c.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    cleanup();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const a = parse(argv);
  if (a.worker) {
    await runWorker(a);
    return;
  }
  if (!a.inner) {
    process.exitCode = await runOutside(argv);
    return;
  }
  const out = await runInner(a);
  console.log(JSON.stringify(out));
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(`bench:fleet: ${(e as Error).message}`);
  process.exit(1);
});
