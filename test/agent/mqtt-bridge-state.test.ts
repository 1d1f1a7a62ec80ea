// The bridge's bookkeeping with a stand-in client and node: what it publishes when a key is
// deleted, a device is forgotten, the connection comes back, and when it is not the bridge.
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttBridge, STARTUP_HOLD_MS, type BridgeNode } from '../../runtime/agent/mqtt/mqtt-bridge.js';
import { BRIDGE_KEY, bridgeValue, brokerTag } from '../../runtime/agent/mqtt/bridge-election.js';
import type { MqttConfig } from '../../runtime/config/mqtt-config.js';

const config: MqttConfig = { enabled: true, url: 'mqtt://127.0.0.1:1883', username: undefined, passwordFile: undefined, caFile: undefined, certFile: undefined, keyFile: undefined, topicPrefix: 'murmur', discoveryPrefix: 'homeassistant', keys: ['app/'], commands: false };

class FakeClient extends EventEmitter {
  readonly published: Array<{ topic: string; payload: string }> = [];
  publish(topic: string, payload: string, _o: unknown, cb: (e?: Error) => void): void {
    this.published.push({ topic, payload });
    cb();
  }
  subscribe(): void {}
  unsubscribe(): void {}
  end(_f: boolean, _o: unknown, cb: () => void): void {
    cb();
  }
}

function setup(selfId = 'a', cfg: MqttConfig = config, identify: (t: string, s: number | undefined, off: boolean) => unknown = () => ({})): { bridge: MqttBridge; client: FakeClient; kv: Map<string, Map<string, unknown>>; members: Map<string, string>; own: Map<string, string>; advance: (ms: number) => void; pass: () => Promise<void> } {
  let now = 0;
  const kv = new Map<string, Map<string, unknown>>([[selfId, new Map()]]);
  const members = new Map<string, string>();
  const own = kv.get(selfId)! as Map<string, string>;
  const node: BridgeNode = {
    self: { id: selfId },
    members: () => [...members].map(([id, status]) => ({ id, status })),
    liveValue: (o, k) => (kv.get(o)?.has(k) ? { value: kv.get(o)!.get(k) } : undefined),
    liveValues: (o) => [...(kv.get(o) ?? new Map())].map(([k, v]) => [k, { value: v }] as const),
  };
  const client = new FakeClient();
  const bridge = new MqttBridge(cfg, {
    log: { log: () => {} },
    node,
    set: (k, v) => void own.set(k, v),
    delete: (k) => void own.delete(k),
    identify,
    clock: () => now,
    connect: () => client as unknown as MqttClient,
  });
  bridges.push(bridge);
  bridge.start();
  return {
    bridge,
    client,
    kv,
    members,
    own,
    advance: (ms) => void (now += ms),
    // Events are published after a short debounce.
    pass: () => new Promise((r) => setTimeout(r, 80)),
  };
}

const bridges: MqttBridge[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.stop();
});

const reading = (v: number): string => JSON.stringify({ v, u: '°C', t: 1, i: 300 });

