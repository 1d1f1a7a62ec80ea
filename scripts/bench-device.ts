// One device among many, as shared/bench/SCENARIOS.md specifies for bench:device:
//   npm run bench:device -- --nodes 128 --loss 0.1 --workload 5 --steady 30 [--cpu-cap 0.1] [--warmup 120] [--seed 1]
// One real `murmur start` process (the built CLI, simulated hardware with its sensors, a fleet
// key file, its own device key and an admin certificate) lives among N-1 peers that all run in
// one other process (scripts/device-peers.ts). Prints one JSON line: the device's CPU and RSS
// over the steady window, read from /proc, and the SCENARIOS sequence as the device sees it.
//
// The two sides sit in two private network namespaces this script creates (and removes),
// joined by a veth pair, so the device's multicast crosses one link as on a LAN. Loss at the
// device is dropped by nftables in its namespace (`--loss`, per datagram); at each peer it is
// drawn from a seeded generator. `--cpu-cap F` runs the device in a child cgroup allowed F of
// one core (scripts/cpu-cap.ts), to behave like a much slower board; the figures then also
// say whether the cap made anyone declare anyone dead, and whether the device fell behind its
// own schedule (stalled sweeps, skipped sensor samples, phases past the deadline).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import nacl from 'tweetnacl';
import type { CoreEvent } from '../runtime/core/effects.js';
import { profileByName } from '../runtime/core/profiles.js';
import { parseLine } from '../runtime/log/log.js';
import { signCertificate } from '../runtime/trust/certificate.js';
import { DEVICE_KEY_TYPE, DEVICE_KEY_FILE, CERTIFICATE_FILE } from '../runtime/trust/device-key.js';
import { generateSigningKey, type SigningKey } from '../runtime/trust/ed25519.js';
import { keyFileText } from '../runtime/trust/key-file.js';
import { certificateToJson } from '../runtime/trust/certificate.js';
import { Prng } from '../runtime/sim/prng.js';
import { cpuFromStat, cpuMsPerS, DeviceFigures, DEVICE_ID, mbFromStatus, parseDeviceArgs, peerIds, type DeviceBenchArgs } from './bench-device-figures.js';
import { createCpuCap, type CpuCap } from './cpu-cap.js';
import { openPeers, PeerNet, SharedWork, type Peer, type PeerIdentity } from './device-peers.js';
import { canCreateNamespaces, deleteNamespace, ip, ipQuiet } from './netns.js';
import { round, sleep, waitFor } from './bench-wait.js';
import { startWorkload } from './bench-workload.js';

const DEVICE_IP = '10.78.0.1';
const PEERS_IP = '10.78.0.2';
const GROUP = '239.255.77.77';
const GROUP_PORT = 7477;
/** The peer whose value changes, and the peer that is killed. */
const UPDATER = 'n001';
const UPDATE_VALUE = 'v1-sensor-23.5C';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}
/** The built CLI, run through its interpreter line as an installed `murmur` runs. */
const BIN = process.env['MURMUR_BENCH_DEVICE_BIN'] ?? join(repoRoot(), 'dist/runtime/cli/bin.js');

/**
 * How to run the CLI: through its interpreter line, as an installed `murmur` runs. With extra
 * Node flags (MURMUR_BENCH_DEVICE_NODE_FLAGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", which
 * NODE_OPTIONS refuses), the line's own `env -S` command with the flags added after `node`.
 */
