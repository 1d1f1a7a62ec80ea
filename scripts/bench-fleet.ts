// Fleet benchmark on real sockets, as shared/bench/SCENARIOS.md specifies:
//   npm run bench:fleet -- --nodes 128 --loss 0.1 --workload 5 --steady 30 [--profile lan] [--seed 1]
// N nodes, each with its own UDP sockets, multicast over the loopback of a private network
// namespace this script creates (and removes), so the host's interfaces see nothing. Prints
// one JSON line with the SCENARIOS.md keys, plus a few diagnostics.
//
// Loss is applied at each receiver, independently, from a seeded generator (multicast loss on
// Wi-Fi is per receiver). Bytes are counted at the sender: payload plus 28 bytes of IPv4/UDP
// header per datagram, a multicast datagram once. CPU is this process's user+system time.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NodeHost, monotonicClock } from '../runtime/agent/node-host.js';
import { FleetChannel } from '../runtime/crypto/fleet-channel.js';
import { Keyring } from '../runtime/crypto/keyring.js';
import { SEAL_OVERHEAD } from '../runtime/crypto/seal.js';
import { generateSigningKey } from '../runtime/trust/ed25519.js';
import { Gatekeeper } from '../runtime/trust/gatekeeper.js';
import nacl from 'tweetnacl';
import { Node } from '../runtime/core/node.js';
import { profileByName } from '../runtime/core/profiles.js';
import { SystemInterfaces } from '../runtime/net/interfaces.js';
import { UdpTransport } from '../runtime/net/udp-transport.js';
import { FleetFigures } from '../runtime/sim/figures.js';
import { Prng } from '../runtime/sim/prng.js';
import { sizeOf } from '../runtime/wire/index.js';
import { numberArg, parseBenchArgs, type BenchArgs } from './bench-args.js';
import { createLoopbackNamespace, deleteNamespace } from './netns.js';

interface Args extends BenchArgs {
  groupPort: number;
  inner: boolean;
}

function parse(argv: readonly string[]): Args {
  let groupPort = 7477;
  let inner = false;
  const usage = 'usage: npm run bench:fleet -- --nodes N --loss P --workload W --steady S [--profile lan] [--seed S]';
  const a = parseBenchArgs(argv, usage, (flag, value) => {
    if (flag === '--group-port') groupPort = numberArg(flag, value());
    else if (flag === '--inner') inner = true;
    else return false;
    return true;
  });
  return { ...a, groupPort, inner };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, deadlineMs: number): Promise<boolean> {
  const end = performance.now() + deadlineMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(2);
  }
  return true;
}

interface Member {
  readonly id: string;
  readonly host: NodeHost;
  readonly transport: UdpTransport;
}

