// What Prometheus scraping costs one node, in figures:
//   npm run bench:scrape [-- --peers 4 --idle-s 60 --interval-s 15 --scrapes 40]
// Starts real `murmur start` processes on loopback (multicast off, simulated hardware): one node
// with metrics enabled and `--peers` others seeded to it, so its metrics describe a fleet. Then,
// reading that node's CPU time and RSS from /proc:
// 1. idle for --idle-s seconds with metrics enabled and nobody scraping;
// 2. the same time scraped every --interval-s seconds, as Prometheus does;
// 3. --scrapes scrapes 1.1 s apart (each one a fresh collection: results are shared for 1 s),
//    to measure one scrape's CPU above the idle rate, finer than the 10 ms ticks /proc counts in.
// During phase 1 a peer (metrics off, otherwise the same) is measured too, for what enabling
// metrics costs a node nobody scrapes. Last, in this process and to the microsecond: the CPU of
// one collection of a simulated node's registry (5 members, 3 sensors, process metrics on).
// Prints a table; state directories are temporary.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { numberArg } from './bench-args.js';
import { profileByName } from '../runtime/core/profiles.js';
import { NodeMetrics } from '../runtime/metrics/registry.js';
import { newCounters } from '../runtime/net/transport.js';
import { Fleet } from '../runtime/sim/fleet.js';

const USAGE = 'usage: bench-scrape [--peers N] [--idle-s S] [--interval-s S] [--scrapes N]';
const BIN = join(import.meta.dirname, '../runtime/cli/bin.js');
/** Linux counts process CPU time in ticks of 1/100 s (CLK_TCK). */
const TICK_MS = 10;

interface Args {
  peers: number;
  idleS: number;
  intervalS: number;
  scrapes: number;
}

function parse(argv: readonly string[]): Args {
  const a: Args = { peers: 4, idleS: 60, intervalS: 15, scrapes: 40 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const num = (): number => numberArg(flag, argv[++i]);
    switch (flag) {
      case '--peers': a.peers = num(); break;
      case '--idle-s': a.idleS = num(); break;
      case '--interval-s': a.intervalS = num(); break;
      case '--scrapes': a.scrapes = num(); break;
      default: throw new Error(`unknown option ${flag}; ${USAGE}`);
    }
  }
  if (!Number.isInteger(a.peers) || a.peers < 0 || a.peers > 32) throw new Error(`--peers: expected an integer 0-32, got ${a.peers}`);
  if (!(a.idleS >= 15)) throw new Error(`--idle-s: expected at least 15 seconds, got ${a.idleS}`);
  if (!(a.intervalS >= 1.1)) throw new Error(`--interval-s: expected at least 1.1 seconds (scrapes within 1 s share one collection), got ${a.intervalS}`);
  if (!Number.isInteger(a.scrapes) || a.scrapes < 5) throw new Error(`--scrapes: expected an integer >= 5, got ${a.scrapes}`);
  return a;
}

interface Running {
  readonly proc: ChildProcess;
  readonly state: string;
  log: string;
}

