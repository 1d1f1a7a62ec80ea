import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SensorError, type Quantity, type Sensor } from '../../hal/sensors/sensor.js';
import { decodeReading, type Reading } from '../../runtime/sensing/reading.js';
import { Sampler, type SamplerDeps, type SensorPlan } from '../../runtime/sensing/sampler.js';
import { FakeClock, FakeScheduler, FakeSensor, flush, temp } from './fakes.js';

interface Pub {
  readonly at: number;
  readonly key: string;
  readonly value: string;
  readonly reading: Reading | undefined;
}

type PlanIn = Partial<SensorPlan> & { sensor: Sensor };

interface RigOptions {
  readonly spread?: Record<string, number>;
  readonly options?: Pick<SamplerDeps, 'timeoutMs' | 'maxHungReads'>;
  /** Give the sampler no unpublish dependency. */
  readonly noUnpublish?: boolean;
  /** Runs before each publish is recorded; may throw to play a failing store. */
  readonly beforePublish?: (key: string) => void;
}

/**
 * A sampler on a fake clock and a hand-ticked scheduler. Plans default to a once-a-minute
 * schedule, deadband 0.1 and a 300 s max interval; spread offsets default to 0.
 */
function rig(clock: FakeClock, plans: PlanIn[], o: RigOptions = {}) {
  const scheduler = new FakeScheduler();
  const published: Pub[] = [];
  const unpublished: string[] = [];
  const errors: string[] = [];
  const sampler = new Sampler(
    plans.map((p) => ({ schedule: '0 * * * * *', deadband: 0.1, maxIntervalS: 300, ...p })),
    {
      scheduler,
      wallClock: clock.wallClock,
      monotonic: clock.monotonic,
      delay: clock.delay,
      spreadMs: (name) => o.spread?.[name] ?? 0,
      publish: (key, value) => {
        o.beforePublish?.(key);
        published.push({ at: clock.now, key, value, reading: decodeReading(value) });
      },
      ...(o.noUnpublish ? {} : { unpublish: (key: string) => void unpublished.push(key) }),
      onError: (sensor, e) => void errors.push(`${sensor}|${e.message}`),
      ...o.options,
    },
  );
  /** Advance to the next whole minute, tick every schedule, then let `settle` ms pass. */
  const minute = async (settle = 0): Promise<void> => {
    await clock.advance(60_000 - (clock.now % 60_000));
    scheduler.tick();
    await clock.advance(settle);
  };
  const status = (name: string) => sampler.status().find((s) => s.name === name)!;
  return { scheduler, sampler, published, unpublished, errors, minute, status };
}

const ok = (value: number, unit = '°C') => ({ ok: true, value, unit, i: 300 });
const bad = (error: string, unit = '°C') => ({ ok: false, error, unit, i: 300 });
/** What was published, without the t stamp. */
const summary = (ps: readonly Pub[]) => ps.map((p) => ({ at: p.at, key: p.key, reading: p.reading && { ...p.reading, t: undefined } }));
const readingOf = (p: Pub | undefined) => p?.reading && { ...p.reading, t: undefined };

describe('Sampler: first sample and spread', () => {
  it("takes a first sample at start, after the sensor's spread offset, and publishes it in the documented format", async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock, temp(21.437500000000004));
    const { sampler, published } = rig(clock, [{ sensor: room }], { spread: { room: 1500 } });
    sampler.start();
    await clock.advance(1499);
    expect(room.readsAt).toEqual([]);
    await clock.advance(1);
    expect(room.readsAt).toEqual([1500]);
    expect(published.map((p) => [p.key, p.value])).toEqual([['sensor/room/temperature', '{"v":21.438,"u":"°C","t":1795424498,"i":300}']]);
    // The read's timeout timer was cancelled when the read returned.
    expect(clock.pendingTimers).toBe(0);
  });

  it('reads each sensor at its own fixed offset after every tick, so each keeps a regular interval', async () => {
    const clock = new FakeClock();
    const a = new FakeSensor('a', clock, temp(20));
    const b = new FakeSensor('b', clock, temp(20));
    const { sampler, minute } = rig(clock, [{ sensor: a }, { sensor: b }], { spread: { a: 0, b: 2500 } });
    sampler.start();
    await clock.advance(3000);
    for (let k = 0; k < 3; k++) await minute(3000);
    expect(a.readsAt).toEqual([0, 60_000, 120_000, 180_000]);
    expect(b.readsAt).toEqual([2500, 62_500, 122_500, 182_500]);
  });

  it('sampleNow() takes one sample of every sensor and resolves when they are done', async () => {
    const clock = new FakeClock();
    const a = new FakeSensor('a', clock, temp(20));
    const { sampler, published } = rig(clock, [{ sensor: a }], { spread: { a: 700 } });
    sampler.start();
    await clock.advance(700);
    a.steady = temp(25);
    let done = false;
    void sampler.sampleNow().then(() => (done = true));
    await clock.advance(699);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
    expect(published.map((p) => p.reading?.ok && p.reading.value)).toEqual([20, 25]);
  });
});

