import { describe, expect, it } from 'vitest';
import { aggregate, deviceRows, type FleetState, type MemberStatus } from '../../runtime/sensing/aggregate.js';
import { encodeReading } from '../../runtime/sensing/reading.js';

const T = 1795424497;
const KEY = 'sensor/room/temperature';
const okv = (v: number, unit = '°C', i = 300): string => encodeReading({ ok: true, value: v, unit, t: T, i });
const errv = (e: string, unit = '°C', i = 300): string => encodeReading({ ok: false, error: e, unit, t: T, i });

// Local monotonic "now"; an entry learned at NOW - age.
const NOW = 10_000_000;

function fleet(rows: Array<[owner: string, status: MemberStatus | null, key: string, value: unknown, ageMs: number]>): FleetState {
  const members = new Map<string, MemberStatus>();
  for (const [owner, status] of rows) if (status) members.set(owner, status);
  return {
    members: [...members].map(([id, status]) => ({ id, status })),
    entries: rows.map(([owner, , key, value, age]) => ({ owner, key, value, at: NOW - age })),
  };
}

describe('aggregate', () => {
  it('summarizes fresh readings and sorts every other device into exactly one list', () => {
    const state = fleet([
      ['self', 'alive', KEY, okv(21), 0], // the local device's own entry, passed as alive
      ['a', 'alive', KEY, okv(19), 30_000],
      ['b', 'alive', KEY, okv(23.5), 609_000], // 2 × 300 s + 10 s slack: still fresh at the edge
      ['c', 'alive', KEY, okv(40), 610_001], // just past it: stale
      ['d', 'dead', KEY, okv(50), 1_000], // recent, but its owner is dead
      ['e', 'suspect', KEY, okv(60), 1_000], // suspect is not alive either
      ['f', 'left', KEY, okv(70), 1_000],
      ['g', null, KEY, okv(80), 1_000], // not a member we know of
      ['h', 'alive', KEY, errv('sensor room: CRC mismatch'), 5_000],
      ['i', 'dead', KEY, errv('sensor room: no reply'), 5_000], // a dead owner's error is stale, not an error
      ['j', 'alive', KEY, okv(72, '°F'), 5_000], // a fresh reading in the wrong unit
      ['k', 'alive', KEY, '{"v":"hot"}', 5_000],
      ['l', 'alive', KEY, 21, 5_000], // not even a string
      ['m', 'alive', KEY, null, 5_000], // a tombstone: the key was deleted, the device has nothing
      ['a', 'alive', 'health/cpu', okv(1), 0], // not a sensor key
    ]);
    expect(aggregate(state, NOW)).toEqual([
      {
        key: KEY,
        unit: '°C',
        count: 3,
        min: 19,
        max: 23.5,
        mean: (21 + 19 + 23.5) / 3,
        stale: ['c', 'd', 'e', 'f', 'g', 'i'],
        errors: ['h'],
        malformed: ['k', 'l'],
        leftOut: [
          { owner: 'c', reason: 'stale' },
          { owner: 'd', reason: 'stale' },
          { owner: 'e', reason: 'stale' },
          { owner: 'f', reason: 'stale' },
          { owner: 'g', reason: 'stale' },
          { owner: 'h', reason: 'error' },
          { owner: 'i', reason: 'stale' },
          { owner: 'j', reason: 'unit', value: 72, unit: '°F' },
          { owner: 'k', reason: 'malformed' },
          { owner: 'l', reason: 'malformed' },
        ],
        devices: 13,
      },
    ]);
  });

  it('judges staleness by each publisher\'s own i, plus the slack given', () => {
    const state = fleet([
      ['fast', 'alive', KEY, okv(20, '°C', 10), 25_000], // 2 × 10 s + 5 s
      ['slow', 'alive', KEY, okv(21, '°C', 3600), 25_000],
      ['late', 'alive', KEY, okv(22, '°C', 10), 25_001],
    ]);
    const [a] = aggregate(state, NOW, { staleSlackMs: 5_000 });
    expect(a).toMatchObject({ count: 2, min: 20, max: 21, stale: ['late'] });
    const [b] = aggregate(state, NOW, { staleSlackMs: 0 });
    expect(b).toMatchObject({ count: 1, min: 21, max: 21, stale: ['fast', 'late'] });
  });

  it('takes the unit most fresh readings use and lists the odd ones out; ties go to this device\'s unit, else alphabetically', () => {
    const majority = fleet([
      ['a', 'alive', KEY, okv(70, '°F'), 0],
      ['b', 'alive', KEY, okv(20, '°C'), 0],
      ['c', 'alive', KEY, okv(22, '°C'), 0],
      ['d', 'dead', KEY, okv(75, '°F'), 0], // stale readings do not vote
      ['e', 'dead', KEY, okv(75, '°F'), 0],
    ]);
    expect(aggregate(majority, NOW)[0]).toMatchObject({ unit: '°C', count: 2, mean: 21, leftOut: [{ owner: 'a', reason: 'unit' }, { owner: 'd', reason: 'stale' }, { owner: 'e', reason: 'stale' }] });
    const tie = fleet([
      ['a', 'alive', KEY, okv(295, 'K'), 0],
      ['b', 'alive', KEY, okv(20, '°C'), 0],
    ]);
    expect(aggregate(tie, NOW)[0]).toMatchObject({ unit: 'K', count: 1, mean: 295, leftOut: [{ owner: 'b', reason: 'unit', value: 20, unit: '°C' }] });
    expect(aggregate(tie, NOW, { self: 'b' })[0]).toMatchObject({ unit: '°C', count: 1, mean: 20, leftOut: [{ owner: 'a', reason: 'unit', value: 295, unit: 'K' }] });
    // This device's unit breaks a tie only: it does not outvote the fleet.
    const outvoted = fleet([...(['a', 'b'] as const).map((o) => [o, 'alive', KEY, okv(295, 'K'), 0] as [string, MemberStatus, string, string, number]), ['c', 'alive', KEY, okv(20), 0]]);
    expect(aggregate(outvoted, NOW, { self: 'c' })[0]).toMatchObject({ unit: 'K', count: 2 });
  });

  it('with no fresh ok reading, still names the unit and has no statistics', () => {
    const state = fleet([
      ['a', 'alive', KEY, errv('no reply'), 0],
      ['b', 'dead', KEY, okv(20), 0],
    ]);
    expect(aggregate(state, NOW)).toEqual([{ key: KEY, unit: '°C', count: 0, min: null, max: null, mean: null, stale: ['b'], errors: ['a'], malformed: [], leftOut: [{ owner: 'a', reason: 'error' }, { owner: 'b', reason: 'stale' }], devices: 2 }]);
  });

  it('gives one aggregate per key, sorted, including a sensor\'s error key', () => {
    const state = fleet([
      ['a', 'alive', 'sensor/room/humidity', okv(40, '%RH'), 0],
      ['a', 'alive', KEY, okv(20), 0],
      ['b', 'alive', 'sensor/probe/error', errv('no such device', ''), 0],
    ]);
    const out = aggregate(state, NOW);
    expect(out.map((a) => [a.key, a.count, a.errors])).toEqual([
      ['sensor/probe/error', 0, ['b']],
      ['sensor/room/humidity', 1, []],
      [KEY, 1, []],
    ]);
  });

  it('counts a device once when its entry is passed twice, using the newest', () => {
    const state: FleetState = {
      members: [{ id: 'a', status: 'alive' }],
      entries: [
        { owner: 'a', key: KEY, value: okv(10), at: NOW - 1_000_000 },
        { owner: 'a', key: KEY, value: okv(20), at: NOW - 1_000 },
      ],
    };
    expect(aggregate(state, NOW)[0]).toMatchObject({ count: 1, mean: 20, stale: [], devices: 1 });
  });

  it('is empty for a fleet without sensor readings', () => {
    expect(aggregate({ members: [], entries: [] }, NOW)).toEqual([]);
  });
});

