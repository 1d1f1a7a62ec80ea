import { describe, expect, it } from 'vitest';
import {
  MAX_ERROR_BYTES,
  decodeReading,
  encodeReading,
  parseSensorKey,
  roundValue,
  sensorKey,
  type Reading,
} from '../../runtime/sensing/reading.js';

describe('sensorKey and parseSensorKey', () => {
  it('builds and parses the documented key', () => {
    expect(sensorKey('room', 'temperature')).toBe('sensor/room/temperature');
    expect(sensorKey('ds18b20-28.0000075d7a5c', 'under_voltage')).toBe('sensor/ds18b20-28.0000075d7a5c/under_voltage');
    expect(parseSensorKey('sensor/room/temperature')).toEqual({ sensor: 'room', quantity: 'temperature' });
  });

  it.each([
    ['Room', 'temperature', /sensor name "Room"/],
    ['room', 'Temp', /quantity "Temp"/],
    ['ro/om', 'temperature', /sensor name "ro\/om"/],
    ['', 'temperature', /sensor name ""/],
    ['room', '', /quantity ""/],
    ['x'.repeat(100), 'y'.repeat(30), /at most 128 fit/],
  ])('refuses sensor %j quantity %j', (sensor, quantity, message) => {
    expect(() => sensorKey(sensor, quantity)).toThrow(message);
  });

  it('accepts a key of exactly 128 bytes', () => {
    const key = sensorKey('s'.repeat(100), 'q'.repeat(128 - 'sensor/'.length - 100 - 1));
    expect(key).toHaveLength(128);
  });

  it.each([
    'health/cpu',
    'sensor/room',
    'sensor/room/temperature/extra',
    'sensor//temperature',
    'sensor/Room/temperature',
    'sensors/room/temperature',
    `sensor/${'a'.repeat(130)}/t`,
  ])('%j is not a sensor key', (key) => {
    expect(parseSensorKey(key)).toBeUndefined();
  });
});

describe('roundValue', () => {
  it.each([
    [21.437500000000004, 21.438],
    [21.44, 21.44],
    [1013.25123, 1013.3],
    [0.000123456, 0.00012346],
    [123456.7, 123457],
    [1234567, 1234567],
    [-67, -67],
    [-0.000001, -0.000001],
    [-0, 0],
    [0.1 + 0.2, 0.3],
  ])('%d -> %d', (v, r) => {
    expect(roundValue(v)).toBe(r);
  });
});

describe('encodeReading', () => {
  it('writes the documented compact JSON', () => {
    expect(encodeReading({ ok: true, value: 21.437500000000004, unit: '°C', t: 1795424497, i: 300 })).toBe('{"v":21.438,"u":"°C","t":1795424497,"i":300}');
    expect(encodeReading({ ok: false, error: 'sensor room: no reply', unit: '°C', t: 1795424497, i: 300 })).toBe(
      '{"e":"sensor room: no reply","u":"°C","t":1795424497,"i":300}',
    );
  });

  it('caps error text so the value stays far under the 1024-byte limit, even when JSON escaping inflates it', () => {
    for (const text of ['x'.repeat(5000), '"\\'.repeat(3000), 'é'.repeat(3000), '😀'.repeat(2000)]) {
      const value = encodeReading({ ok: false, error: text, unit: '°C', t: 1795424497, i: 300 });
      expect(Buffer.byteLength(value)).toBeLessThanOrEqual(MAX_ERROR_BYTES + 100);
      const back = decodeReading(value);
      expect(back?.ok).toBe(false);
      if (back && !back.ok) {
        expect(back.error.endsWith('…')).toBe(true);
        expect(text.startsWith(back.error.slice(0, -1))).toBe(true);
      }
    }
  });

  it('strips terminal control characters from error text', () => {
    const value = encodeReading({ ok: false, error: 'bad\u001b[31m red\nline', unit: '', t: 1, i: 1 });
    expect(value).not.toMatch(/\\u001b|\\n/);
    expect(decodeReading(value)).toEqual({ ok: false, error: 'bad [31m red line', unit: '', t: 1, i: 1 });
  });

  it.each([
    [{ ok: true, value: NaN, unit: '°C', t: 1, i: 300 }, /v: NaN/],
    [{ ok: true, value: Infinity, unit: '°C', t: 1, i: 300 }, /v: Infinity/],
    [{ ok: true, value: 1, unit: '°C', t: 1.5, i: 300 }, /t: expected whole unix seconds/],
    [{ ok: true, value: 1, unit: '°C', t: 1, i: 0 }, /i: expected a positive/],
    [{ ok: true, value: 1, unit: 'u'.repeat(33), t: 1, i: 300 }, /u: .* longer than 32/],
  ] as Array<[Reading, RegExp]>)('refuses what the format cannot carry: %j', (r, message) => {
    expect(() => encodeReading(r)).toThrow(message);
  });
});