describe('Sampler: overlap and timeouts', () => {
  it('skips and counts a tick while the previous read of that sensor is still running', async () => {
    const clock = new FakeClock();
    const slow = new FakeSensor('slow', clock); // every read waits for settle()
    const fast = new FakeSensor('fast', clock, temp(20));
    const { sampler, published, minute, status } = rig(clock, [{ sensor: slow }, { sensor: fast }], { options: { timeoutMs: 600_000 } });
    sampler.start();
    await minute();
    await minute();
    expect(slow.readsAt).toEqual([0]);
    expect(fast.readsAt).toEqual([0, 60_000, 120_000]);
    expect(status('slow').counts).toMatchObject({ reads: 1, overlapsSkipped: 2 });
    expect(status('fast').counts).toMatchObject({ reads: 3, overlapsSkipped: 0 });
    slow.settle(temp(18));
    await flush();
    expect(published.filter((p) => p.key === 'sensor/slow/temperature').map(readingOf)).toEqual([{ ...ok(18), t: undefined }]);
    await minute();
    expect(slow.readsAt).toEqual([0, 180_000]);
  });

  it('turns a read that never returns into an error reading at the timeout, and ignores its late result', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock).next(temp(20)); // first read answers, later ones hang
    const { sampler, published, minute, status, errors } = rig(clock, [{ sensor: room }]);
    sampler.start();
    await flush();
    await minute(9_999);
    expect(published).toHaveLength(1);
    await clock.advance(1);
    expect(summary(published)).toEqual([
      { at: 0, key: 'sensor/room/temperature', reading: { ...ok(20), t: undefined } },
      { at: 70_000, key: 'sensor/room/temperature', reading: { ...bad('sensor room: no reply within 10000 ms'), t: undefined } },
    ]);
    expect(status('room')).toMatchObject({ state: 'error', error: 'sensor room: no reply within 10000 ms', quantities: temp(20) });
    expect(status('room').counts).toMatchObject({ reads: 2, failures: 1, timeouts: 1 });
    expect(errors).toEqual(['room|sensor room: no reply within 10000 ms']);

    room.settle(temp(30)); // the hung read finally answers: too late to count
    await flush();
    expect(published).toHaveLength(2);
    expect(status('room')).toMatchObject({ state: 'error', quantities: temp(20) });

    room.next(temp(21));
    await minute();
    expect(readingOf(published[2])).toEqual({ ...ok(21), t: undefined });
    expect(status('room')).toMatchObject({ state: 'ok', error: null, quantities: temp(21) });
  });

  it('uses a configured timeout', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock);
    const { sampler, published } = rig(clock, [{ sensor: room }], { options: { timeoutMs: 2500 } });
    sampler.start();
    await clock.advance(2500);
    expect(published.map((p) => [p.at, p.key, p.reading?.ok === false && p.reading.error])).toEqual([[2500, 'sensor/room/error', 'sensor room: no reply within 2500 ms']]);
  });

  it('stops calling a driver that has left maxHungReads reads hanging, until one of them returns', async () => {
    const clock = new FakeClock();
    const stuck = new FakeSensor('stuck', clock);
    const { sampler, published, minute, status } = rig(clock, [{ sensor: stuck }], { options: { maxHungReads: 2 } });
    sampler.start();
    await clock.advance(10_000);
    await minute(10_000);
    expect(stuck.readsAt).toEqual([0, 60_000]);
    await minute();
    await minute();
    expect(stuck.readsAt).toEqual([0, 60_000]);
    expect(status('stuck').counts).toMatchObject({ reads: 2, timeouts: 2, failures: 4 });
    // The message changed, so it was published once; the repeat was held back by the deadband.
    expect(published.map((p) => [p.at, p.reading?.ok === false && p.reading.error])).toEqual([
      [10_000, 'sensor stuck: no reply within 10000 ms'],
      [120_000, 'sensor stuck: 2 earlier reads never returned; not reading again until one does'],
    ]);
    stuck.settle(temp(5));
    await flush();
    stuck.next(temp(6));
    await minute();
    expect(stuck.readsAt).toEqual([0, 60_000, 240_000]);
    expect(published.at(-1)?.key).toBe('sensor/stuck/temperature');
  });
});

