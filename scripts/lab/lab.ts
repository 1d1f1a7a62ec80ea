// The fleet lab: a virtual LAN on this machine. A hub namespace holds a Linux bridge; each node
// gets its own namespace, a veth cable to the bridge, private addresses (10.77.0.0/24 and
// fd77::/64) and a real `murmur start` process. The lab can add loss per node (nft, numgen
// random), cut and restore a node's cable, kill -9 a node and restart it with the same state
// directory, and plug in hosts that run no murmur: an outsider attacking the fleet from the
// LAN (outsider.ts), or a source for datagrams a test sealed itself, as an insider holding the
// fleet key would (injector.ts). Everything it creates carries its tag and is removed by
// destroy(), by an exit handler, or by `lab clean` after a run that was killed outright.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseLine } from '../../runtime/log/log.js';
import { generateFleetKey } from '../../runtime/agent/keyring-store.js';
import { deleteNamespace, ip, namespaces } from '../netns.js';
import type { OutsiderReport } from './outsider.js';

/** The lab's outsider (scripts/lab/outsider.ts), built, run with this process's Node. */
const OUTSIDER = join(repoRoot(), 'dist/scripts/lab/outsider.js');
/** The lab's injector (scripts/lab/injector.ts): sends datagrams a test built, from a lab host. */
const INJECTOR = join(repoRoot(), 'dist/scripts/lab/injector.js');
/** Where the nodes listen: murmur's default group and ports, which the lab does not change. */
const GROUP = '239.255.77.77:7477';