describe('decodeReading', () => {
  it.each<Reading>([
    { ok: true, value: 21.44, unit: '°C', t: 1795424497, i: 300 },
    { ok: true, value: -0.00012346, unit: '', t: 0, i: 0.5 },
    { ok: true, value: 1234567, unit: 's', t: 1795424497, i: 3600 },
    { ok: false, error: 'sensor room: /sys/bus/w1/devices/28-x/temperature: CRC mismatch', unit: '°C', t: 1795424497, i: 300 },
  ])('round-trips %j', (r) => {
    expect(decodeReading(encodeReading(r))).toEqual(r);
  });

  it('ignores fields it does not know (a later version may add some)', () => {
    expect(decodeReading('{"v":1,"u":"V","t":5,"i":60,"q":"good"}')).toEqual({ ok: true, value: 1, unit: 'V', t: 5, i: 60 });
  });

  it.each([
    ['a number', 21.4],
    ['a boolean', true],
    ['bytes', new TextEncoder().encode('{"v":1,"u":"","t":1,"i":1}')],
    ['null', null],
    ['an object, not a string', { v: 1, u: '', t: 1, i: 1 }],
    ['not JSON', 'hello'],
    ['truncated JSON', '{"v":1,"u":"°C","t":1'],
    ['JSON null', 'null'],
    ['a JSON array', '[1,"°C",1,300]'],
    ['a JSON string', '"21.4"'],
    ['v as a string', '{"v":"21.4","u":"°C","t":1,"i":300}'],
    ['v overflowing to Infinity', '{"v":1e999,"u":"°C","t":1,"i":300}'],
    ['NaN spelled out', '{"v":NaN,"u":"°C","t":1,"i":300}'],
    ['both v and e', '{"v":1,"e":"x","u":"°C","t":1,"i":300}'],
    ['neither v nor e', '{"u":"°C","t":1,"i":300}'],
    ['e as a number', '{"e":5,"u":"°C","t":1,"i":300}'],
    ['a missing unit', '{"v":1,"t":1,"i":300}'],
    ['a unit that is a number', '{"v":1,"u":1,"t":1,"i":300}'],
    ['a huge unit', `{"v":1,"u":"${'u'.repeat(200)}","t":1,"i":300}`],
    ['a negative t', '{"v":1,"u":"°C","t":-1,"i":300}'],
    ['t as a string', '{"v":1,"u":"°C","t":"now","i":300}'],
    ['i of 0', '{"v":1,"u":"°C","t":1,"i":0}'],
    ['a negative i', '{"v":1,"u":"°C","t":1,"i":-300}'],
    ['i overflowing to Infinity', '{"v":1,"u":"°C","t":1,"i":1e999}'],
    ['a huge string', `{"e":"${'x'.repeat(100_000)}","u":"","t":1,"i":1}`],
    ['fields hidden under __proto__', '{"__proto__":{"v":1,"u":"°C","t":1,"i":300}}'],
    ['fields hidden under constructor', '{"constructor":{"v":1},"u":"°C","t":1,"i":300}'],
  ])('rejects %s', (_what, value) => {
    expect(decodeReading(value)).toBeUndefined();
  });

  it('decodes a reading that also carries "__proto__" without polluting any prototype', () => {
    const r = decodeReading('{"__proto__":{"polluted":true,"v":99},"v":1,"u":"°C","t":1,"i":300}');
    expect(r).toEqual({ ok: true, value: 1, unit: '°C', t: 1, i: 300 });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
  });

  it('cuts an over-long error from a peer to the same cap a publisher uses', () => {
    const r = decodeReading(JSON.stringify({ e: 'x'.repeat(900), u: '', t: 1, i: 1 }));
    expect(r?.ok).toBe(false);
    if (r && !r.ok) expect(Buffer.byteLength(r.error)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
  });
});