describe('Sampler: deadband and liveness', () => {
  it('holds back changes inside the deadband and republishes an unchanged value once per max interval', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock).next(temp(20), temp(20.05), temp(20.12));
    room.steady = temp(20.12);
    const { sampler, published, minute, status } = rig(clock, [{ sensor: room, deadband: 0.1, maxIntervalS: 300 }]);
    sampler.start();
    for (let k = 0; k < 8; k++) await minute();
    // 0: first; 60 s: 20.05 is within 0.1 of 20; 120 s: 20.12 is not; 420 s: 300 s after 120 s.
    expect(published.map((p) => [p.at, p.reading?.ok && p.reading.value])).toEqual([
      [0, 20],
      [120_000, 20.12],
      [420_000, 20.12],
    ]);
    expect(status('room').counts).toMatchObject({ reads: 9, published: 3, suppressed: 6 });
  });

  it('republishes a little before the max interval is up, so a late tick cannot stretch it to a whole extra period', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock, temp(20));
    const { sampler, published } = rig(clock, [{ sensor: room, maxIntervalS: 300 }]);
    sampler.start();
    await clock.advance(298_900);
    await sampler.sampleNow();
    expect(published).toHaveLength(1);
    await clock.advance(100); // 299 s after the first publish: within LIVENESS_EARLY_MS of 300 s
    await sampler.sampleNow();
    expect(published.map((p) => p.at)).toEqual([0, 299_000]);
  });

  it('publishes every change of the published value with deadband 0, and compares rounded values', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock).next(temp(20), temp(20.000001), temp(20.001), temp(20.001));
    const { sampler, published } = rig(clock, [{ sensor: room, deadband: 0 }]);
    sampler.start();
    await flush();
    for (let k = 0; k < 3; k++) await sampler.sampleNow();
    // 20.000001 rounds to 20: float noise below 5 significant digits is not a change.
    expect(published.map((p) => p.reading?.ok && p.reading.value)).toEqual([20, 20.001]);
  });

  it('takes a deadband per quantity when given a function, Infinity leaving only the max-interval republish', async () => {
    const clock = new FakeClock();
    const env = new FakeSensor('env', clock);
    const seq: Array<[number, number, number]> = [
      [20, 1000, 100],
      [20.3, 1000.4, 200], // inside both deadbands; uptime never counts as a change
      [20.6, 1001.2, 300], // temperature moved 0.6 >= 0.5; pressure 1.2 >= 1
    ];
    for (const [t, p, up] of seq) {
      env.next([
        { quantity: 'temperature', value: t, unit: '°C' },
        { quantity: 'pressure', value: p, unit: 'hPa' },
        { quantity: 'uptime', value: up, unit: 's' },
      ]);
    }
    const asked: string[] = [];
    const deadband = (quantity: string, unit: string): number => {
      asked.push(`${quantity}:${unit}`);
      return ({ '°C': 0.5, hPa: 1, s: Infinity } as Record<string, number>)[unit] ?? 0;
    };
    const { sampler, published } = rig(clock, [{ sensor: env, deadband }]);
    sampler.start();
    await flush();
    for (let k = 0; k < 2; k++) await sampler.sampleNow();
    expect(published.map((p) => [p.key, p.reading?.ok && p.reading.value])).toEqual([
      ['sensor/env/temperature', 20],
      ['sensor/env/pressure', 1000],
      ['sensor/env/uptime', 100],
      ['sensor/env/temperature', 20.6],
      ['sensor/env/pressure', 1001.2],
    ]);
    expect(asked).toContain('pressure:hPa');
  });

  it('treats a deadband function that returns nonsense as 0, and says so', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock).next(temp(20), temp(20.01));
    const { sampler, published, errors } = rig(clock, [{ sensor: room, deadband: () => NaN }]);
    sampler.start();
    await flush();
    await sampler.sampleNow();
    expect(published.map((p) => p.reading?.ok && p.reading.value)).toEqual([20, 20.01]);
    expect(errors[0]).toBe('room|sensor room: deadband for temperature: expected a number >= 0, got NaN; publishing every change');
  });

  it('publishes ok -> error -> ok transitions at once, whatever the deadband', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock).next(temp(20), new SensorError('room', 'CRC mismatch'), new SensorError('room', 'CRC mismatch'), temp(20), temp(20));
    const { sampler, published, status, unpublished } = rig(clock, [{ sensor: room, deadband: 5 }]);
    sampler.start();
    for (let k = 0; k < 4; k++) await minuteOf(clock, sampler);
    expect(published.map((p) => [p.at, readingOf(p)])).toEqual([
      [0, { ...ok(20), t: undefined }],
      [60_000, { ...bad('sensor room: CRC mismatch'), t: undefined }],
      [180_000, { ...ok(20), t: undefined }],
    ]);
    expect(status('room').counts).toMatchObject({ reads: 5, failures: 2, published: 3, suppressed: 2 });
    // The sensor had published its quantity, so errors went there, never to sensor/room/error.
    expect(unpublished).toEqual([]);
  });

  it('republishes an unchanged error once per max interval too', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock, new SensorError('room', 'no device'));
    const { sampler, published, minute } = rig(clock, [{ sensor: room, maxIntervalS: 120 }]);
    sampler.start();
    for (let k = 0; k < 5; k++) await minute();
    expect(published.map((p) => [p.at, p.key])).toEqual([
      [0, 'sensor/room/error'],
      [120_000, 'sensor/room/error'],
      [240_000, 'sensor/room/error'],
    ]);
  });
});