async function runInner(a: Args): Promise<Record<string, unknown>> {
  const wire = profileByName(a.profile);
  // Sealed like a real device: the core packs the budget less the seal.
  const profile = { ...wire, datagramBudget: wire.datagramBudget - SEAL_OVERHEAD };
  const keyring = new Keyring(0);
  keyring.use(keyring.install(nacl.randomBytes(32)));
  const figures = new FleetFigures(a.nodes);
  const rng = new Prng(a.seed);
  const lossRng = rng.fork('loss');
  let t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const gen = Math.floor(Date.now() / 1000);
  const members: Member[] = [];
  const ifs = new SystemInterfaces();
  for (let i = 0; i < a.nodes; i++) {
    const id = `n${String(i).padStart(3, '0')}`;
    let host: NodeHost | undefined;
    const transport = await UdpTransport.open(
      {
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
      },
      (bytes, from, via) => host?.receive(bytes, from, via),
    );
    if (!transport.multicastReady) throw new Error('bench: the namespace loopback did not join the multicast group');
    // Each node signs as a device does (runtime/trust), so the figures include the cost of
    // checking passports, key/value signatures and accusations.
    let node: Node | undefined;
    const gate = new Gatekeeper({
      self: { id, gen },
      key: generateSigningKey(),
      held: {
        version: (o, k) => (node?.kv.owner(o.id)?.gen === o.gen ? node.kv.owner(o.id)!.entries.get(k)?.version : undefined),
        max: (o) => (node?.kv.owner(o.id)?.gen === o.gen ? node.kv.owner(o.id)!.max : 0),
      },
      isMember: (m) => node?.member(m) !== undefined,
    });
    node = new Node({ id, gen, addr: transport.localAddress, profile, rng: rng.fork(id), size: sizeOf, multicast: true, signer: gate.signer });
    host = new NodeHost({
      node,
      clock: monotonicClock,
      budget: wire.datagramBudget,
      channel: new FleetChannel(keyring, id, gen),
      gate,
      send: (to, bytes) => transport.send(to, bytes),
      onEvent: (e) => figures.observe(now(), id, e),
    });
    members.push({ id, host, transport });
  }
  const deadlineMs = a.deadline * 1000;

  // 1. Join: every node starts at once.
  t0 = performance.now();
  for (const m of members) m.host.start();
  if (!(await waitFor(() => figures.joinConvergedAt >= 0, deadlineMs))) {
    const missing: string[] = [];
    for (const m of members) for (const o of members) if (m !== o && !m.host.node.member(o.id)) missing.push(`${m.id} lacks ${o.id}`);
    const refused: Record<string, number> = {};
    for (const m of members) for (const [r, n] of Object.entries(m.host.refusals())) refused[r] = (refused[r] ?? 0) + n;
    const who: Record<string, number> = {};
    for (const m of members) for (const [r, n] of Object.entries(m.host.whoIs)) who[r] = (who[r] ?? 0) + n;
    throw new Error(`no join convergence within ${a.deadline} s: ${figures.pairsSeen} of ${a.nodes * (a.nodes - 1)} pairs; ${missing.slice(0, 10).join(', ')}; refused ${JSON.stringify(refused)}; whois ${JSON.stringify(who)}`);
  }
  const join = figures.joinConvergedAt;

  // 2. Steady window with the sensor workload: 64 bytes per node every W s, random phase.
  const timers: NodeJS.Timeout[] = [];
  if (a.workload > 0) {
    const period = a.workload * 1000;
    const phase = rng.fork('workload');
    members.forEach((m, i) => {
      let seq = 0;
      const publish = (): void => {
        m.host.set('sensor', `s${String(seq++).padStart(6, '0')}-${String(i).padStart(57, '0')}`.slice(0, 64));
      };
      timers.push(setTimeout(() => {
        publish();
        timers.push(setInterval(publish, period));
      }, phase.int(period)));
    });
  }
  const sum = (f: (m: Member) => number): number => members.reduce((s, m) => s + f(m), 0);
  const b0 = sum((m) => m.transport.counters.sentBytes);
  const p0 = sum((m) => m.transport.counters.sentPackets);
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(a.steady * 1000);
  const c1 = process.cpuUsage(c0);
  const secs = (performance.now() - w0) / 1000;
  const bytes = sum((m) => m.transport.counters.sentBytes) - b0;
  const packets = sum((m) => m.transport.counters.sentPackets) - p0;
  for (const t of timers) clearTimeout(t);

  // 3. Workload stops; node 0 changes one value.
  const value = 'v1-sensor-23.5C';
  figures.updated(members[0]!.id, 'sensor', value, now());
  members[0]!.host.set('sensor', value);
  await waitFor(() => figures.updateSeenBy >= a.nodes - 1, deadlineMs);
  const upd = figures.update();

  // 4. The last node dies without a goodbye: timers stop, sockets close.
  const victim = members[a.nodes - 1]!;
  figures.killed(victim.id, now());
  victim.host.stop();
  await victim.transport.close();
  await waitFor(() => figures.detectedBy >= a.nodes - 1, deadlineMs);
  const det = figures.detection();

  const rejected: Record<string, number> = {};
  for (const m of members) for (const [r, n] of Object.entries(m.host.refusals())) rejected[r] = (rejected[r] ?? 0) + n;
  const out = {
    system: `murmur-${process.env['npm_package_version'] ?? 'dev'}`,
    profile: profile.name,
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
    bytes_per_node_s: Math.round(bytes / secs / a.nodes),
    packets_per_node_s: round(packets / secs / a.nodes),
    cpu_ms_per_node_s: round((c1.user + c1.system) / 1000 / secs / a.nodes),
    send_errors: sum((m) => m.transport.counters.sendErrors),
    rejected,
    seed: a.seed,
  };
  if (figures.falsePositives > 0) console.error(figures.falsePositiveLog.slice(0, 10).join('\n'));
  for (const m of members) {
    m.host.stop();
    await m.transport.close();
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
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
