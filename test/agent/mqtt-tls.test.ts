// The bridge over TLS to a Mosquitto listener whose certificate a test CA signed: with
// mqtt.caFile it connects and bridges; without it the broker's certificate is not trusted,
// which is counted and logged, and nothing is sent in the clear.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, until } from '../cli/recording-io.js';
import { haveMosquitto, startBroker, type Broker } from './mosquitto.js';

const BIN = join(import.meta.dirname, '../../dist/runtime/cli/bin.js');
const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

let dir: string;
let broker: Broker;
const procs: ChildProcessWithoutNullStreams[] = [];

function openssl(args: readonly string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr.toString()}`);
}

async function node(name: string, extra: readonly string[]): Promise<string> {
  const state = join(dir, name);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, ['mqtt:', '  enabled: true', `  url: mqtts://127.0.0.1:${broker.port}`, ...extra, 'hal:', '  sensors: []', ''].join('\n'));
  const proc = spawn(process.execPath, [BIN, 'start', '--config', config, '--state-dir', state, '--name', name, '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware']);
  procs.push(proc);
  proc.stdout.resume();
  proc.stderr.resume();
  await until(`${name} to serve`, async () => ((await run(['status', '--state-dir', state])).code === 0 ? true : undefined), 30_000);
  return state;
}

const mqttStatus = async (state: string): Promise<{ connected: boolean; errors: number; lastError: string | null; bridging: boolean }> =>
  (JSON.parse((await run(['status', '--json', '--state-dir', state])).out) as { mqtt: never }).mqtt;

describe.skipIf(!haveMosquitto || !haveOpenssl)('the MQTT bridge over TLS', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-mqtt-tls-'));
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=murmur test CA']);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=127.0.0.1']);
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl(['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '1', '-extfile', 'san.ext']);
    // Started as root, mosquitto reads its files as the user "mosquitto".
    chmodSync(dir, 0o711);
    for (const f of ['ca.pem', 'broker.pem', 'broker.key']) chmodSync(join(dir, f), 0o644);
    broker = await startBroker(dir, ['allow_anonymous true', `cafile ${join(dir, 'ca.pem')}`, `certfile ${join(dir, 'broker.pem')}`, `keyfile ${join(dir, 'broker.key')}`], 'mqtts');
  }, 30_000);
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with mqtt.caFile: connects over TLS and bridges', async () => {
    const state = await node('tls-ok', [`  caFile: ${join(dir, 'ca.pem')}`]);
    await until('bridging over TLS', async () => ((await mqttStatus(state)).bridging ? true : undefined), 20_000);
    const client = mqtt.connect(`mqtts://127.0.0.1:${broker.port}`, { ca: readFileSync(join(dir, 'ca.pem')), protocolVersion: 5 });
    try {
      const seen = new Map<string, string>();
      client.on('message', (t, p) => seen.set(t, p.toString()));
      client.on('error', () => {});
      await new Promise<void>((r) => client.once('connect', () => r()));
      client.subscribe('murmur/#');
      await until('the bridge topic over TLS', () => (seen.get('murmur/bridge') === 'tls-ok' ? true : undefined), 10_000);
    } finally {
      client.end(true);
    }
  }, 40_000);

  it('without the CA: the certificate is refused, counted and named; the node runs on', async () => {
    const state = await node('tls-untrusted', []);
    await until('a TLS error counted', async () => ((await mqttStatus(state)).errors >= 1 ? true : undefined), 20_000);
    const s = await mqttStatus(state);
    expect(s.connected).toBe(false);
    expect(s.lastError).toMatch(/certificate/i);
    expect((await run(['status', '--state-dir', state])).code).toBe(0);
  }, 40_000);
});