describe('the bridge publishes differences', () => {
  it('waits out the start-up hold, then publishes everything; a change publishes only that; a deleted key and a forgotten device are cleared', async () => {
    const s = setup();
    s.kv.set('b', new Map<string, unknown>([['sensor/env/temperature', reading(20)], ['app/mode', 'eco']]));
    s.members.set('b', 'alive');
    s.client.emit('connect');
    expect(s.own.get(BRIDGE_KEY)).toBe(bridgeValue(brokerTag(config.url!), 'ready'));
    expect(s.bridge.bridging).toBe(false);
    s.advance(STARTUP_HOLD_MS);
    s.bridge.observe({ type: 'member-joined', member: { id: 'b', gen: 1 }, addr: 'x' });
    await s.pass();
    expect(s.bridge.bridging).toBe(true);
    expect(s.own.get(BRIDGE_KEY)).toBe(bridgeValue(brokerTag(config.url!), 'active'));
    const first = new Map(s.client.published.map((m) => [m.topic, m.payload]));
    expect(first.get('murmur/bridge')).toBe('a');
    expect(first.get('murmur/b/sensor/env/temperature')).toBe(reading(20));
    expect(first.get('murmur/b/key/app/mode')).toBe('eco');
    expect(first.has('homeassistant/sensor/murmur_b/env_temperature/config')).toBe(true);

    s.client.published.length = 0;
    s.kv.get('b')!.set('sensor/env/temperature', reading(21));
    s.bridge.observe({ type: 'kv-changed', owner: { id: 'b', gen: 1 }, key: 'sensor/env/temperature', value: reading(21), version: 2 });
    await s.pass();
    expect(s.client.published).toEqual([{ topic: 'murmur/b/sensor/env/temperature', payload: reading(21) }]);

    s.client.published.length = 0;
    s.kv.get('b')!.delete('app/mode');
    s.bridge.observe({ type: 'kv-changed', owner: { id: 'b', gen: 1 }, key: 'app/mode', value: null, version: 3 });
    await s.pass();
    expect(s.client.published).toEqual([{ topic: 'murmur/b/key/app/mode', payload: '' }]);

    s.client.published.length = 0;
    s.members.set('b', 'dead');
    s.bridge.observe({ type: 'member-status', member: { id: 'b', gen: 1 }, status: 'dead', previous: 'suspect', verdict: 'dead', previousVerdict: 'alive', sources: [] });
    await s.pass();
    expect(s.client.published).toEqual([{ topic: 'murmur/b/availability', payload: 'offline' }]);

    s.client.published.length = 0;
    s.members.delete('b');
    s.kv.delete('b');
    s.bridge.observe({ type: 'member-removed', member: { id: 'b', gen: 1 } });
    await s.pass();
    // Its readings are cleared, it stays unavailable, its discovery stays.
    expect(new Set(s.client.published.map((m) => `${m.topic}=${m.payload}`))).toEqual(new Set(['murmur/b/availability=offline', 'murmur/b/sensor/env/temperature=']));
  });

  it('after a reconnect everything goes out again', async () => {
    const s = setup();
    s.client.emit('connect');
    s.advance(STARTUP_HOLD_MS);
    s.bridge.observe({ type: 'member-joined', member: { id: 'x', gen: 1 }, addr: 'x' });
    await s.pass();
    const before = s.client.published.length;
    expect(before).toBeGreaterThan(0);
    s.client.emit('close');
    s.client.published.length = 0;
    s.client.emit('connect');
    expect(s.client.published.map((m) => m.topic)).toEqual(expect.arrayContaining(['murmur/bridge', 'murmur/a/availability']));
    expect(s.bridge.counters).toMatchObject({ connects: 2, disconnects: 1 });
  });

  it('publishes nothing while a lower id, or any active bridge, is there', async () => {
    const s = setup('m');
    const tag = brokerTag(config.url!);
    s.kv.set('k', new Map([[BRIDGE_KEY, bridgeValue(tag, 'ready')]]));
    s.members.set('k', 'alive');
    s.client.emit('connect');
    s.advance(STARTUP_HOLD_MS);
    s.bridge.observe({ type: 'member-joined', member: { id: 'k', gen: 1 }, addr: 'x' });
    await s.pass();
    expect(s.bridge.bridging).toBe(false);
    expect(s.client.published).toEqual([]);
    // k dies: m takes over at once.
    s.members.set('k', 'dead');
    s.bridge.observe({ type: 'member-status', member: { id: 'k', gen: 1 }, status: 'dead', previous: 'suspect', verdict: 'dead', previousVerdict: 'alive', sources: [] });
    await s.pass();
    expect(s.bridge.bridging).toBe(true);
    expect(s.client.published.find((m) => m.topic === 'murmur/bridge')?.payload).toBe('m');
  });
});

describe('commands from MQTT', () => {
  it('identify runs with the API\'s checks, at most 10 in 10 s; anything else is refused and counted', async () => {
    const calls: Array<[string, number | undefined, boolean]> = [];
    const s = setup('a', { ...config, commands: true }, (t, sec, off) => {
      if (sec !== undefined && sec > 3600) throw new Error(`seconds: expected 1-3600, got ${sec}`);
      calls.push([t, sec, off]);
      return {};
    });
    s.kv.set('b', new Map());
    s.members.set('b', 'alive');
    s.client.emit('connect');
    s.advance(STARTUP_HOLD_MS);
    s.bridge.observe({ type: 'member-joined', member: { id: 'b', gen: 1 }, addr: 'x' });
    await s.pass();
    const send = (topic: string, payload: string): void => void s.client.emit('message', topic, Buffer.from(payload));
    send('murmur/b/identify/set', 'PRESS');
    send('murmur/b/identify/set', '30');
    send('murmur/b/identify/set', 'off');
    expect(calls).toEqual([['b', undefined, false], ['b', 30, false], ['b', undefined, true]]);
    send('murmur/b/identify/set', '99999');
    send('murmur/b/identify/set', 'reboot now');
    send('murmur/zz/identify/set', 'PRESS');
    send('murmur/b/identify/set', 'x'.repeat(100));
    expect(s.bridge.counters.commandsRefused).toBe(4);
    for (let i = 0; i < 5; i++) send('murmur/b/identify/set', 'PRESS');
    // 10 taken in this window (3 run, 4 refused for what they said, 3 more run), then refused unread.
    expect(calls).toHaveLength(6);
    expect(s.bridge.counters.commandsRefused).toBe(6);
    s.advance(10_000);
    send('murmur/b/identify/set', 'PRESS');
    expect(calls).toHaveLength(7);
  });

  it('refused on a device that is not the bridge', async () => {
    const calls: string[] = [];
    const s = setup('m', { ...config, commands: true }, (t) => calls.push(t));
    s.kv.set('k', new Map([[BRIDGE_KEY, bridgeValue(brokerTag(config.url!), 'active')]]));
    s.members.set('k', 'alive');
    s.client.emit('connect');
    s.advance(STARTUP_HOLD_MS);
    s.client.emit('message', 'murmur/k/identify/set', Buffer.from('PRESS'));
    expect(calls).toEqual([]);
    expect(s.bridge.counters.commandsRefused).toBe(1);
  });
});
