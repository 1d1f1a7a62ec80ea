// Brokers that misbehave: one that refuses the credentials, one that drops every connection
// after a second, none listening at all. Each gets a clear log line (not one per retry) and a
// counter; the node keeps running and its membership is untouched; the password never appears.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLine } from '../../runtime/log/log.js';
import { run, until } from '../cli/recording-io.js';
import { freePort, haveMosquitto, startBroker, type Broker } from './mosquitto.js';

const BIN = join(import.meta.dirname, '../../dist/runtime/cli/bin.js');
const SECRET = 'not-the-password-Zq81x';

let dir: string;
const procs: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-mqtt-bad-'));
  writeFileSync(join(dir, 'fleet.key'), (await run(['keys', 'generate'])).out);
  writeFileSync(join(dir, 'mqtt.pass'), `${SECRET}\n`, { mode: 0o600 });
});
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Node {
  readonly state: string;
  readonly config: string;
  log: string;
}

async function node(name: string, url: string, extra: readonly string[] = []): Promise<Node> {
  const state = join(dir, name);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, ['mqtt:', '  enabled: true', `  url: ${url}`, ...extra, 'hal:', '  sensors: []', ''].join('\n'));
  const proc = spawn(process.execPath, [BIN, 'start', '--config', config, '--state-dir', state, '--name', name, '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware', '--fleet-key-file', join(dir, 'fleet.key')]);
  procs.push(proc);
  const n: Node = { state, config, log: '' };
  proc.stdout.on('data', (c: Buffer) => (n.log += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (n.log += c.toString()));
  await until(`${name} to serve`, async () => ((await run(['status', '--state-dir', state])).code === 0 ? true : undefined), 30_000);
  return n;
}

async function mqttStatus(n: Node): Promise<Record<string, unknown> & { errors: number; disconnects: number; connects: number; connected: boolean }> {
  const s = JSON.parse((await run(['status', '--json', '--state-dir', n.state])).out) as { mqtt: never; health: unknown };
  return s.mqtt;
}

const lines = (n: Node, event: string): Array<Record<string, string>> => n.log.split('\n').map(parseLine).filter((l) => l['event'] === event);

describe.skipIf(!haveMosquitto)('a misbehaving broker', () => {
  let broker: Broker;
  beforeAll(async () => {
    const pw = join(dir, 'mosquitto.passwd');
    const made = spawnSync('/usr/bin/mosquitto_passwd', ['-b', '-c', pw, 'murmur', 'the-right-one']);
    expect(made.status, made.stderr?.toString()).toBe(0);
    // Started as root, mosquitto reads its files as the user "mosquitto": let it through to this one.
    chmodSync(dir, 0o711);
    chmodSync(pw, 0o644);
    broker = await startBroker(dir, ['allow_anonymous false', `password_file ${pw}`]);
  });
  afterAll(() => broker?.stop());

  it('refuses the credentials: one clear line and a counter while it keeps refusing, the password nowhere', async () => {
    const n = await node('refused', broker.url, ['  username: murmur', `  passwordFile: ${join(dir, 'mqtt.pass')}`]);
    await until('errors counted', async () => ((await mqttStatus(n)).errors >= 3 ? true : undefined), 20_000);
    const s = await mqttStatus(n);
    expect(s.connected).toBe(false);
    expect(s.lastError).toMatch(/Not authorized|not authorized|Bad User Name or Password/i);
    // Retried every second, logged once a minute.
    expect(lines(n, 'mqtt-error')).toHaveLength(1);
    expect(lines(n, 'mqtt-error')[0]).toMatchObject({ level: 'warn', url: broker.url });
    expect(n.log).not.toContain(SECRET);
    const shown = await run(['config', 'show', '--config', n.config]);
    expect(shown.out + shown.err).not.toContain(SECRET);
    expect((await run(['status', '--state-dir', n.state])).code).toBe(0);
  }, 40_000);

  it('drops every connection after a second: counted, logged once, the node unaffected and still bridging between drops', async () => {
    // A proxy to a broker that lets clients in, cutting each connection a second after it opens.
    const open = await startBroker(dir);
    const port = await freePort();
    const sockets = new Set<Socket>();
    const proxy: Server = createServer((c) => {
      const up = connect(open.port, '127.0.0.1');
      c.pipe(up).pipe(c);
      const cut = (): void => {
        c.destroy();
        up.destroy();
      };
      c.on('error', cut);
      up.on('error', cut);
      sockets.add(c);
      setTimeout(cut, 1000);
    });
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', () => r()));
    try {
      const n = await node('flaky', `mqtt://127.0.0.1:${port}`);
      await until('five disconnects', async () => ((await mqttStatus(n)).disconnects >= 5 ? true : undefined), 30_000);
      const s = await mqttStatus(n);
      expect(s.connects).toBeGreaterThanOrEqual(5);
      expect(lines(n, 'mqtt-disconnected')).toHaveLength(1);
      expect(lines(n, 'mqtt-connected')).toHaveLength(1);
      // Its role and candidacy survive blips shorter than the grace: no flapping role, no key churn.
      expect(s['bridging']).toBe(true);
      expect(s['roleChanges']).toBe(1);
      expect(lines(n, 'mqtt-bridge-role')).toHaveLength(1);
      // Between drops it publishes: the broker behind the proxy holds its retained state.
      const w = mqtt.connect(open.url, { protocolVersion: 5 });
      try {
        const seen = new Map<string, string>();
        w.on('message', (t, p) => seen.set(t, p.toString()));
        w.on('error', () => {});
        w.on('connect', () => w.subscribe('murmur/#'));
        await until('the bridge topic behind the proxy', () => (seen.get('murmur/bridge') === 'flaky' && seen.get('murmur/flaky/availability') === 'online' ? true : undefined), 10_000);
      } finally {
        w.end(true);
      }
      expect((await run(['status', '--state-dir', n.state])).code).toBe(0);
    } finally {
      for (const c of sockets) c.destroy();
      proxy.close();
      await open.stop();
    }
  }, 60_000);

  it('nothing listening: the refused connection is counted and named', async () => {
    const n = await node('nobroker', `mqtt://127.0.0.1:${await freePort()}`);
    await until('an error counted', async () => ((await mqttStatus(n)).errors >= 2 ? true : undefined), 20_000);
    expect((await mqttStatus(n)).lastError).toMatch(/ECONNREFUSED/);
    expect(lines(n, 'mqtt-error')[0]).toMatchObject({ error: expect.stringContaining('ECONNREFUSED') });
    expect((await run(['status', '--state-dir', n.state])).code).toBe(0);
  }, 40_000);
});
