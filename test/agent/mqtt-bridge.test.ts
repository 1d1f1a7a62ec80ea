// The MQTT bridge against a real Mosquitto broker on loopback, with three real murmur processes
// (the built binary) gossiping over loopback without multicast: discovery payloads, a change
// reaching the broker, one bridge in steady state, the bridge's device killed and the
// hand-over, the broker restarted and everything republished, and commands from MQTT.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLine } from '../../runtime/log/log.js';
import { run, until } from '../cli/recording-io.js';
import { haveMosquitto, startBroker, type Broker } from './mosquitto.js';

const BIN = join(import.meta.dirname, '../../dist/runtime/cli/bin.js');

interface Proc {
  readonly name: string;
  readonly state: string;
  readonly proc: ChildProcessWithoutNullStreams;
  log: string;
}

export interface Seen {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
  readonly bridge: string | undefined;
  readonly at: number;
}

/** A test's own MQTT client, subscribed to everything, remembering every message and the retained state. */
export async function watcher(url: string): Promise<{ client: MqttClient; seen: Seen[]; last: Map<string, string> }> {
  const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 200 });
  const seen: Seen[] = [];
  const last = new Map<string, string>();
  client.on('message', (topic, payload, packet) => {
    const up = packet.properties?.userProperties?.['murmur-bridge'];
    seen.push({ topic, payload: payload.toString(), retain: packet.retain, bridge: Array.isArray(up) ? up.join(',') : up, at: Date.now() });
    last.set(topic, payload.toString());
  });
  client.on('connect', () => client.subscribe('#'));
  client.on('error', () => {});
  await new Promise<void>((r) => client.once('connect', () => r()));
  return { client, seen, last };
}

let dir: string;
let broker: Broker;
const nodes = new Map<string, Proc>();

function startNode(name: string, seed: string | undefined): Proc {
  const state = join(dir, name);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    [
      'mqtt:',
      '  enabled: true',
      `  url: ${broker.url}`,
      '  keys: [app/]',
      '  commands: true',
      'hal:',
      '  sampling:',
      '    schedule: "*/2 * * * * *"',
      '    spreadS: 0',
      '  sensors:',
      '    - { name: env, type: simulated, deadband: 0 }',
      '',
    ].join('\n'),
  );
  const args = ['start', '--config', config, '--state-dir', state, '--name', name, '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware', '--fleet-key-file', join(dir, 'fleet.key')];
  if (seed) args.push('--seed', seed);
  const proc = spawn(process.execPath, [BIN, ...args]);
  const p: Proc = { name, state, proc, log: '' };
  proc.stdout.on('data', (c: Buffer) => (p.log += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (p.log += c.toString()));
  nodes.set(name, p);
  return p;
}

async function status(p: Proc): Promise<Record<string, unknown>> {
  const r = await run(['status', '--json', '--state-dir', p.state]);
  if (r.code !== 0) throw new Error(`status of ${p.name}: ${r.err}`);
  return JSON.parse(r.out) as Record<string, unknown>;
}

const events = (p: Proc, event: string): Array<Record<string, string>> => p.log.split('\n').map(parseLine).filter((l) => l['event'] === event);

