import { describe, expect, it } from 'vitest';
import { profileByName } from '../../runtime/core/profiles.js';
import { NodeMetrics, type MetricsSource } from '../../runtime/metrics/registry.js';
import { sensorGauge } from '../../runtime/metrics/sensor-units.js';
import { newCounters } from '../../runtime/net/transport.js';
import { Fleet } from '../../runtime/sim/fleet.js';
import type { SensorStatus } from '../../runtime/sensing/sampler.js';

// The registry's contents, read from a simulated fleet's node: what each metric says after a
// partition that makes this node declare two members dead, and a heal that proves them alive.

type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

async function samples(m: NodeMetrics): Promise<Map<string, { type: string; values: Sample[] }>> {
  const out = new Map<string, { type: string; values: Sample[] }>();
  for (const x of await m.registry.getMetricsAsJSON()) out.set(x.name, { type: String(x.type), values: x.values as Sample[] });
  return out;
}

/** One sample's value; a histogram's _count, _sum and _bucket samples are found under the histogram. */
function value(all: Map<string, { values: Sample[] }>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = all.has(name) ? name : name.replace(/_(count|sum|bucket)$/, '');
  return all.get(family)?.values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l) && (v.metricName === undefined || v.metricName === name))?.value;
}

const sensor = (name: string, quantities: SensorStatus['quantities'], state: SensorStatus['state'] = 'ok'): SensorStatus => ({
  name,
  type: 'simulated',
  schedule: 'every 10s',
  state,
  lastReadAt: 0,
  quantities,
  error: state === 'error' ? 'no reply' : null,
  counts: {} as SensorStatus['counts'],
});

function source(fleet: Fleet, id: string, extra: Partial<MetricsSource> = {}): MetricsSource {
  const host = fleet.host(id);
  return { node: fleet.node(id), host, transport: newCounters(), clock: () => 0, ...extra };
}