/** sampleNow at the next whole minute: a tick without the scheduler. */
async function minuteOf(clock: FakeClock, sampler: Sampler): Promise<void> {
  await clock.advance(60_000 - (clock.now % 60_000));
  await sampler.sampleNow();
}

describe('Sampler: errors', () => {
  it('puts errors of a sensor that never worked under sensor/<name>/error, and retires that key once it works', async () => {
    const clock = new FakeClock();
    const probe = new FakeSensor('probe', clock).next(new SensorError('probe', '/sys/bus/w1/devices/28-x: no such device'));
    probe.steady = [
      { quantity: 'temperature', value: 4.5, unit: '°C' },
      { quantity: 'humidity', value: 80, unit: '%RH' },
    ];
    const { sampler, published, unpublished, minute } = rig(clock, [{ sensor: probe }]);
    sampler.start();
    await flush();
    expect(published.map((p) => [p.key, readingOf(p)])).toEqual([['sensor/probe/error', { ...bad('sensor probe: /sys/bus/w1/devices/28-x: no such device', ''), t: undefined }]]);
    await minute();
    expect(unpublished).toEqual(['sensor/probe/error']);
    expect(published.slice(1).map((p) => [p.key, readingOf(p)])).toEqual([
      ['sensor/probe/temperature', { ...ok(4.5), t: undefined }],
      ['sensor/probe/humidity', { ...ok(80, '%RH'), t: undefined }],
    ]);
    // From now on a failure is reported on every key the sensor has published, with its unit.
    probe.next(new SensorError('probe', 'CRC mismatch'));
    await minute();
    expect(published.slice(3).map((p) => [p.key, readingOf(p)])).toEqual([
      ['sensor/probe/temperature', { ...bad('sensor probe: CRC mismatch'), t: undefined }],
      ['sensor/probe/humidity', { ...bad('sensor probe: CRC mismatch', '%RH'), t: undefined }],
    ]);
    expect(unpublished).toEqual(['sensor/probe/error']);
  });

  it('without an unpublish dependency, just stops refreshing the error key', async () => {
    const clock = new FakeClock();
    const probe = new FakeSensor('probe', clock, temp(4)).next(new Error('no device'));
    const { sampler, published, minute, errors } = rig(clock, [{ sensor: probe }], { noUnpublish: true });
    sampler.start();
    for (let k = 0; k < 6; k++) await minute();
    expect(published.map((p) => [p.at, p.key])).toEqual([
      [0, 'sensor/probe/error'],
      [60_000, 'sensor/probe/temperature'],
      [360_000, 'sensor/probe/temperature'],
    ]);
    expect(errors).toEqual(['probe|no device']);
  });

  it('keeps sampling the other sensors when one throws, rejects or returns garbage', async () => {
    const clock = new FakeClock();
    const throwing: Sensor = {
      name: 'throws',
      type: 'fake',
      read: () => {
        throw new Error('synchronous throw');
      },
    };
    const garbage: Sensor = { name: 'garbage', type: 'fake', read: () => Promise.resolve({ temperature: 3 } as unknown as Quantity[]) };
    const empty: Sensor = { name: 'empty', type: 'fake', read: () => Promise.resolve([]) };
    const rejectsString: Sensor = { name: 'rejects', type: 'fake', read: () => Promise.reject('plain string') };
    const good = new FakeSensor('good', clock, temp(20));
    const { sampler, published, errors, minute, status } = rig(clock, [{ sensor: throwing }, { sensor: garbage }, { sensor: empty }, { sensor: rejectsString }, { sensor: good }]);
    sampler.start();
    await minute();
    expect(good.readsAt).toEqual([0, 60_000]);
    expect(published.filter((p) => p.key === 'sensor/good/temperature')).toHaveLength(1);
    expect(Object.fromEntries(published.filter((p) => p.at === 0 && p.reading?.ok === false).map((p) => [p.key, p.reading?.ok === false && p.reading.error]))).toEqual({
      'sensor/throws/error': 'synchronous throw',
      'sensor/garbage/error': 'sensor garbage: reader returned object instead of a list of quantities',
      'sensor/empty/error': 'sensor empty: reader returned no quantities',
      'sensor/rejects/error': 'plain string',
    });
    expect(errors.filter((e) => e.startsWith('throws|'))).toEqual(['throws|synchronous throw', 'throws|synchronous throw']);
    expect(status('throws').counts).toMatchObject({ reads: 2, failures: 2 });
    expect(status('good')).toMatchObject({ state: 'ok', error: null });
  });

  it('publishes an error for a quantity that is NaN, and still the others', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock).next([
      { quantity: 'temperature', value: NaN, unit: '°C' },
      { quantity: 'humidity', value: 40, unit: '%RH' },
    ]);
    room.steady = [{ quantity: 'temperature', value: Infinity, unit: '°C' }];
    const { sampler, published, status, minute } = rig(clock, [{ sensor: room }]);
    sampler.start();
    await flush();
    expect(published.map((p) => [p.key, readingOf(p)])).toEqual([
      ['sensor/room/temperature', { ...bad('sensor room: temperature is NaN, not a finite number'), t: undefined }],
      ['sensor/room/humidity', { ...ok(40, '%RH'), t: undefined }],
    ]);
    expect(status('room').state).toBe('ok');
    // Nothing finite at all is a failed read, reported on every key the sensor has.
    await minute();
    expect(status('room')).toMatchObject({ state: 'error', error: 'sensor room: no finite value (temperature Infinity)' });
    expect(published.slice(2).map((p) => p.key)).toEqual(['sensor/room/temperature', 'sensor/room/humidity']);
  });

  it('skips and reports quantities it cannot key or carry, publishing the rest', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock, [
      { quantity: 'Temperature', value: 1, unit: '°C' },
      { quantity: 'error', value: 1, unit: '' },
      { quantity: 'long-unit', value: 1, unit: 'u'.repeat(40) },
      { quantity: 'q'.repeat(120), value: 1, unit: '' },
      { quantity: 'pressure', value: 1013.25, unit: 'hPa' },
      { quantity: 'pressure', value: 999, unit: 'hPa' },
    ]);
    const { sampler, published, errors } = rig(clock, [{ sensor: room }]);
    sampler.start();
    await flush();
    expect(published.map((p) => [p.key, p.reading?.ok && p.reading.value])).toEqual([['sensor/room/pressure', 1013.3]]);
    expect(errors).toEqual([
      'room|sensor room: quantity name "Temperature": expected lower-case letters, digits, ".", "-" or "_"',
      'room|sensor room: quantity name "error" is reserved for the sensor\'s own errors',
      `room|sensor room: quantity long-unit: unit "${'u'.repeat(40)}": expected a string of at most 32 bytes`,
      `room|sensor room: quantity ${'q'.repeat(120)}: key sensor/room/${'q'.repeat(120)} is longer than 128 bytes`,
      'room|sensor room: quantity pressure returned twice in one read; the first is kept',
    ]);
  });

  it('reports a failed publish, publishes the other keys, and retries that key next time', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock, [
      { quantity: 'temperature', value: 20, unit: '°C' },
      { quantity: 'humidity', value: 40, unit: '%RH' },
    ]);
    let failing = true;
    const { sampler, published, errors, minute, status } = rig(clock, [{ sensor: room }], {
      beforePublish: (key) => {
        if (failing && key.endsWith('temperature')) throw new Error('store full');
      },
    });
    sampler.start();
    await flush();
    expect(published.map((p) => p.key)).toEqual(['sensor/room/humidity']);
    expect(errors).toEqual(['room|store full']);
    failing = false;
    await minute();
    expect(published.map((p) => p.key)).toEqual(['sensor/room/humidity', 'sensor/room/temperature']);
    expect(status('room').counts).toMatchObject({ published: 2, suppressed: 1 });
  });

  it('survives an onError hook that throws', async () => {
    const clock = new FakeClock();
    const published: string[] = [];
    const bad1 = new FakeSensor('bad', clock, new Error('nope'));
    const sampler = new Sampler([{ sensor: bad1, schedule: '0 * * * * *', deadband: 0, maxIntervalS: 60 }], {
      scheduler: new FakeScheduler(),
      wallClock: clock.wallClock,
      monotonic: clock.monotonic,
      delay: clock.delay,
      spreadMs: () => 0,
      publish: (key) => void published.push(key),
      onError: () => {
        throw new Error('hook broke');
      },
    });
    sampler.start();
    await sampler.settled();
    expect(published).toEqual(['sensor/bad/error']);
  });
});