/** The built CLI, found from the repository root whether this file runs from source or from dist/; MURMUR_LAB_BIN overrides it (to compare builds or Node flags). */
const BIN = process.env['MURMUR_LAB_BIN'] ?? join(repoRoot(), 'dist/runtime/cli/bin.js');

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('lab: cannot find the repository root (package.json) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}
const PREFIX = 'mlab';

export interface LabOptions {
  readonly nodes: number;
  /** Extra `murmur start` arguments for every node, e.g. ["--families", "ipv6"]. */
  readonly args?: readonly string[];
  /** Per-node extra arguments, after `args`. */
  readonly nodeArgs?: (i: number, lab: Lab) => readonly string[];
  /** Keep IGMP/MLD snooping on the bridge (off by default: a plain switch). */
  readonly snooping?: boolean;
  readonly logLevel?: 'debug' | 'info';
  /** Called after the LAN is built and before any node starts (faults present from boot). */
  readonly beforeStart?: (lab: Lab) => void;
  /**
   * Node i's hardware: a fake /sys tree to find under this root (--hal-root). Without it every
   * node simulates its LEDs and sensors, so a lab on a Pi never fights over the board's LED.
   */
  readonly halRoot?: (i: number) => string;
  /** Extra environment for node i's process (e.g. LD_PRELOAD of libfaketime to step its wall clock). */
  readonly nodeEnv?: (i: number, lab: Lab) => Record<string, string>;
}

export interface LabEvent {
  /** Milliseconds since the lab started (this process's clock). */
  readonly t: number;
  readonly fields: Record<string, string>;
}

/** A machine on the lab's LAN that runs no murmur: its namespace and address. */
export interface LabHost {
  readonly name: string;
  readonly ns: string;
  readonly ipv4: string;
}

interface LabNode {
  readonly name: string;
  readonly ns: string;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly stateDir: string;
  proc: ChildProcess | undefined;
  readonly events: LabEvent[];
  readonly output: string[];
}

export class Lab {
  readonly tag: string;
  readonly hub: string;
  readonly dir: string;
  readonly nodes: LabNode[] = [];
  readonly hosts: LabHost[] = [];
  readonly #opts: LabOptions;
  readonly #t0 = performance.now();
  #destroyed = false;
  readonly #exitHook = (): void => this.destroySync();
  // On Ctrl-C or SIGTERM: clean up, then let the signal do what it would have done.
  readonly #signalHook = (sig: NodeJS.Signals): void => {
    this.destroySync();
    process.kill(process.pid, sig);
  };

  private constructor(opts: LabOptions) {
    this.#opts = opts;
    this.tag = `${PREFIX}${process.pid}_${Math.floor(Math.random() * 1e4)}`;
    this.hub = `${this.tag}-hub`;
    this.dir = mkdtempSync(join(tmpdir(), `${this.tag}-`));
  }

  /** Build the LAN and start every node. */
  static async create(opts: LabOptions): Promise<Lab> {
    const lab = new Lab(opts);
    process.on('exit', lab.#exitHook);
    process.once('SIGINT', lab.#signalHook);
    process.once('SIGTERM', lab.#signalHook);
    try {
      lab.#build();
      opts.beforeStart?.(lab);
      for (let i = 0; i < opts.nodes; i++) lab.start(i);
    } catch (e) {
      lab.destroySync();
      throw e;
    }
    return lab;
  }

  get now(): number {
    return performance.now() - this.#t0;
  }

  name(i: number): string {
    return this.#node(i).name;
  }

  address(i: number, family: 'ipv4' | 'ipv6' = 'ipv4', port = 7478): string {
    const n = this.#node(i);
    return family === 'ipv4' ? `${n.ipv4}:${port}` : `[${n.ipv6}]:${port}`;
  }

  #node(i: number): LabNode {
    const n = this.nodes[i];
    if (!n) throw new Error(`lab: no node ${i} (the lab has ${this.nodes.length})`);
    return n;
  }

  /** The lab fleet's key, written at build time like a flashed image's key file. */
  get fleetKeyFile(): string {
    return join(this.dir, 'fleet.key');
  }

  #build(): void {
    writeFileSync(this.fleetKeyFile, generateFleetKey() + '\n', { mode: 0o600 });
    ip(['netns', 'add', this.hub]);
    ip(['-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge']);
    const snoop = this.#opts.snooping ? '1' : '0';
    ip(['-n', this.hub, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', snoop]);
    ip(['-n', this.hub, 'link', 'set', 'br0', 'up']);
    for (let i = 0; i < this.#opts.nodes; i++) {
      const name = `n${i}`;
      const ns = `${this.tag}-${name}`;
      const node: LabNode = {
        name,
        ns,
        ipv4: `10.77.0.${10 + i}`,
        ipv6: `fd77::${(10 + i).toString(16)}`,
        stateDir: join(this.dir, name),
        proc: undefined,
        events: [],
        output: [],
      };
      this.nodes.push(node);
      mkdirSync(node.stateDir, { recursive: true });
      ip(['netns', 'add', ns]);
      ip(['-n', this.hub, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ip(['-n', this.hub, 'link', 'set', `v${i}`, 'master', 'br0', 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      ip(['-n', ns, 'addr', 'add', `${node.ipv4}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'addr', 'add', `${node.ipv6}/64`, 'dev', 'eth0', 'nodad']);
    }
  }

  /**
   * Plug another machine into the lab's bridge, one that runs no murmur (an outsider, a
   * sniffer): its own namespace and cable, address 10.77.0.200 and up, no route anywhere else.
   * It goes away with the lab.
   */
  addHost(name: string): LabHost {
    const k = this.hosts.length;
    const host: LabHost = { name, ns: `${this.tag}-${name}`, ipv4: `10.77.0.${200 + k}` };
    if (this.nodes.some((n) => n.name === name) || this.hosts.some((h) => h.name === name)) throw new Error(`lab: "${name}" is already taken`);
    this.hosts.push(host);
    ip(['netns', 'add', host.ns]);
    ip(['-n', this.hub, 'link', 'add', `h${k}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
    ip(['-n', this.hub, 'link', 'set', `h${k}`, 'master', 'br0', 'up']);
    ip(['-n', host.ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
    ip(['-n', host.ns, 'addr', 'add', `${host.ipv4}/24`, 'dev', 'eth0']);
    return host;
  }

  /**
   * Run the outsider (scripts/lab/outsider.ts) on `host` for `seconds` against every node's
   * IPv4 address and the group: random bytes, plaintext murmur, forged and replayed frames.
   * Resolves with what it sent and sniffed.
   */
  async outsider(host: LabHost, seconds: number): Promise<OutsiderReport> {
    const args = [
      'netns', 'exec', host.ns, process.execPath, OUTSIDER,
      '--local', host.ipv4, '--seconds', String(seconds),
      '--targets', this.nodes.map((n) => n.ipv4).join(','), '--names', this.nodes.map((n) => n.name).join(','),
    ];
    const r = await runInNamespace(args);
    if (r.code !== 0) throw new Error(`lab: outsider on ${host.name} exited ${r.code}: ${r.err.trim()}`);
    try {
      return JSON.parse(r.out.trim().split('\n').pop()!) as OutsiderReport;
    } catch {
      throw new Error(`lab: outsider on ${host.name} printed no report: ${r.out.trim()} ${r.err.trim()}`);
    }
  }

  /**
   * Send each datagram once, in order, from `host`: to node i's unicast port or to the group.
   * The bytes are the caller's (an insider test seals them with the fleet key); this gives them
   * a source on the LAN. Resolves once all are on the wire.
   */
  async inject(host: LabHost, datagrams: readonly { readonly to: number | 'group'; readonly bytes: Uint8Array }[]): Promise<void> {
    const lines = datagrams.map((d) => `${d.to === 'group' ? GROUP : this.address(d.to)} ${Buffer.from(d.bytes).toString('hex')}\n`).join('');
    const r = await runInNamespace(['netns', 'exec', host.ns, process.execPath, INJECTOR, '--local', host.ipv4], lines);
    const sent = /"sent":(\d+)/.exec(r.out)?.[1];
    if (r.code === 0 && Number(sent) === datagrams.length) return;
    throw new Error(`lab: injector on ${host.name} exited ${r.code} having sent ${sent ?? 'nothing'} of ${datagrams.length}: ${r.err.trim()}`);
  }

  /** Start (or restart) node i's murmur process with its state directory. */
  start(i: number, extraArgs: readonly string[] = []): void {
    const n = this.#node(i);
    if (n.proc && n.proc.exitCode === null && n.proc.signalCode === null) throw new Error(`lab: ${n.name} is already running`);
    const args = [
      // The CLI itself, through its interpreter line, so the lab runs nodes exactly as an
      // installed `murmur` runs (same Node flags and environment).
      'netns', 'exec', n.ns, BIN, 'start',
      '--state-dir', n.stateDir, '--name', n.name, '--log-level', this.#opts.logLevel ?? 'debug',
      '--fleet-key-file', this.fleetKeyFile,
      ...(this.#opts.halRoot ? ['--hal-root', this.#opts.halRoot(i)] : ['--simulate-hardware']),
      ...(this.#opts.args ?? []), ...(this.#opts.nodeArgs?.(i, this) ?? []), ...extraArgs,
    ];
    const env = this.#opts.nodeEnv ? { ...process.env, ...this.#opts.nodeEnv(i, this) } : process.env;
    const proc = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    proc.on('error', (e) => n.output.push(`lab: could not run ip netns exec for ${n.name}: ${e.message}`));
    n.proc = proc;
    const onLine = (line: string): void => {
      n.output.push(line);
      if (n.output.length > 5000) n.output.splice(0, 1000);
      if (line.startsWith('ts=')) n.events.push({ t: this.now, fields: parseLine(line) });
    };
    createInterface({ input: proc.stdout! }).on('line', onLine);
    createInterface({ input: proc.stderr! }).on('line', onLine);
  }

  /** kill -9: no leave, no flush. */
  kill(i: number): void {
    this.#node(i).proc?.kill('SIGKILL');
  }

  /** SIGTERM: a graceful leave. Resolves when the process has exited. */
  async stop(i: number): Promise<number | null> {
    const p = this.#node(i).proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    const done = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill('SIGTERM');
    return done;
  }

  /**
   * SIGSTOP or SIGCONT node i: a device frozen whole, as by an SD card stall or a starved CPU.
   * `ip netns exec` execs the node in place, so the child is the node itself.
   */
  freeze(i: number, frozen = true): void {
    this.#node(i).proc?.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  running(i: number): boolean {
    const p = this.#node(i).proc;
    return !!p && p.exitCode === null && p.signalCode === null;
  }

  /** Unplug node i's cable (its side stays up, as when a switch port or the Wi-Fi link dies). */
  cut(i: number): void {
    ip(['-n', this.hub, 'link', 'set', `v${i}`, 'down']);
  }

  restore(i: number): void {
    ip(['-n', this.hub, 'link', 'set', `v${i}`, 'up']);
  }

  /**
   * Drop this fraction of the UDP datagrams arriving at node i, and with `bothWays` also of
   * those it sends, each way drawn independently (0 removes the rules).
   */
  setLoss(i: number, p: number, bothWays = false): void {
    const rule = `meta l4proto udp numgen random mod 100 < ${Math.round(p * 100)} drop`;
    const chains = [`chain input {\n  type filter hook input priority 0; policy accept;\n  ${rule}\n }`];
    if (bothWays) chains.push(`chain output {\n  type filter hook output priority 0; policy accept;\n  ${rule}\n }`);
    this.#nft(i, 'murmurloss', p <= 0 ? undefined : chains.join('\n '));
  }

  /**
   * The group stops reaching node i, both ways, while unicast still works: what Wi-Fi client
   * isolation or IGMP snooping without a querier does to a device.
   */
  blockMulticast(i: number, blocked = true, direction: 'both' | 'in' | 'out' = 'both'): void {
    const drop = 'ip daddr 224.0.0.0/4 drop\n  ip6 daddr ff00::/8 udp dport != 546 drop';
    const chains: string[] = [];
    if (direction !== 'out') chains.push(`chain input {\n  type filter hook input priority 0; policy accept;\n  ${drop}\n }`);
    if (direction !== 'in') chains.push(`chain output {\n  type filter hook output priority 0; policy accept;\n  ${drop}\n }`);
    this.#nft(i, 'murmurmcast', blocked ? chains.join('\n ') : undefined);
  }

  /** Add an address (CIDR) to node i's interface `dev`, as a DHCP renew or a second lease does. */
  addAddress(i: number, cidr: string, dev = 'eth0'): void {
    const ns = this.#node(i).ns;
    // The new address is a secondary one until the old one goes; without this the kernel
    // removes every secondary address in the subnet together with the primary.
    const r = spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv4.conf.${dev}.promote_secondaries=1`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`lab: sysctl promote_secondaries in ${ns}: ${(r.stderr || r.error?.message || 'failed').trim()}`);
    ip(['-n', ns, 'addr', 'add', cidr, 'dev', dev]);
  }

  removeAddress(i: number, cidr: string, dev = 'eth0'): void {
    ip(['-n', this.#node(i).ns, 'addr', 'del', cidr, 'dev', dev]);
  }

  /**
   * Give node i a second cable to the bridge, named `dev` on its side and up, with no address:
   * the other interface of a Pi with both eth0 and wlan0.
   */
  addInterface(i: number, dev: string): void {
    const n = this.#node(i);
    const hubSide = `w${i}${dev}`.slice(0, 15);
    ip(['-n', this.hub, 'link', 'add', hubSide, 'type', 'veth', 'peer', 'name', dev, 'netns', n.ns]);
    ip(['-n', this.hub, 'link', 'set', hubSide, 'master', 'br0', 'up']);
    ip(['-n', n.ns, 'link', 'set', dev, 'up']);
  }

  /** Take node i's own interface down or up (a Pi whose network comes up after murmur starts). */
  setLink(i: number, up: boolean, dev = 'eth0'): void {
    ip(['-n', this.#node(i).ns, 'link', 'set', dev, up ? 'up' : 'down']);
  }

  /** Node i hears nothing from node j (j's datagrams are dropped on arrival at i); `false` undoes it. */
  deafTo(i: number, j: number, deaf = true): void {
    this.#nft(i, 'murmurdeaf', deaf ? `chain input {\n  type filter hook input priority 0; policy accept;\n  ip saddr ${this.nodes[j]!.ipv4} meta l4proto udp drop\n }` : undefined);
  }

  #nft(i: number, table: string, chains: string | undefined): void {
    const ns = this.#node(i).ns;
    spawnSync('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', table], { stdio: 'ignore' });
    if (chains === undefined) return;
    const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: `table inet ${table} {\n ${chains}\n}\n`, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`lab: nft in ${ns}: ${(r.stderr || r.error?.message || 'failed').trim()} (is the nftables package installed?)`);
  }

  /** Events node i has logged, optionally only those matching `fields`. */
  events(i: number, fields: Record<string, string> = {}): LabEvent[] {
    return this.#node(i).events.filter((e) => Object.entries(fields).every(([k, v]) => e.fields[k] === v));
  }

  /** Node i's process id while it runs. */
  pid(i: number): number | undefined {
    return this.running(i) ? this.#node(i).proc!.pid : undefined;
  }

  output(i: number): string {
    return this.#node(i).output.join('\n');
  }

  /** Poll `cond` every 50 ms until it holds; throws after `ms`, with `what` and the elapsed time. */
  async waitFor(what: string, ms: number, cond: () => boolean | Promise<boolean>): Promise<number> {
    const start = this.now;
    for (;;) {
      if (await cond()) return this.now - start;
      if (this.now - start > ms) throw new Error(`lab: ${what} did not happen within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Run the `murmur` CLI against node i's local API (e.g. ["members", "--explain"]). */
  murmur(i: number, args: readonly string[]): Promise<{ code: number | null; out: string; err: string }> {
    return runProgram(BIN, [...args, '--socket', join(this.#node(i).stateDir, 'murmur.sock')]);
  }

  /** Call node i's local API. */
  api(i: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const socketPath = join(this.#node(i).stateDir, 'murmur.sock');
    return new Promise((resolvePromise, reject) => {
      const req = request({ socketPath, method, path, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // Left as text.
          }
          resolvePromise({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('error', reject);
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });
  }

  /** Members node i lists, as id -> status (empty when its API is not up). */
  async members(i: number): Promise<Map<string, { status: string; gen: number }>> {
    try {
      const r = await this.api(i, 'GET', '/v1/members');
      if (r.status !== 200 || !Array.isArray(r.body)) return new Map();
      return new Map((r.body as { id: string; status: string; gen: number }[]).map((m) => [m.id, { status: m.status, gen: m.gen }]));
    } catch {
      return new Map();
    }
  }

  /** True when every node in `ids` lists every other one in `ids` as alive. */
  async allAlive(ids: readonly number[] = this.nodes.map((_, i) => i)): Promise<boolean> {
    for (const i of ids) {
      const ms = await this.members(i);
      for (const j of ids) if (j !== i && ms.get(this.name(j))?.status !== 'alive') return false;
    }
    return true;
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    const exits = this.nodes
      .filter((n) => n.proc && n.proc.exitCode === null && n.proc.signalCode === null)
      .map((n) => new Promise((r) => n.proc!.once('exit', r)));
    for (const n of this.nodes) n.proc?.kill('SIGKILL');
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 3000))]);
    this.destroySync();
  }

  /** Remove everything synchronously (also from an exit handler). */
  destroySync(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    process.off('exit', this.#exitHook);
    process.off('SIGINT', this.#signalHook);
    process.off('SIGTERM', this.#signalHook);
    for (const n of this.nodes) n.proc?.kill('SIGKILL');
    for (const ns of namespaces()) if (ns.startsWith(`${this.tag}-`)) deleteNamespace(ns);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Remove lab namespaces whose creating process is gone (a run killed with SIGKILL). */
export function cleanStaleLabs(all = false): string[] {
  const removed: string[] = [];
  for (const ns of namespaces()) {
    const m = /^mlab(\d+)_\d+-/.exec(ns);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (all || !alive) {
      deleteNamespace(ns);
      removed.push(ns);
    }
  }
  return removed;
}

/**
 * Run `ip` with `args` (a program in a lab namespace) to its end, feeding it `input` when
 * given, and collect what it printed.
 */
function runInNamespace(args: readonly string[], input?: string): Promise<{ code: number | null; out: string; err: string }> {
  return runProgram('ip', args, input);
}

/** Run `program` to its end, feeding it `input` when given, and collect what it printed. */
function runProgram(program: string, args: readonly string[], input?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(program, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
    proc.on('error', reject);
    proc.on('exit', (code) => resolvePromise({ code, out, err }));
    if (input !== undefined) proc.stdin!.end(input);
  });
}
