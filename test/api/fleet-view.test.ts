import { describe, expect, it } from 'vitest';
import type { ApiBackend } from '../../runtime/api/server.js';
import { fleetView, MAX_VALUES_PER_DEVICE } from '../../runtime/api/page/fleet-view.js';
import { SensorHistory } from '../../runtime/api/page/sensor-history.js';

function backend(members: unknown[], keys: Record<string, Record<string, { value: unknown; version: number }>>): ApiBackend {
  return {
    status: () => ({ id: 'me', gen: 1, addr: 'a', led: { status: 'healthy', why: ['2 peers alive'] } }),
    members: () => members,
    keysOf: (o) => keys[o],
    set: () => 1,
    delete: () => false,
  };
}

describe('fleetView', () => {
  it('carries any status string, and its explanation under whichever name the member view uses', () => {
    const v = fleetView(
      backend(
        [
          { id: 'a', status: 'unreliable', explanation: 'loses 40% of probes' },
          { id: 'b', status: 'suspect', why: ['no ack', 'no indirect ack'] },
          { id: 'c', status: 'dead' },
          { id: 'd', status: 'removed' },
          { id: 'e', status: 'unreliable', reliability: { outageMs: 12_400, backForMs: 3000, holdMsLeft: 9000, delivery: 0.42, fleetDelivery: 0.9 } },
        ],
        {},
      ),
      new SensorHistory(),
      false,
    );
    expect(v.devices.map((d) => [d.id, d.status, d.explanation])).toEqual([
      ['me', 'alive', null],
      ['a', 'unreliable', 'loses 40% of probes'],
      ['b', 'suspect', 'no ack; no indirect ack'],
      ['c', 'dead', null],
      ['e', 'unreliable', 'back after 12 s of silence; 42% of its heartbeats arrive (fleet: 90%); alive again once it delivers like the fleet'],
    ]);
    expect(v.partition).toBeNull();
  });

  it('shows values as text (bytes by their size, long text cut), readings with unit or error, and counts what it leaves out', () => {
    const keys: Record<string, { value: unknown; version: number }> = {
      bytes: { value: new Uint8Array(5), version: 1 },
      long: { value: 'x'.repeat(500), version: 1 },
      'sensor/t/temperature': { value: JSON.stringify({ e: 'no reply', u: '°C', t: 1, i: 300 }), version: 1 },
    };
    for (let i = 0; i < MAX_VALUES_PER_DEVICE; i++) keys[`z${String(i).padStart(2, '0')}`] = { value: i, version: 1 };
    const me = fleetView(backend([], { me: keys }), new SensorHistory(), true).devices[0]!;
    expect(me.values.length).toBe(MAX_VALUES_PER_DEVICE);
    expect(me.more).toBe(3);
    expect(me.values[0]).toMatchObject({ key: 'bytes', text: '<5 bytes>' });
    expect(me.values[1]!.text.length).toBe(80);
    expect(me.values[2]).toMatchObject({ key: 'sensor/t/temperature', text: '', unit: '°C', error: 'no reply' });
  });
});