function startNode(dir: string, name: string, extra: readonly string[]): Running {
  const state = join(dir, name);
  const proc = spawn(process.execPath, ['--expose-gc', BIN, 'start', '--state-dir', state, '--name', name, '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r: Running = { proc, state, log: '' };
  proc.stdout!.on('data', (c: Buffer) => (r.log = (r.log + c.toString()).slice(-20_000)));
  proc.stderr!.on('data', (c: Buffer) => (r.log = (r.log + c.toString()).slice(-20_000)));
  return r;
}

function get(socketPath: string, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch {
      // Not up yet.
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** CPU ms (user + system) and RSS MB of a process, from /proc. */
function usage(pid: number): { cpuMs: number; rssMb: number } {
  // Fields after the command name (which is in parentheses and may hold spaces).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = (Number(f[11]) + Number(f[12])) * TICK_MS;
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuMs, rssMb: Number(rss?.[1] ?? NaN) / 1024 };
}

interface Phase {
  readonly name: string;
  readonly seconds: number;
  readonly cpuMsPerS: number;
  readonly rssMb: number;
  readonly scrapes: number;
}

async function phase(name: string, pid: number, seconds: number, every: number | undefined, scrape: () => Promise<number>): Promise<Phase> {
  const start = usage(pid);
  const t0 = performance.now();
  let scrapes = 0;
  let rssMax = start.rssMb;
  while (performance.now() - t0 < seconds * 1000) {
    if (every !== undefined) {
      await scrape();
      scrapes++;
    }
    const next = every === undefined ? 1000 : every * 1000;
    const left = seconds * 1000 - (performance.now() - t0);
    await sleep(Math.max(0, Math.min(next, left)));
    rssMax = Math.max(rssMax, usage(pid).rssMb);
  }
  const end = usage(pid);
  const elapsedS = (performance.now() - t0) / 1000;
  return { name, seconds: elapsedS, cpuMsPerS: (end.cpuMs - start.cpuMs) / elapsedS, rssMb: rssMax, scrapes };
}

/** CPU µs (user + system) of one collection and its text, averaged over `n`, in this process. */
async function inProcess(n: number): Promise<{ cpuUs: number; bytes: number }> {
  const fleet = new Fleet({ seed: 1, nodes: 5, profile: profileByName('lan') });
  fleet.start();
  fleet.runFor(10_000);
  const q = (quantity: string, value: number, unit: string): { quantity: string; value: number; unit: string } => ({ quantity, value, unit });
  const sensor = (name: string, quantities: ReturnType<typeof q>[]) => ({ name, type: 'simulated', schedule: '*/30 * * * * *', state: 'ok' as const, lastReadAt: 0, quantities, error: null, counts: { reads: 1, failures: 0, timeouts: 0, overlapsSkipped: 0, published: 1, suppressed: 0 } });
  const m = new NodeMetrics(
    {
      node: fleet.node('n000'),
      host: fleet.host('n000'),
      transport: newCounters(),
      clock: () => 0,
      channel: { dropped: new Map([['replayed', 1]]) },
      gate: { refused: new Map() },
      keyring: () => ({ states: ['active'], pendingPromotions: 0, offersReceived: 0, offersRejected: 0 }),
      sensors: () => [sensor('env', [q('temperature', 21.5, '°C'), q('humidity', 45, '%RH'), q('pressure', 1013, 'hPa')]), sensor('load', [q('load1', 0.2, 'load')]), sensor('memory', [q('used', 40, '%'), q('available', 200, 'MB')])],
      led: () => 'healthy',
    },
    { peerLabels: false, maxPeers: 32, processMetrics: true },
  );
  let bytes = 0;
  for (let i = 0; i < 50; i++) await m.scrape();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) bytes = (await m.scrape()).text.length;
  const c = process.cpuUsage(c0);
  m.close();
  return { cpuUs: (c.user + c.system) / n, bytes };
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'murmur-bench-scrape-'));
  const nodes: Running[] = [];
  try {
    const config = join(dir, 'metrics.yaml');
    writeFileSync(config, 'metrics:\n  enabled: true\n');
    const key = join(dir, 'fleet.key');
    writeFileSync(key, `${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}\n`);
    const node = startNode(dir, 'scraped', ['--config', config, '--fleet-key-file', key]);
    nodes.push(node);
    const sock = join(node.state, 'murmur.sock');
    const addr = await until(`the scraped node to serve (log: ${node.log})`, async () => {
      const r = await get(sock, '/v1/status');
      return r.status === 200 ? String((JSON.parse(r.text) as { addr: string }).addr) : undefined;
    }, 20_000);
    for (let i = 0; i < a.peers; i++) nodes.push(startNode(dir, `peer${i}`, ['--fleet-key-file', key, '--seed', addr]));
    await until(`${a.peers} peers alive`, async () => {
      const r = await get(sock, '/metrics');
      return new RegExp(`^murmur_members\\{status="alive"\\} ${a.peers}$`, 'm').test(r.text) ? true : undefined;
    }, 60_000);
    // Past the start-up: joins, the first sensor reads, the JIT warming the scrape path.
    for (let i = 0; i < 5; i++) {
      await get(sock, '/metrics');
      await sleep(1100);
    }
    await sleep(5_000);
    const pid = node.proc.pid!;
    let bytes = 0;
    const latencies: number[] = [];
    const scrape = async (): Promise<number> => {
      const t = performance.now();
      const r = await get(sock, '/metrics');
      latencies.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`scrape: HTTP ${r.status}: ${r.text}`);
      bytes = r.text.length;
      return r.text.length;
    };
    const peer = nodes[1]?.proc.pid;
    const peerStart = peer === undefined ? undefined : usage(peer);
    const idle = await phase('metrics on, not scraped', pid, a.idleS, undefined, scrape);
    const peerEnd = peer === undefined ? undefined : usage(peer);
    const scraped = await phase(`scraped every ${a.intervalS} s`, pid, a.idleS, a.intervalS, scrape);
    latencies.length = 0;
    const burst = await phase(`${a.scrapes} scrapes, 1.1 s apart`, pid, a.scrapes * 1.1, 1.1, scrape);
    const perScrapeMs = ((burst.cpuMsPerS - idle.cpuMsPerS) * burst.seconds) / burst.scrapes;
    latencies.sort((x, y) => x - y);
    const series = (await get(sock, '/metrics')).text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;

    console.log(`node ${process.version}, ${a.peers} peers, exposition ${bytes} bytes, ${series} series`);
    console.log('| phase | seconds | scrapes | CPU ms/s | RSS MB (max) |');
    console.log('|---|---|---|---|---|');
    for (const p of [idle, scraped, burst]) console.log(`| ${p.name} | ${p.seconds.toFixed(0)} | ${p.scrapes} | ${p.cpuMsPerS.toFixed(2)} | ${p.rssMb.toFixed(1)} |`);
    if (peerStart && peerEnd) {
      console.log(`| a peer, metrics off, same time as the first phase | ${idle.seconds.toFixed(0)} | 0 | ${((peerEnd.cpuMs - peerStart.cpuMs) / idle.seconds).toFixed(2)} | ${peerEnd.rssMb.toFixed(1)} |`);
    }
    console.log(`one scrape: ${perScrapeMs.toFixed(2)} ms CPU above idle, latency median ${latencies[latencies.length >> 1]!.toFixed(1)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms`);
    console.log(`a scrape every ${a.intervalS} s: ${(perScrapeMs / a.intervalS).toFixed(3)} CPU ms/s (from the per-scrape figure)`);
    const ip = await inProcess(1000);
    console.log(`in process, 1000 collections of a simulated node's registry (${ip.bytes} bytes): ${(ip.cpuUs / 1000).toFixed(3)} CPU ms each, so ${(ip.cpuUs / 1000 / a.intervalS).toFixed(4)} CPU ms/s at one scrape every ${a.intervalS} s`);
  } finally {
    for (const n of nodes) n.proc.kill('SIGTERM');
    await Promise.all(nodes.map((n) => new Promise<void>((r) => (n.proc.exitCode !== null ? r() : n.proc.once('exit', () => r())))));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exitCode = 1;
});