describe('poisoned aggregates', () => {
  it('four made-up devices publishing 1e308 K neither take the unit nor drop the real devices, and are named as out of range', () => {
    const state = fleet([
      ['real-1', 'alive', KEY, okv(20), 0],
      ['real-2', 'alive', KEY, okv(21), 0],
      ['real-3', 'alive', KEY, okv(22), 0],
      ...[1, 2, 3, 4].map((i) => [`fake-${i}`, 'alive', KEY, okv(1e308, 'K'), 0] as [string, MemberStatus, string, string, number]),
    ]);
    const [a] = aggregate(state, NOW);
    expect(a).toMatchObject({ unit: '°C', count: 3, min: 20, max: 22, mean: 21, devices: 7 });
    expect(a!.leftOut).toEqual([1, 2, 3, 4].map((i) => ({ owner: `fake-${i}`, reason: 'out-of-range', value: 1e308, unit: 'K' })));
  });

  it('leaves out magnitudes over 1e12 and values a unit cannot take, and never gives Infinity or null while one value is good', () => {
    const state = fleet([
      ['a', 'alive', KEY, okv(-300), 0], // below absolute zero
      ['b', 'alive', KEY, okv(-1e13), 0],
      ['c', 'alive', KEY, okv(1e12), 0], // the largest magnitude still believed, but no °C is that hot
      ['d', 'alive', 'sensor/x/count', okv(1e12, 'n'), 0],
      ['e', 'alive', 'sensor/x/count', okv(1e12, 'n'), 0],
      ['f', 'alive', 'sensor/x/count', okv(1.0000001e12, 'n'), 0],
      ['g', 'alive', 'sensor/room/humidity', okv(140, '%RH'), 0],
      ['h', 'alive', 'sensor/room/humidity', okv(40, '%RH'), 0],
    ]);
    const [humidity, temperature, count] = aggregate(state, NOW);
    expect(humidity).toMatchObject({ count: 1, min: 40, max: 40, leftOut: [{ owner: 'g', reason: 'out-of-range' }] });
    expect(temperature).toMatchObject({ count: 0, min: null, max: null, mean: null, unit: '°C' });
    expect(temperature!.leftOut.map((l) => [l.owner, l.reason])).toEqual([
      ['a', 'out-of-range'],
      ['b', 'out-of-range'],
      ['c', 'out-of-range'],
    ]);
    expect(count).toMatchObject({ count: 2, min: 1e12, max: 1e12, mean: 1e12, leftOut: [{ owner: 'f', reason: 'out-of-range' }] });
  });

  it('with at least five values, leaves out one far from the median; fewer values, or one merely high, are kept', () => {
    const five = (last: number): FleetState => fleet([20, 21, 22, 21.5, last].map((v, i) => [`d${i}`, 'alive', KEY, okv(v), 0] as [string, MemberStatus, string, string, number]));
    const [poisoned] = aggregate(five(900), NOW);
    expect(poisoned).toMatchObject({ count: 4, min: 20, max: 22, leftOut: [{ owner: 'd4', reason: 'outlier', value: 900, unit: '°C' }] });
    const [warm] = aggregate(five(35), NOW); // a device in the sun: far in MADs, but not far from the median
    expect(warm).toMatchObject({ count: 5, max: 35, leftOut: [] });
    const four = fleet([20, 21, 22, 900].map((v, i) => [`d${i}`, 'alive', KEY, okv(v), 0] as [string, MemberStatus, string, string, number]));
    expect(aggregate(four, NOW)[0]).toMatchObject({ count: 4, max: 900, leftOut: [] });
    // Identical readings (a MAD of 0) do not make a small difference an outlier.
    const same = fleet([20, 20, 20, 20, 20.4].map((v, i) => [`d${i}`, 'alive', KEY, okv(v), 0] as [string, MemberStatus, string, string, number]));
    expect(aggregate(same, NOW)[0]).toMatchObject({ count: 5, leftOut: [] });
  });

  it('counts and lists every device holding the key exactly once', () => {
    const state = fleet([
      ['a', 'alive', KEY, okv(20), 0],
      ['b', 'alive', KEY, okv(21), 0],
      ['c', 'alive', KEY, okv(22), 0],
      ['d', 'alive', KEY, okv(21), 0],
      ['e', 'alive', KEY, okv(5000), 0],
      ['f', 'alive', KEY, okv(70, '°F'), 0],
      ['g', 'dead', KEY, okv(20), 0],
      ['h', 'alive', KEY, errv('no reply'), 0],
      ['i', 'alive', KEY, 'junk', 0],
      ['j', 'alive', KEY, okv(-500), 0],
    ]);
    const [a] = aggregate(state, NOW);
    expect(a!.leftOut.map((l) => `${l.owner}:${l.reason}`)).toEqual(['e:outlier', 'f:unit', 'g:stale', 'h:error', 'i:malformed', 'j:out-of-range']);
    expect(a!.count + a!.leftOut.length).toBe(a!.devices);
  });
});

