import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSensor, detectSensors, SENSOR_TYPES, type SensorSpec } from '../../../hal/sensors/catalog.js';
import { THROTTLED_FILE } from '../../../hal/sensors/throttle.js';
import { FakeCommands } from '../fake-commands.js';
import { FailingFs, FakeTree } from '../fake-tree.js';

const IIO = '/sys/bus/iio/devices';
const W1 = '/sys/bus/w1/devices';
const HEAD = 'Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE\n face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22\n';
const w1slave = (t: number): string => `72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=${t}\n`;

let tree: FakeTree;
let commands: FakeCommands;
beforeEach(() => {
  tree = new FakeTree();
  commands = new FakeCommands();
});
afterEach(() => tree.remove());

/** What a Pi 4 with a BME280, a DHT22 and two DS18B20 probes shows in /sys and /proc. */
const piTree = (): void => {
  tree
    .file('/sys/class/thermal/thermal_zone0/type', 'cpu-thermal\n')
    .file('/sys/class/thermal/thermal_zone0/temp', '47236\n')
    .file('/sys/class/thermal/cooling_device0/type', 'gpio-fan\n')
    .file(THROTTLED_FILE, '0\n')
    .file('/proc/net/wireless', `${HEAD} wlan0: 0000   56.  -54.  -256        0      0      0      0      0        0\n`)
    .file(`${W1}/28-0316a2795eff/w1_slave`, w1slave(21500))
    .file(`${W1}/28-0416b1234567/w1_slave`, w1slave(4250))
    .dir(`${W1}/w1_bus_master1`)
    .file(`${IIO}/iio:device0/name`, 'bme280\n')
    .file(`${IIO}/iio:device0/in_temp_input`, '22100\n')
    .file(`${IIO}/iio:device0/in_pressure_input`, '100.8\n')
    .file(`${IIO}/iio:device0/in_humidityrelative_input`, '41000\n')
    .file(`${IIO}/iio:device1/name`, 'dht11@4\n')
    .file(`${IIO}/iio:device1/in_temp_input`, '22500\n')
    .file(`${IIO}/iio:device1/in_humidityrelative_input`, '52000\n')
    .file(`${IIO}/iio:device2/name`, 'ads1015\n')
    .file(`${IIO}/iio:device2/in_voltage0_raw`, '1000\n')
    .file('/proc/loadavg', '0.10 0.20 0.30 1/200 999\n')
    .file('/proc/meminfo', 'MemTotal: 3884028 kB\nMemFree: 100000 kB\nMemAvailable: 3000000 kB\n')
    .file('/proc/uptime', '1234.5 4000.0\n');
};

const ALWAYS: SensorSpec[] = [
  { name: 'load', type: 'load' },
  { name: 'memory', type: 'memory' },
  { name: 'disk', type: 'disk', mount: '/' },
  { name: 'uptime', type: 'uptime' },
];

describe('SENSOR_TYPES', () => {
  it('lists every reader type once', () => {
    expect([...SENSOR_TYPES].sort()).toEqual(['cpu-temperature', 'disk', 'ds18b20', 'iio', 'load', 'memory', 'simulated', 'throttle', 'uptime', 'wifi']);
  });
});