describe.skipIf(!haveMosquitto)('the MQTT bridge against Mosquitto', () => {
  let w: Awaited<ReturnType<typeof watcher>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-mqtt-'));
    writeFileSync(join(dir, 'fleet.key'), (await run(['keys', 'generate'])).out);
    broker = await startBroker(dir);
    w = await watcher(broker.url);
    const a = startNode('a-node', undefined);
    const addr = await until('a-node to serve', async () => (await status(a).catch(() => undefined))?.addr as string | undefined, 30_000);
    startNode('b-node', addr);
    startNode('c-node', addr);
    for (const p of nodes.values()) await until(`${p.name} to see two members`, async () => ((await status(p).catch(() => undefined))?.members as Record<string, number> | undefined)?.alive === 2 || undefined, 30_000);
  }, 90_000);
  afterAll(async () => {
    w?.client.end(true);
    for (const p of nodes.values()) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the lowest id bridges; every device appears with Home Assistant discovery, availability and readings', async () => {
    await until('a-node to bridge', () => (w.last.get('murmur/bridge') === 'a-node' ? true : undefined), 20_000);
    for (const n of ['a-node', 'b-node', 'c-node']) {
      await until(`discovery of ${n}`, () => w.last.get(`homeassistant/sensor/murmur_${n}/env_temperature/config`), 20_000);
      expect(w.last.get(`murmur/${n}/availability`)).toBe('online');
    }
    const d = JSON.parse(w.last.get('homeassistant/sensor/murmur_b-node/env_temperature/config')!);
    expect(d).toMatchObject({
      unique_id: 'murmur_b-node_env_temperature',
      state_topic: 'murmur/b-node/sensor/env/temperature',
      unit_of_measurement: '°C',
      device_class: 'temperature',
      availability_topic: 'murmur/b-node/availability',
      device: { identifiers: ['murmur_b-node'], name: 'b-node' },
    });
    expect(JSON.parse(w.last.get('homeassistant/sensor/murmur_b-node/env_pressure/config')!)).toMatchObject({ device_class: 'atmospheric_pressure', unit_of_measurement: 'hPa' });
    const topics = [...w.last.keys()].filter((t) => t.includes('murmur_b-node')).sort();
    console.log(`Home Assistant discovery topics for b-node:\n  ${topics.join('\n  ')}`);
  }, 60_000);

  it('a reading change and a chosen key reach the broker; in steady state only the bridge publishes', async () => {
    const from = w.seen.length;
    const firstTemp = w.last.get('murmur/c-node/sensor/env/temperature');
    await until('a new temperature from c-node', () => {
      const v = w.last.get('murmur/c-node/sensor/env/temperature');
      return v !== undefined && v !== firstTemp ? v : undefined;
    }, 20_000);
    expect(JSON.parse(w.last.get('murmur/c-node/sensor/env/temperature')!)).toMatchObject({ u: '°C', v: expect.any(Number) });
    const t0 = Date.now();
    expect((await run(['set', 'app/mode', 'eco', '--state-dir', nodes.get('c-node')!.state])).code).toBe(0);
    await until('app/mode on the broker', () => (w.last.get('murmur/c-node/key/app/mode') === 'eco' ? true : undefined), 10_000);
    console.log(`a key set on c-node reached the broker in ${Date.now() - t0} ms`);
    await new Promise((r) => setTimeout(r, 3000));
    const publishers = new Set(w.seen.slice(from).map((m) => m.bridge));
    expect([...publishers]).toEqual(['a-node']);
  }, 60_000);

  it('identify from MQTT runs on the bridge under the API\'s checks; malformed commands are refused and counted', async () => {
    const a = nodes.get('a-node')!;
    w.client.publish('murmur/c-node/identify/set', 'PRESS');
    await until('the identify command', () => (events(a, 'mqtt-command').length > 0 ? true : undefined), 10_000);
    expect(events(a, 'mqtt-command')[0]).toMatchObject({ command: 'identify', target: 'c-node' });
    await until('c-node to identify', () => (events(nodes.get('c-node')!, 'led-status').some((l) => l['status'] === 'identify') ? true : undefined), 15_000);
    w.client.publish('murmur/c-node/identify/set', '$(reboot)');
    w.client.publish('murmur/c-node/identify/set', '99999');
    w.client.publish('murmur/nobody/identify/set', 'PRESS');
    w.client.publish('murmur/c-node/identify/set', Buffer.alloc(3000, 0x41));
    await until('four refusals', async () => ((((await status(a)).mqtt as Record<string, number>).commandsRefused ?? 0) >= 4 ? true : undefined), 10_000);
    expect(events(a, 'mqtt-command-refused')[0]).toMatchObject({ topic: 'murmur/c-node/identify/set', reason: 'payload: expected PRESS, off or whole seconds' });
    expect(((await status(a)).members as Record<string, number>).alive).toBe(2);
  }, 40_000);

  it('the bridge\'s device killed: the next lowest takes over once it is declared dead, and marks it unavailable', async () => {
    const a = nodes.get('a-node')!;
    const b = nodes.get('b-node')!;
    const killedAt = Date.now();
    a.proc.kill('SIGKILL');
    const handover = await until('b-node to bridge', () => w.seen.find((m) => m.at >= killedAt && m.topic === 'murmur/bridge' && m.payload === 'b-node'), 60_000);
    await until('a-node unavailable', () => (w.last.get('murmur/a-node/availability') === 'offline' ? true : undefined), 10_000);
    const dead = await until('b-node to declare a-node dead', () => events(b, 'member-status').find((l) => l['member'] === 'a-node' && l['status'] === 'dead'), 10_000);
    const detectionMs = Date.parse(dead['ts']!) - killedAt;
    const handoverMs = handover.at - killedAt;
    console.log(`hand-over: a-node killed; b-node declared it dead after ${detectionMs} ms; b-node bridged after ${handoverMs} ms (${handoverMs - detectionMs} ms after detection)`);
    expect(handoverMs).toBeGreaterThanOrEqual(detectionMs);
    // Only b publishes from then on (readings every 2 s): c saw the same membership and stayed quiet.
    await new Promise((r) => setTimeout(r, 4000));
    const after = w.seen.filter((m) => m.at > handover.at + 500);
    expect(after.length).toBeGreaterThan(0);
    expect(new Set(after.map((m) => m.bridge))).toEqual(new Set(['b-node']));
  }, 90_000);

  it('the broker restarted with nothing kept: after the reconnect everything retained is there again', async () => {
    await broker.restart();
    const fresh = await watcher(broker.url);
    try {
      await until('retained state republished', () => (fresh.last.get('murmur/bridge') === 'b-node' && fresh.last.has('homeassistant/sensor/murmur_c-node/env_temperature/config') && fresh.last.get('murmur/c-node/key/app/mode') === 'eco' && fresh.last.get('murmur/a-node/availability') === 'offline' ? true : undefined), 20_000);
      const b = nodes.get('b-node')!;
      expect(((await status(b)).mqtt as Record<string, number>).disconnects).toBeGreaterThanOrEqual(1);
      expect(events(b, 'mqtt-disconnected').length).toBeGreaterThanOrEqual(1);
    } finally {
      fresh.client.end(true);
    }
  }, 40_000);
});