describe('deviceRows', () => {
  it('lists each device\'s reading of one key for a table, sorted by owner', () => {
    const state = fleet([
      ['pi-03', 'alive', KEY, okv(21.44), 12_000],
      ['pi-01', 'alive', KEY, errv('sensor room: CRC mismatch'), 1_000],
      ['pi-02', 'dead', KEY, okv(19), 2_000],
      ['pi-04', 'alive', KEY, 'garbage', 3_000],
      ['pi-05', null, KEY, okv(18, '°C', 60), 500_000],
      ['pi-03', 'alive', 'sensor/room/humidity', okv(40, '%RH'), 0],
    ]);
    expect(deviceRows(state, KEY, NOW)).toEqual([
      { owner: 'pi-01', member: 'alive', value: null, error: 'sensor room: CRC mismatch', unit: '°C', t: T, age: 1_000, state: 'error' },
      { owner: 'pi-02', member: 'dead', value: 19, error: null, unit: '°C', t: T, age: 2_000, state: 'stale' },
      { owner: 'pi-03', member: 'alive', value: 21.44, error: null, unit: '°C', t: T, age: 12_000, state: 'fresh' },
      { owner: 'pi-04', member: 'alive', value: null, error: null, unit: null, t: null, age: 3_000, state: 'malformed' },
      { owner: 'pi-05', member: 'unknown', value: 18, error: null, unit: '°C', t: T, age: 500_000, state: 'stale' },
    ]);
  });

  it('is empty for a key nobody holds', () => {
    expect(deviceRows(fleet([['a', 'alive', KEY, okv(1), 0]]), 'sensor/none/x', NOW)).toEqual([]);
  });
});

describe('a peer announcing an absurd interval', () => {
  it('is stale after two days of silence however long it claims to be quiet', async () => {
    const { aggregate, MAX_TRUSTED_INTERVAL_S } = await import('../../runtime/sensing/aggregate.js');
    const value = JSON.stringify({ v: 1, u: '°C', t: 0, i: 1e300 });
    const state = { members: [{ id: 'a', status: 'alive' as const }], entries: [{ owner: 'a', key: 'sensor/x/temperature', value, at: 0 }] };
    expect(aggregate(state, 1000)[0]!.count).toBe(1);
    expect(aggregate(state, 2 * MAX_TRUSTED_INTERVAL_S * 1000 + 60_000)[0]!.stale).toEqual(['a']);
  });
});