function interpreter(bin: string, extraFlags: string | undefined): string[] {
  const flags = (extraFlags ?? '').split(' ').filter(Boolean);
  if (flags.length === 0) return [bin];
  const line = readFileSync(bin, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S (.*)$/.exec(line);
  if (!m) throw new Error(`${bin}: expected an "#!/usr/bin/env -S ... node ..." line to add Node flags to, got ${JSON.stringify(line)}`);
  const words = m[1]!.split(' ').filter(Boolean);
  const at = words.indexOf('node');
  if (at < 0) throw new Error(`${bin}: no "node" in its interpreter line ${JSON.stringify(line)}`);
  return ['env', ...words.slice(0, at + 1), ...flags, ...words.slice(at + 1), bin];
}


// ------------------------------------------------------------------ the peers' process

type ToPeers =
  | { cmd: 'init'; fleetKey: string; gen: number; peers: { id: string; secretKey: string; publicKey: string; certificate: string }[] }
  | { cmd: 'start' }
  | { cmd: 'workload' }
  | { cmd: 'quiet' }
  | { cmd: 'set'; id: string; key: string; value: string }
  | { cmd: 'kill'; id: string }
  | { cmd: 'counters' }
  | { cmd: 'stop' };
interface DeviceSeen {
  t: number;
  peer: string;
  status: string;
}
type FromPeers = { type: 'ready' } | { type: 'seen'; events: DeviceSeen[] } | { type: 'counters'; cpuUs: number; checks: number; groupReceived: number; localHandedOver: number; sentToDevice: number; refused: Record<string, number> };

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** What the peers' gatekeepers and channels refused, summed by reason. */
function refusals(peers: readonly Peer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of peers) for (const [r, n] of Object.entries(p.host.refusals())) out[r] = (out[r] ?? 0) + n;
  return out;
}

async function runPeers(a: DeviceBenchArgs): Promise<void> {
  const send = (m: FromPeers): void => {
    process.send!(m);
  };
  let batch: DeviceSeen[] = [];
  setInterval(() => {
    if (batch.length === 0) return;
    send({ type: 'seen', events: batch });
    batch = [];
  }, 50).unref();
  const onEvent = (id: string, e: CoreEvent): void => {
    const t = performance.timeOrigin + performance.now();
    if ((e.type === 'member-joined' || e.type === 'member-restarted') && e.member.id === DEVICE_ID) batch.push({ t, peer: id, status: 'alive' });
    else if (e.type === 'member-status' && e.member.id === DEVICE_ID) batch.push({ t, peer: id, status: e.status });
  };
  // The coordinator is gone (killed, crashed): so is the reason to run.
  process.on('disconnect', () => process.exit(0));
  let peers: Peer[] = [];
  let net: PeerNet | undefined;
  const work = new SharedWork();
  let timers: NodeJS.Timeout[] = [];
  process.on('message', (m: ToPeers) => {
    void (async () => {
      switch (m.cmd) {
        case 'init': {
          net = await PeerNet.open({ localIp: PEERS_IP, group: GROUP, groupPort: GROUP_PORT, budget: profileByName(a.profile).datagramBudget, loss: a.loss, seed: a.seed });
          const ids: PeerIdentity[] = m.peers.map((p) => ({ id: p.id, key: { secretKey: unb64(p.secretKey), publicKey: unb64(p.publicKey) }, certificate: unb64(p.certificate) }));
          peers = await openPeers(net, work, ids, { fleetKey: unb64(m.fleetKey), gen: m.gen, profile: a.profile, seed: a.seed, onEvent });
          return send({ type: 'ready' });
        }
        case 'start':
          for (const p of peers) p.host.start();
          return;
        case 'workload':
          timers = startWorkload(peers, a.workload, new Prng(a.seed).fork('workload'));
          return;
        case 'quiet':
          for (const t of timers) clearTimeout(t);
          return;
        case 'set':
          peers.find((p) => p.id === m.id)?.host.set(m.key, m.value);
          return;
        case 'kill': {
          const p = peers.find((x) => x.id === m.id);
          p?.host.stop();
          await p?.transport.close();
          return;
        }
        case 'counters': {
          const u = process.cpuUsage();
          return send({ type: 'counters', cpuUs: u.user + u.system, checks: work.checks, groupReceived: net?.received.group ?? 0, localHandedOver: net?.received.local ?? 0, sentToDevice: net?.sentToDevice ?? 0, refused: refusals(peers) });
        }
        case 'stop':
          for (const p of peers) p.host.stop();
          await Promise.all(peers.map((p) => p.transport.close()));
          await net?.close();
          process.exit(0);
      }
    })().catch((e: unknown) => {
      console.error(`bench:device peers: ${(e as Error).message}`);
      process.exit(1);
    });
  });
}

// ------------------------------------------------------------------ the coordinator

interface Setup {
  readonly tag: string;
  readonly dir: string;
  cap: CpuCap | undefined;
  readonly children: ChildProcess[];
  done: boolean;
}