describe('Sampler: stop and status', () => {
  it('publishes nothing a read returns after stop, stops its schedules, and settles at once', async () => {
    const clock = new FakeClock();
    const slow = new FakeSensor('slow', clock);
    const spread = new FakeSensor('spread', clock, temp(1));
    const { sampler, scheduler, published } = rig(clock, [{ sensor: slow }, { sensor: spread }], { spread: { spread: 5000 } });
    sampler.start();
    await clock.advance(1000);
    expect(scheduler.live).toBe(2);
    sampler.stop();
    expect(scheduler.live).toBe(0);
    let settled = false;
    void sampler.settled().then(() => (settled = true));
    await flush();
    expect(settled).toBe(true);
    slow.settle(temp(20));
    await clock.advance(60_000);
    scheduler.tasks.forEach((t) => t.task()); // a tick racing stop() is ignored too
    await clock.advance(60_000);
    expect(published).toEqual([]);
    expect(spread.readsAt).toEqual([]); // its spread wait was cut short by stop()
    expect(clock.pendingTimers).toBe(0);
  });

  it('can start again after stop, without the abandoned read blocking the sensor', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock).next(temp(20));
    const pending = new FakeSensor('pending', clock);
    const { sampler, published } = rig(clock, [{ sensor: room }, { sensor: pending }]);
    sampler.start();
    await flush();
    sampler.stop();
    room.steady = temp(30);
    pending.next(temp(7));
    sampler.start();
    await flush();
    expect(published.map((p) => [p.key, p.reading?.ok && p.reading.value])).toEqual([
      ['sensor/room/temperature', 20],
      ['sensor/room/temperature', 30],
      ['sensor/pending/temperature', 7],
    ]);
    // The read abandoned at stop still counts against the driver: one hung, under the cap of 2, so it is read again.
    expect(pending.readsAt).toEqual([0, 0]);
  });

  it('gives each wait a signal of its own and leaves no listener behind, however many reads it makes', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock, temp(20));
    const signals: AbortSignal[] = [];
    const sampler = new Sampler([{ sensor: room, schedule: '0 * * * * *', deadband: 0, maxIntervalS: 60 }], {
      scheduler: new FakeScheduler(),
      wallClock: clock.wallClock,
      monotonic: clock.monotonic,
      delay: (ms, signal) => {
        if (signal) signals.push(signal);
        return clock.delay(ms, signal);
      },
      spreadMs: () => 10, // so there is a spread wait as well as a read timeout
      publish: () => {},
    });
    sampler.start();
    await clock.advance(10);
    for (let k = 0; k < 100; k++) {
      void sampler.sampleNow();
      await clock.advance(10);
    }
    expect(room.readsAt).toHaveLength(101);
    expect(signals.length).toBeGreaterThan(200);
    expect(new Set(signals).size).toBe(signals.length);
    expect(signals.filter((sig) => getEventListeners(sig, 'abort').length > 0)).toEqual([]);
  });

  it('starts a dozen sensors on real timers without a Node warning (no signal gets more than one listener)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const reads: string[] = [];
      const sensors: Sensor[] = Array.from({ length: 12 }, (_, i) => ({ name: `s${i}`, type: 'fake', read: async () => (reads.push(`s${i}`), temp(20)) }));
      const sampler = new Sampler(
        sensors.map((sensor) => ({ sensor, schedule: '0 0 * * * *', deadband: 0, maxIntervalS: 3600 })),
        {
          scheduler: new FakeScheduler(),
          wallClock: Date.now,
          monotonic: () => performance.now(),
          delay: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
          spreadMs: () => 20,
          publish: () => {},
        },
      );
      sampler.start();
      await sampler.settled();
      expect(reads).toHaveLength(12);
      sampler.stop();
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
      expect(warnings.map((w) => w.name)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('reports per sensor: type, last read, quantities or error, and counts', async () => {
    const clock = new FakeClock();
    const room = new FakeSensor('room', clock).next(temp(20.5), new SensorError('room', 'no reply'));
    const { sampler, status, minute } = rig(clock, [{ sensor: room, schedule: '*/30 * * * * *' }]);
    expect(status('room')).toEqual({
      name: 'room',
      type: 'fake',
      schedule: '*/30 * * * * *',
      state: 'pending',
      lastReadAt: null,
      quantities: [],
      error: null,
      counts: { reads: 0, failures: 0, timeouts: 0, overlapsSkipped: 0, published: 0, suppressed: 0 },
    });
    sampler.start();
    await flush();
    expect(status('room')).toMatchObject({ state: 'ok', lastReadAt: clock.wallBase, quantities: temp(20.5), error: null });
    await minute();
    expect(status('room')).toEqual({
      name: 'room',
      type: 'fake',
      schedule: '*/30 * * * * *',
      state: 'error',
      lastReadAt: clock.wallBase + 60_000,
      quantities: temp(20.5),
      error: 'sensor room: no reply',
      counts: { reads: 2, failures: 1, timeouts: 0, overlapsSkipped: 0, published: 2, suppressed: 0 },
    });
  });

  it.each<[string, Partial<SensorPlan>, Record<string, number>, RegExp]>([
    ['a bad schedule', { schedule: '*/70 * * * *' }, {}, /^sensor room: schedule: "\*\/70 \* \* \* \*" is not a valid cron expression/],
    ['a negative deadband', { deadband: -1 }, {}, /^sensor room: deadband: expected a number >= 0, got -1/],
    ['a NaN deadband', { deadband: NaN }, {}, /^sensor room: deadband: expected a number >= 0, got NaN/],
    ['a zero max interval', { maxIntervalS: 0 }, {}, /^sensor room: maxIntervalS: expected a number > 0, got 0/],
    ['a NaN spread', {}, { room: NaN }, /^sensor room: spread offset: expected ms >= 0, got NaN/],
    ['a bad sensor name', { sensor: { name: 'Room 1', type: 'x', read: async () => [] } }, {}, /sensor name "Room 1"/],
  ])('refuses %s at construction, naming the sensor', (_what, plan, spread, message) => {
    const clock = new FakeClock();
    expect(() => rig(clock, [{ sensor: new FakeSensor('room', clock), ...plan }], { spread })).toThrow(message);
  });

  it('refuses two sensors of the same name', () => {
    const clock = new FakeClock();
    expect(() => rig(clock, [{ sensor: new FakeSensor('room', clock) }, { sensor: new FakeSensor('room', clock) }])).toThrow(/sensor room: configured twice/);
  });
});
