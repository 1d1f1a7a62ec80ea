// A fleet of real `murmur start` processes on this machine's loopback, with simulated hardware:
// what `npm run demo` runs, and what the browser test and the page benchmark run against. One
// fleet key, no multicast (the nodes find each other through the first node as seed), sensors
// sampled every few seconds so the page has something to plot, and the fleet page on the first
// node.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateFleetKey } from '../runtime/agent/keyring-store.js';

// The built CLI, whether this file runs built (dist/scripts) or from source in a test.
const BIN = fileURLToPath(new URL(import.meta.url.includes('/dist/scripts/') ? '../runtime/cli/bin.js' : '../dist/runtime/cli/bin.js', import.meta.url));
/** The flags bin.js's interpreter line gives node, read from it, so each process is the one a device runs. */
function nodeFlags(): string[] {
  const line = readFileSync(BIN, 'utf8').split('\n', 1)[0]!;
  const at = line.indexOf(' node ');
  if (!line.startsWith('#!') || at < 0) throw new Error(`local-fleet: ${BIN} has no "node" interpreter line: ${line}`);
  return line.slice(at + ' node '.length).trim().split(/\s+/);
}

export interface LocalFleetOptions {
  readonly nodes: number;
  /** The fleet page's listen address on the first node ("127.0.0.1:0": any free port). */
  readonly http: string;
  /** Cron expression for the simulated sensors (default every 5 s). */
  readonly schedule?: string;
  /** Where the state directories go; a fresh temporary directory (removed on stop) by default. */
  readonly dir?: string;
  /** Names the nodes get: prefix-1, prefix-2... */
  readonly prefix?: string;
}

export interface LocalNode {
  readonly name: string;
  readonly stateDir: string;
  readonly proc: ChildProcess;
  /** Everything the node has logged so far. */
  readonly log: () => string;
  /** Its unicast address, once it logged it. */
  addr: string;
}

export interface LocalFleet {
  readonly nodes: readonly LocalNode[];
  readonly dir: string;
  /** The page's address on the first node, and the same with its token (Identify works from it). */
  readonly url: string;
  readonly urlWithToken: string;
  readonly token: string;
  /** Stops every node as a service manager does (SIGTERM, so they leave), then removes the directory it made. */
  stop(): Promise<void>;
}

export async function startLocalFleet(o: LocalFleetOptions): Promise<LocalFleet> {
  const made = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'murmur-fleet-'));
  const keyFile = join(dir, 'fleet.key');
  writeFileSync(keyFile, generateFleetKey() + '\n', { mode: 0o600 });
  const prefix = o.prefix ?? 'pi';
  const nodes: LocalNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => stopNode(n)));
    if (made) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 1; i <= o.nodes; i++) {
      const name = `${prefix}-${i}`;
      const stateDir = join(dir, name);
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      const config = join(dir, `${name}.yaml`);
      writeFileSync(
        config,
        [
          'node:',
          `  name: ${name}`,
          `  stateDir: ${JSON.stringify(stateDir)}`,
          '  fleet: demo',
          'network:',
          '  multicast: false',
          '  families: [ipv4]',
          '  interfaces: [lo]',
          '  port: 0',
          ...(i === 1 ? [] : ['  seeds:', `    - ${JSON.stringify(nodes[0]!.addr)}`]),
          'security:',
          `  fleetKeyFile: ${JSON.stringify(keyFile)}`,
          'hal:',
          '  simulate: true',
          '  sampling:',
          `    schedule: ${JSON.stringify(o.schedule ?? '*/5 * * * * *')}`,
          '    spreadS: 2',
          ...(i === 1 ? ['http:', `  listen: ${JSON.stringify(o.http)}`] : []),
          '',
        ].join('\n'),
      );
      const node = spawnNode(name, stateDir, config);
      nodes.push(node);
      node.addr = await fromLog(node, /event=node-starting .*addr=(\S+)/);
    }
    const url = await fromLog(nodes[0]!, /event=fleet-page url=(\S+)/);
    const token = readFileSync(join(nodes[0]!.stateDir, 'page-token'), 'utf8').trim();
    return { nodes, dir, url, urlWithToken: `${url}#token=${token}`, token, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Nodes still running: whatever ends this process, none outlives it. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

function spawnNode(name: string, stateDir: string, config: string): LocalNode {
  const proc = spawn(process.execPath, [...nodeFlags(), BIN, 'start', '--config', config], {
    env: { ...process.env, MALLOC_ARENA_MAX: '2' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C at the terminal reaches the demo alone, which then stops
    // each node once (a second signal would make a node skip its goodbye).
    detached: true,
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let log = '';
  proc.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  return { name, stateDir, proc, log: () => log, addr: '' };
}

/** The first group of `re` in the node's log, once it appears; fails if the node exits first. */
function fromLog(node: LocalNode, re: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const end = Date.now() + timeoutMs;
    const check = (): void => {
      const m = re.exec(node.log());
      if (m) return resolve(m[1]!);
      if (node.proc.exitCode !== null || node.proc.signalCode !== null) return reject(new Error(`${node.name} exited before logging ${re}: ${node.log()}`));
      if (Date.now() > end) return reject(new Error(`${node.name}: no ${re} in its log after ${timeoutMs} ms: ${node.log()}`));
      setTimeout(check, 50);
    };
    check();
  });
}

/** SIGTERM, and the process's exit; SIGKILL if it has not left within 10 s. */
export function stopNode(n: LocalNode): Promise<void> {
  if (n.proc.exitCode !== null || n.proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => n.proc.kill('SIGKILL'), 10_000);
    n.proc.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    n.proc.kill('SIGTERM');
  });
}