describe('node metrics', () => {
  it('count members by status, suspicions raised, confirmed and refuted, false deaths, status changes, traffic by type and change arrival', async () => {
    const fleet = new Fleet({ seed: 11, nodes: 5, profile: profileByName('lan') });
    fleet.start();
    const m = new NodeMetrics(source(fleet, 'n000'), { peerLabels: false, maxPeers: 8, processMetrics: false });
    fleet.onEvent((_now, id, e) => id === 'n000' && m.observe(e));
    fleet.runFor(5_000);
    fleet.set('n001', 'room', 'kitchen');
    fleet.runFor(1_000);

    let all = await samples(m);
    expect(value(all, 'murmur_members', { status: 'alive' })).toBe(4);
    // Every status the wire knows is a series, zero or not.
    expect(value(all, 'murmur_members', { status: 'dead' })).toBe(0);
    expect(value(all, 'murmur_suspicions_raised_total')).toBe(0);
    expect(value(all, 'murmur_datagrams_sent_total', { type: 'heartbeat' })).toBeGreaterThan(0);
    expect(value(all, 'murmur_datagram_received_bytes_total', { type: 'heartbeat' })).toBeGreaterThan(value(all, 'murmur_datagrams_received_total', { type: 'heartbeat' })!);
    expect(value(all, 'murmur_messages_received_total', { type: 'delta' })).toBeGreaterThan(0);
    expect(value(all, 'murmur_anti_entropy_rounds_total')).toBeGreaterThan(0);
    expect(value(all, 'murmur_change_arrival_seconds_count')).toBeGreaterThan(0);
    expect(all.get('murmur_suspicions_raised_total')?.type).toBe('counter');
    expect(all.get('murmur_change_arrival_seconds')?.type).toBe('histogram');

    expect(value(all, 'murmur_member_events_total', { event: 'member-joined' })).toBe(4);
    // Pushed changes arrive before any news of them: the 0 bucket.
    expect(value(all, 'murmur_change_arrival_seconds_bucket', { le: '0' })).toBeGreaterThan(0);
    expect(value(all, 'murmur_change_arrival_seconds_sum')).toBe(0);
    // A change whose every repeat n000 misses: n000 learns of it from n003's next heartbeat, and pulls it.
    fleet.setLoss('n000', 1);
    fleet.set('n003', 'missed', 'yes');
    fleet.runFor(400);
    fleet.setLoss('n000', undefined);
    fleet.runFor(3_000);
    expect(fleet.node('n000').get('n003', 'missed', fleet.now)).toBe('yes');
    all = await samples(m);
    expect(value(all, 'murmur_change_arrival_seconds_sum')).toBeGreaterThan(0);

    fleet.partition([['n000', 'n001', 'n002'], ['n003', 'n004']]);
    fleet.runFor(20_000);

    all = await samples(m);
    expect(value(all, 'murmur_members', { status: 'dead' })).toBe(2);
    expect(value(all, 'murmur_suspicions_raised_total')).toBeGreaterThanOrEqual(2);
    expect(value(all, 'murmur_suspicions_confirmed_total')).toBeGreaterThanOrEqual(2);
    expect(value(all, 'murmur_member_status_changes_total', { from: 'suspect', to: 'dead' })).toBeGreaterThanOrEqual(2);
    // The same deaths as verdicts: from alive, the suspicion before them folded in.
    expect(value(all, 'murmur_member_verdict_changes_total', { from: 'alive', to: 'dead' })).toBeGreaterThanOrEqual(2);
    expect(all.get('murmur_member_verdict_changes_total')?.values.some((v) => v.labels.from === 'suspect' || v.labels.to === 'suspect')).toBe(false);

    fleet.heal();
    fleet.runFor(20_000);
    all = await samples(m);
    // Back from a death in the same life, a member is unreliable until it delivers like the fleet.
    expect((value(all, 'murmur_members', { status: 'alive' }) ?? 0) + (value(all, 'murmur_members', { status: 'unreliable' }) ?? 0)).toBe(4);
    // The same lives came back: two deaths declared in error, refuted.
    expect(value(all, 'murmur_false_deaths_total')).toBe(2);
    expect(value(all, 'murmur_member_status_changes_total', { from: 'dead', to: 'unreliable' })).toBe(2);
    expect(value(all, 'murmur_member_verdict_changes_total', { from: 'dead', to: 'unreliable' })).toBe(2);

    // No per-peer series unless asked.
    expect(all.has('murmur_peer_status')).toBe(false);
  });

  it('per-peer series only when asked, and for at most maxPeers peers', async () => {
    const fleet = new Fleet({ seed: 3, nodes: 6, profile: profileByName('lan'), insecure: true });
    fleet.start();
    const m = new NodeMetrics(source(fleet, 'n000'), { peerLabels: true, maxPeers: 3, processMetrics: false });
    fleet.runFor(5_000);
    const all = await samples(m);
    expect(all.get('murmur_peer_status')?.values.map((v) => v.labels.peer)).toEqual(['n001', 'n002', 'n003']);
    expect(all.get('murmur_peer_last_heard_seconds')?.values).toHaveLength(3);
  });

  it('sensor readings in base units with the unit in the name; LED status as an enum; keyring by state; refusals by layer', async () => {
    const fleet = new Fleet({ seed: 5, nodes: 2, profile: profileByName('lan'), insecure: true });
    fleet.start();
    let led: 'healthy' | 'degraded' = 'healthy';
    const m = new NodeMetrics(
      source(fleet, 'n000', {
        sensors: () => [
          sensor('room', [
            { quantity: 'temperature', value: 21.5, unit: '°C' },
            { quantity: 'humidity', value: 45, unit: '%RH' },
            { quantity: 'pressure', value: 1013.2, unit: 'hPa' },
          ]),
          sensor('wifi', [{ quantity: 'signal', value: -61, unit: 'dBm' }]),
          sensor('broken', [], 'error'),
          sensor('later', [], 'pending'),
        ],
        led: () => led,
        keyring: () => ({ states: ['active', 'retired', 'active'], pendingPromotions: 1, offersReceived: 5, offersRejected: 2 }),
        channel: { dropped: new Map([['replayed', 3], ['bad-mac', 1]]) },
        gate: { refused: new Map([['no-passport', 4]]) },
      }),
      { peerLabels: false, maxPeers: 8, processMetrics: false },
    );
    fleet.runFor(1_000);
    let all = await samples(m);
    expect(value(all, 'murmur_sensor_celsius', { sensor: 'room', quantity: 'temperature' })).toBe(21.5);
    expect(value(all, 'murmur_sensor_ratio', { sensor: 'room', quantity: 'humidity' })).toBeCloseTo(0.45);
    expect(value(all, 'murmur_sensor_pascals', { sensor: 'room', quantity: 'pressure' })).toBeCloseTo(101320);
    expect(value(all, 'murmur_sensor_value', { sensor: 'wifi', quantity: 'signal', unit: 'dBm' })).toBe(-61);
    expect(value(all, 'murmur_sensor_up', { sensor: 'room' })).toBe(1);
    expect(value(all, 'murmur_sensor_up', { sensor: 'broken' })).toBe(0);
    expect(value(all, 'murmur_sensor_up', { sensor: 'later' })).toBeUndefined();
    expect(all.get('murmur_led_status')?.values.filter((v) => v.value === 1).map((v) => v.labels.status)).toEqual(['healthy']);
    expect(all.get('murmur_led_status')?.values.length).toBeGreaterThan(5);
    expect(value(all, 'murmur_fleet_keys', { state: 'active' })).toBe(2);
    expect(value(all, 'murmur_fleet_keys', { state: 'gone' })).toBe(0);
    expect(value(all, 'murmur_keyring_offers_total', { outcome: 'rejected' })).toBe(2);
    expect(value(all, 'murmur_channel_refused_total', { reason: 'replayed' })).toBe(3);
    expect(value(all, 'murmur_rejected_total', { layer: 'gate', reason: 'no-passport' })).toBe(4);
    led = 'degraded';
    all = await samples(m);
    expect(value(all, 'murmur_led_status', { status: 'degraded' })).toBe(1);
    expect(value(all, 'murmur_led_status', { status: 'healthy' })).toBe(0);
  });

  it('maps units to base units, and leaves unknown ones (even Object.prototype names) to murmur_sensor_value', () => {
    expect(sensorGauge('minute')).toEqual({ metric: 'murmur_sensor_seconds', factor: 60 });
    expect(sensorGauge('MB')).toEqual({ metric: 'murmur_sensor_bytes', factor: 1048576 });
    expect(sensorGauge('load')).toBeUndefined();
    expect(sensorGauge('constructor')).toBeUndefined();
  });

  it('process metrics, when on: CPU, RSS, heap and event-loop lag', async () => {
    const fleet = new Fleet({ seed: 5, nodes: 1, profile: profileByName('lan'), insecure: true });
    fleet.start();
    const m = new NodeMetrics(source(fleet, 'n000'), { peerLabels: false, maxPeers: 8, processMetrics: true });
    const all = await samples(m);
    m.close();
    expect(value(all, 'process_resident_memory_bytes')).toBeGreaterThan(10e6);
    expect(value(all, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(1e6);
    expect(value(all, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value(all, 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0);
  });
});