async function buildLink(tag: string, loss: number): Promise<{ nsDevice: string; nsPeers: string }> {
  const nsDevice = `${tag}-d`;
  const nsPeers = `${tag}-p`;
  ip(['netns', 'add', nsDevice]);
  ip(['netns', 'add', nsPeers]);
  ip(['-n', nsDevice, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nsPeers]);
  for (const [ns, addr] of [[nsDevice, DEVICE_IP], [nsPeers, PEERS_IP]] as const) {
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
  }
  if (loss > 0) await dropAtDevice(nsDevice, loss);
  return { nsDevice, nsPeers };
}

/** Drop this fraction of the UDP datagrams arriving in the device's namespace (nftables, numgen random). */
function dropAtDevice(ns: string, loss: number): Promise<void> {
  const rules = `table inet murmurloss {\n chain input {\n  type filter hook input priority 0; policy accept;\n  meta l4proto udp numgen random mod 1000 < ${Math.round(loss * 1000)} drop\n }\n}\n`;
  const child = spawn('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  // Without nft, `ip netns exec` exits before reading the rules: the write fails with EPIPE,
  // and the exit code below says what went wrong.
  child.stdin!.on('error', () => {});
  child.stdin!.end(rules);
  return new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => reject(new Error(`nft: ${e.message} (is the nftables package installed?)`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nft in ${ns} exited ${code}: ${err.trim()}`))));
  });
}

function teardown(s: Setup): void {
  if (s.done) return;
  s.done = true;
  for (const c of s.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  deleteNamespace(`${s.tag}-d`);
  deleteNamespace(`${s.tag}-p`);
  ipQuiet(['netns', 'del', `${s.tag}-d`]);
  s.cap?.remove();
  s.cap = undefined;
  rmSync(s.dir, { recursive: true, force: true });
}

/** Call the device's local API on its Unix socket. */
function api(stateDir: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(stateDir, 'murmur.sock'), method: 'GET', path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`device API ${path}: no answer within 10 s`)));
    req.end();
  });
}

/** A watch of one key of one owner, and how its stream went (for a run that misses the update). */
interface Watch {
  stop(): void;
  readonly error: string | undefined;
  readonly ended: boolean;
}

/** Follow the device's watch stream for one key of one owner; `onLine` gets each NDJSON line. */
function watch(stateDir: string, device: string, prefix: string, onLine: (line: string) => void): Watch {
  let stopped = false;
  let error: string | undefined;
  let ended = false;
  const failed = (e: Error): void => {
    if (!stopped) error ??= e.message;
  };
  const req = request({ socketPath: join(stateDir, 'murmur.sock'), method: 'GET', path: `/v1/watch?prefix=${encodeURIComponent(prefix)}&device=${encodeURIComponent(device)}` }, (res) => {
    // Destroyed on purpose once the update is seen: an abort is the stream's normal end.
    res.on('error', failed);
    res.on('end', () => (ended = true));
    createInterface({ input: res }).on('line', onLine).on('error', () => {});
  });
  req.on('error', failed);
  req.end();
  return {
    stop: () => {
      stopped = true;
      req.destroy();
    },
    get error() {
      return error;
    },
    get ended() {
      return ended;
    },
  };
}

interface DeviceStatus {
  readonly transport: { receivedPackets: number; sentPackets: number; sentBytes: number };
  readonly core: { stalls?: number };
}

async function deviceStatus(stateDir: string): Promise<DeviceStatus> {
  const r = await api(stateDir, '/v1/status');
  const b = r.body as Partial<DeviceStatus>;
  if (r.status !== 200 || !b.transport || !b.core) throw new Error(`device API /v1/status answered ${r.status} without transport and core counters`);
  return b as DeviceStatus;
}

function readProc(pid: number): { cpuMs: number; systemMs: number; rssMb: number; hwmMb: number } {
  const stat = cpuFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { cpuMs: stat.userMs + stat.systemMs, systemMs: stat.systemMs, rssMb: mbFromStatus(status, 'VmRSS'), hwmMb: mbFromStatus(status, 'VmHWM') };
}

async function runBench(a: DeviceBenchArgs): Promise<Record<string, unknown>> {
  if (!canCreateNamespaces()) throw new Error('bench:device needs root and iproute2 to create network namespaces');
  const setup: Setup = { tag: `mdev${process.pid}`, dir: mkdtempSync(join(tmpdir(), 'murmur-bench-device-')), cap: undefined, children: [], done: false };
  const onSignal = (): void => {
    teardown(setup);
    process.exit(130);
  };
  // Whatever way this process ends, the namespaces, the cgroup and the device go with it.
  process.on('exit', () => teardown(setup));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await sequence(a, setup);
  } finally {
    teardown(setup);
  }
}

async function sequence(a: DeviceBenchArgs, setup: Setup): Promise<Record<string, unknown>> {
  const { nsDevice, nsPeers } = await buildLink(setup.tag, a.loss);
  if (a.cpuCap !== undefined) setup.cap = createCpuCap(a.cpuCap, setup.tag);

  // Trust material as a provisioned fleet has it: one fleet key file, an admin key, and for every
  // device its own key and the admin's certificate for (id, key).
  const fleetKey = nacl.randomBytes(32);
  const fleetKeyFile = join(setup.dir, 'fleet.key');
  writeFileSync(fleetKeyFile, b64(fleetKey) + '\n', { mode: 0o600 });
  const admin = generateSigningKey();
  const stateDir = join(setup.dir, 'device');
  mkdirSync(stateDir, { mode: 0o700 });
  const deviceKey: SigningKey = generateSigningKey();
  writeFileSync(join(stateDir, DEVICE_KEY_FILE), keyFileText(DEVICE_KEY_TYPE, deviceKey), { mode: 0o600 });
  writeFileSync(join(stateDir, CERTIFICATE_FILE), certificateToJson(signCertificate(DEVICE_ID, deviceKey.publicKey, admin.secretKey)) + '\n');
  const ids = peerIds(a.nodes);
  const identities = ids.map((id) => {
    const key = generateSigningKey();
    return { id, secretKey: b64(key.secretKey), publicKey: b64(key.publicKey), certificate: b64(signCertificate(id, key.publicKey, admin.secretKey).signature) };
  });

  const figures = new DeviceFigures(ids);
  let t0 = performance.timeOrigin + performance.now();
  const now = (): number => performance.timeOrigin + performance.now() - t0;

  // The peers' process, in its namespace, on IPC through `ip netns exec` (it keeps the channel's fd).
  const peers = spawn('ip', ['netns', 'exec', nsPeers, process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2), '--peers'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  setup.children.push(peers);
  let countersWaiter: ((c: Extract<FromPeers, { type: 'counters' }>) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    peers.on('exit', (code) => reject(new Error(`the peers' process exited with ${code}`)));
    peers.on('message', (m: FromPeers) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'seen') {
        for (const e of m.events) {
          if (e.status === 'alive') figures.peerSawDevice(e.t - t0, e.peer);
          else figures.peerJudgedDevice(e.t - t0, e.peer, e.status);
        }
      } else if (m.type === 'counters') countersWaiter?.(m);
    });
  });
  const tell = (m: ToPeers): void => {
    peers.send(m);
  };
  const peerCounters = (): Promise<Extract<FromPeers, { type: 'counters' }>> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the peers' process did not report within ${a.deadline} s`)), a.deadline * 1000);
      countersWaiter = (c) => {
        clearTimeout(t);
        resolve(c);
      };
      tell({ cmd: 'counters' });
    });
  tell({ cmd: 'init', fleetKey: b64(fleetKey), gen: Math.floor(Date.now() / 1000), peers: identities });
  await ready;

  // 1. Join: the peers start and the device is started at the same moment.
  const deviceArgv = [
    'ip', 'netns', 'exec', nsDevice, ...interpreter(BIN, process.env['MURMUR_BENCH_DEVICE_NODE_FLAGS']), 'start',
    '--state-dir', stateDir, '--name', DEVICE_ID, '--profile', a.profile, '--log-level', 'info',
    '--fleet-key-file', fleetKeyFile, '--admin-public-key', b64(admin.publicKey),
    '--simulate-hardware', '--families', 'ipv4', '--interfaces', 'eth0',
  ];
  const argv = setup.cap ? setup.cap.wrap(deviceArgv) : deviceArgv;
  t0 = performance.timeOrigin + performance.now();
  tell({ cmd: 'start' });
  const device = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  setup.children.push(device);
  const pid = device.pid!;
  const output: string[] = [];
  let bootedAt = -1;
  const onLine = (line: string): void => {
    output.push(line);
    if (output.length > 400) output.splice(0, 100);
    if (!line.startsWith('ts=')) return;
    const f = parseLine(line);
    const t = now();
    if (bootedAt < 0) bootedAt = t;
    if ((f['event'] === 'member-joined' || f['event'] === 'member-restarted') && f['member']) figures.joined(t, f['member']);
    else if (f['event'] === 'member-status' && f['member'] && f['status']) figures.status(t, f['member'], f['status'], f['verdict'] !== f['previous_verdict']);
  };
  createInterface({ input: device.stdout! }).on('line', onLine);
  createInterface({ input: device.stderr! }).on('line', onLine);
  const deviceGone = (): boolean => device.exitCode !== null || device.signalCode !== null;
  const deadlineMs = a.deadline * 1000;
  const fail = (what: string): Error => new Error(`${what}\n--- device output (last lines)\n${output.slice(-30).join('\n')}`);

  // The update is watched on the device's own API, as a local program would.
  const apiUp = await waitFor(() => deviceGone() || existsSync(join(stateDir, 'murmur.sock')), deadlineMs);
  if (!apiUp || deviceGone()) throw fail(`the device did not serve its API within ${a.deadline} s`);
  const updates = watch(stateDir, UPDATER, 'sensor', (line) => {
    if (line.includes(UPDATE_VALUE)) figures.updateSeen(now());
  });

  const joined = await waitFor(() => deviceGone() || (figures.joinedAt >= 0 && figures.peersJoinedAt >= 0), deadlineMs);
  if (deviceGone()) throw fail('the device exited during the join');
  const missed: string[] = [];
  // A join past the deadline is a figure, not the end of the run: the rest still says what the device pays.
  if (!joined) {
    if (figures.joinedAt < 0) {
      missed.push('join');
      console.error(`bench:device: the device saw ${figures.seen} of ${ids.length} peers within ${a.deadline} s (missing ${figures.missing.slice(0, 10).join(' ')})`);
    }
    if (figures.peersJoinedAt < 0) missed.push('join-peers');
  }

  // 2. Steady window with the sensor workload on the peers; the device samples its own sensors.
  tell({ cmd: 'workload' });
  if (a.warmup > 0) await sleep(a.warmup * 1000);
  const p0 = await peerCounters();
  // Its own counters are asked for outside the window, so the asking is not in the figures.
  const s0 = await deviceStatus(stateDir);
  const d0 = readProc(pid);
  const thr0 = setup.cap?.throttled();
  const w0 = performance.now();
  await sleep(a.steady * 1000);
  const d1 = readProc(pid);
  const wallMs = performance.now() - w0;
  const thr1 = setup.cap?.throttled();
  const s1 = await deviceStatus(stateDir);
  const p1 = await peerCounters();
  tell({ cmd: 'quiet' });

  // 3. The workload stops; one peer changes its value.
  figures.updated(now());
  tell({ cmd: 'set', id: UPDATER, key: 'sensor', value: UPDATE_VALUE });
  if (!(await waitFor(() => figures.updateMs >= 0, deadlineMs))) {
    // Missed by the device, or only by the watch stream? The device's own store says which.
    const held = await api(stateDir, `/v1/kv/${encodeURIComponent(UPDATER)}`).catch((e: Error) => ({ status: 0, body: e.message }));
    const has = JSON.stringify(held.body).includes(UPDATE_VALUE);
    missed.push(has ? 'update-watch' : 'update');
    console.error(`bench:device: no watch event for ${UPDATER}'s update within ${a.deadline} s; the device ${has ? 'holds' : 'does not hold'} the new value (watch stream: ${updates.error ?? (updates.ended ? 'ended' : 'open')})`);
  }

  // 4. The last peer dies without a goodbye.
  const victim = ids[ids.length - 1]!;
  figures.killed(now(), victim);
  tell({ cmd: 'kill', id: victim });
  if (!(await waitFor(() => figures.detectMs >= 0, deadlineMs))) missed.push('detect');
  updates.stop();

  const status = (await api(stateDir, '/v1/status')).body as { core?: { stalls?: number }; rejected?: Record<string, number> };
  const sensors = (await api(stateDir, '/v1/sensors')).body as { sensors?: { overlapsSkipped?: number }[] };
  const thrEnd = setup.cap?.throttled();
  const secs = wallMs / 1000;
  const deadWhen = figures.deviceDeclaredDeadWhen;
  const out = {
    system: `murmur-${process.env['npm_package_version'] ?? 'dev'}`,
    scenario: 'device',
    profile: a.profile,
    n: a.nodes,
    loss: a.loss,
    workload_s: a.workload,
    steady_s: a.steady,
    warmup_s: a.warmup,
    cpu_cap: a.cpuCap ?? null,
    device_cpu_ms_per_s: round(cpuMsPerS(d0.cpuMs, d1.cpuMs, wallMs)),
    // System time is the network stack's share (sending, receiving, the loss rule at its door).
    device_system_ms_per_s: round(cpuMsPerS(d0.systemMs, d1.systemMs, wallMs)),
    peers_sent_to_device_per_s: round((p1.sentToDevice - p0.sentToDevice) / secs),
    device_received_per_s: round((s1.transport.receivedPackets - s0.transport.receivedPackets) / secs),
    device_sent_per_s: round((s1.transport.sentPackets - s0.transport.sentPackets) / secs),
    device_bytes_per_s: Math.round((s1.transport.sentBytes - s0.transport.sentBytes) / secs),
    device_rss_mb: round(d1.rssMb),
    device_rss_peak_mb: round(d1.hwmMb),
    device_boot_ms: round(bootedAt),
    join_converge_ms: round(figures.joinedAt),
    join_seen: figures.seen,
    peers_see_device_ms: round(figures.peersJoinedAt),
    update_ms: round(figures.updateMs),
    detect_ms: round(figures.detectMs),
    false_positives: figures.falsePositives,
    flaps: round(figures.flapsPerHour(now())),
    device_declared_dead_by: figures.deviceDeclaredDeadBy,
    device_suspicions: figures.deviceSuspicions,
    // Times from the device's start: deaths at its join differ in cause from deaths later on.
    device_declared_dead_first_ms: deadWhen ? round(deadWhen.firstMs) : null,
    device_declared_dead_last_ms: deadWhen ? round(deadWhen.lastMs) : null,
    device_stalls: status.core?.stalls ?? 0,
    device_stalls_in_window: (s1.core.stalls ?? 0) - (s0.core.stalls ?? 0),
    sensor_samples_skipped: (sensors.sensors ?? []).reduce((s, x) => s + (x.overlapsSkipped ?? 0), 0),
    missed_deadlines: missed,
    ...(setup.cap && thr0 && thr1 && thrEnd
      ? {
          cap_mechanism: setup.cap.mechanism,
          cap_throttled_periods_pct: round((100 * (thr1.throttledPeriods - thr0.throttledPeriods)) / Math.max(1, thr1.periods - thr0.periods)),
          cap_throttled_ms_whole_run: Math.round(thrEnd.throttledMs),
        }
      : {}),
    peers_cpu_ms_per_s: round((p1.cpuUs - p0.cpuUs) / 1000 / secs),
    peers_signature_checks_per_s: round((p1.checks - p0.checks) / secs),
    device_multicasts_per_s: round((p1.groupReceived - p0.groupReceived) / secs),
    device_rejected: status.rejected ?? {},
    peers_rejected: p1.refused,
    seed: a.seed,
  };
  if (figures.falsePositives > 0) console.error(figures.falsePositiveLog.slice(0, 10).join('\n'));
  tell({ cmd: 'stop' });
  device.kill('SIGTERM');
  await Promise.race([new Promise((r) => device.once('exit', r)), sleep(5000)]);
  await Promise.race([new Promise((r) => peers.once('exit', r)), sleep(5000)]);
  return out;
}

async function main(): Promise<void> {
  const a = parseDeviceArgs(process.argv.slice(2));
  if (a.peers) return runPeers(a);
  const out = await runBench(a);
  console.log(JSON.stringify(out));
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(`bench:device: ${(e as Error).message}`);
  process.exit(1);
});