describe('createSensor', () => {
  it('builds a reader of the named type for every type', () => {
    for (const type of SENSOR_TYPES) {
      const spec: SensorSpec = type === 'iio' ? { name: 'x', type, device: 'bme280' } : { name: 'x', type };
      const s = createSensor(spec, { fs: tree.fs(), commands });
      expect([s.name, s.type]).toEqual(['x', type]);
    }
  });
  it('an unknown type is an error naming the field and the known types', () => {
    const spec = { name: 'room', type: 'bme-280' } as unknown as SensorSpec;
    expect(() => createSensor(spec, { fs: tree.fs(), commands })).toThrow(/sensor "room": unknown type "bme-280" in field "type" \(one of: cpu-temperature, .*simulated\)/);
  });
  it('iio needs a device, and names the field', () => {
    expect(() => createSensor({ name: 'env', type: 'iio' }, { fs: tree.fs(), commands })).toThrow(/sensor "env": type iio needs field "device"/);
  });
  it('a field that does not apply to the type is an error naming it', () => {
    expect(() => createSensor({ name: 'w', type: 'wifi', mount: '/data' }, { fs: tree.fs(), commands })).toThrow('sensor "w": field "mount" does not apply to type wifi (it takes: interface)');
    expect(() => createSensor({ name: 'l', type: 'load', seed: 1 }, { fs: tree.fs(), commands })).toThrow('sensor "l": field "seed" does not apply to type load');
  });
  it('bad field values are errors naming the field', () => {
    expect(() => createSensor({ name: 'd', type: 'disk', mount: 'data' }, { fs: tree.fs(), commands })).toThrow(/field "mount" must be an absolute path/);
    expect(() => createSensor({ name: 'c', type: 'cpu-temperature', zone: '' }, { fs: tree.fs(), commands })).toThrow(/field "zone" must be a non-empty string/);
    expect(() => createSensor({ name: '', type: 'load' }, { fs: tree.fs(), commands })).toThrow(/field "name"/);
    expect(() => createSensor({ name: 's', type: 'simulated', seed: Number.NaN }, { fs: tree.fs(), commands })).toThrow(/field "seed" must be a finite number/);
  });
  it('passes the spec fields and the injected sleep to the readers', async () => {
    piTree();
    tree.file('/sys/class/thermal/thermal_zone1/type', 'ddr-thermal\n').file('/sys/class/thermal/thermal_zone1/temp', '40000\n');
    const zone = createSensor({ name: 'ddr', type: 'cpu-temperature', zone: '1' }, { fs: tree.fs(), commands });
    expect((await zone.read())[0]?.value).toBe(40);
    const probe = createSensor({ name: 'p', type: 'ds18b20', device: '28-0416b1234567' }, { fs: tree.fs(), commands });
    expect((await probe.read())[0]?.value).toBe(4.25);

    const slept: number[] = [];
    const fs = new FailingFs(tree.root).failOn(`${IIO}/iio:device1/in_temp_input`, 'EIO', 2);
    const dht = createSensor({ name: 'dht', type: 'iio', device: 'dht11' }, { fs, commands, sleep: (ms) => (slept.push(ms), Promise.resolve()) });
    expect((await dht.read()).map((q) => q.value)).toEqual([22.5, 52]);
    expect(slept).toHaveLength(2);
  });
  it('throttle goes through the injected command runner when the firmware file is absent', async () => {
    commands.on('vcgencmd', { code: 0, stdout: 'throttled=0x1\n', stderr: '' });
    const s = createSensor({ name: 'throttle', type: 'throttle' }, { fs: tree.fs(), commands });
    expect((await s.read()).find((q) => q.quantity === 'under-voltage')?.value).toBe(1);
    expect(commands.calls).toEqual(['vcgencmd get_throttled']);
  });
  it('a simulated seed makes the series repeatable; without one the injected random is used', async () => {
    const a = createSensor({ name: 's', type: 'simulated', seed: 9 }, { fs: tree.fs(), commands });
    const b = createSensor({ name: 's', type: 'simulated', seed: 9 }, { fs: tree.fs(), commands, random: () => 0.5 });
    expect(await b.read()).toEqual(await a.read());
    const c = createSensor({ name: 's', type: 'simulated' }, { fs: tree.fs(), commands, random: () => 0.5 });
    expect((await c.read()).map((q) => q.value)).toEqual([21, 45, 1013]);
  });
  it('unseeded simulated sensors without an injected random differ from one another', async () => {
    const reads = await Promise.all([1, 2, 3].map(() => createSensor({ name: 's', type: 'simulated' }, { fs: tree.fs(), commands }).read()));
    expect(new Set(reads.map((r) => JSON.stringify(r))).size).toBeGreaterThan(1);
  });
});

describe('detectSensors', () => {
  it('finds everything on a Pi-like tree, with short stable names', () => {
    piTree();
    expect(detectSensors(tree.fs())).toEqual([
      { name: 'cpu', type: 'cpu-temperature' },
      { name: 'throttle', type: 'throttle' },
      { name: 'wifi', type: 'wifi', interface: 'wlan0' },
      { name: 'ds18b20-5eff', type: 'ds18b20', device: '28-0316a2795eff' },
      { name: 'ds18b20-4567', type: 'ds18b20', device: '28-0416b1234567' },
      { name: 'bme280', type: 'iio', device: 'bme280' },
      { name: 'dht11', type: 'iio', device: 'dht11' },
      ...ALWAYS,
    ]);
  });
  it('every sensor it detects on that tree builds and reads', async () => {
    piTree();
    const results = await Promise.allSettled(detectSensors(tree.fs()).map((spec) => createSensor(spec, { fs: tree.fs(), commands }).read()));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(commands.calls).toEqual([]);
  });
  it('an empty machine still has load, memory, disk and uptime', () => {
    expect(detectSensors(tree.fs())).toEqual(ALWAYS);
  });
  it('skips Wi-Fi when no interface is listed, and throttle when neither the firmware file nor vcgencmd is there', () => {
    tree.file('/proc/net/wireless', HEAD);
    expect(detectSensors(tree.fs()).map((s) => s.name)).toEqual(['load', 'memory', 'disk', 'uptime']);
  });
  it('finds throttle on a Pi without the firmware file when vcgencmd is installed (without running it)', () => {
    tree.file('/usr/bin/vcgencmd', '#!/bin/sh\n');
    expect(detectSensors(tree.fs()).map((s) => s.name)).toEqual(['throttle', 'load', 'memory', 'disk', 'uptime']);
    expect(commands.calls).toEqual([]);
  });
  it('tells apart two of the same IIO chip by directory, and probes whose serials end alike by full serial', () => {
    tree
      .file(`${IIO}/iio:device0/name`, 'bme280\n')
      .file(`${IIO}/iio:device1/name`, 'bme280\n')
      .file(`${W1}/28-00000000beef/w1_slave`, w1slave(1000))
      .file(`${W1}/28-11111111beef/w1_slave`, w1slave(1000));
    const found = detectSensors(tree.fs()).filter((s) => s.type === 'iio' || s.type === 'ds18b20');
    expect(found).toEqual([
      { name: 'ds18b20-00000000beef', type: 'ds18b20', device: '28-00000000beef' },
      { name: 'ds18b20-11111111beef', type: 'ds18b20', device: '28-11111111beef' },
      { name: 'bme280-0', type: 'iio', device: 'iio:device0' },
      { name: 'bme280-1', type: 'iio', device: 'iio:device1' },
    ]);
  });
});
