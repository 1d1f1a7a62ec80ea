import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IioSensor, listIioDevices } from '../../../hal/sensors/iio.js';
import { SensorError } from '../../../hal/sensors/sensor.js';
import { FailingFs, FakeTree } from '../fake-tree.js';
import { readErr } from './support.js';

const IIO = '/sys/bus/iio/devices';

let tree: FakeTree;
let slept: number[];
const sleep = (ms: number): Promise<void> => {
  slept.push(ms);
  return Promise.resolve();
};
beforeEach(() => {
  tree = new FakeTree();
  slept = [];
});
afterEach(() => tree.remove());

const device = (dir: string, name: string, files: Record<string, string>): void => {
  tree.file(`${IIO}/${dir}/name`, `${name}\n`);
  for (const [f, v] of Object.entries(files)) tree.file(`${IIO}/${dir}/${f}`, v);
};
const bme280 = (dir = 'iio:device0'): void =>
  device(dir, 'bme280', { in_temp_input: '23450\n', in_pressure_input: '101.325\n', in_humidityrelative_input: '45123\n', in_temp_oversampling_ratio: '2\n' });
const dht = (dir = 'iio:device1'): void => device(dir, 'dht11@4', { in_temp_input: '21800\n', in_humidityrelative_input: '55300\n' });

describe('listIioDevices', () => {
  it('lists named devices in number order, with the device-tree address stripped from the base name', () => {
    device('iio:device10', 'ads1015', {});
    dht('iio:device2');
    tree.dir(`${IIO}/iio:device3`); // no name file: skipped
    tree.dir(`${IIO}/trigger0`);
    expect(listIioDevices(tree.fs())).toEqual([
      { dir: 'iio:device2', name: 'dht11@4', base: 'dht11' },
      { dir: 'iio:device10', name: 'ads1015', base: 'ads1015' },
    ]);
  });
});

describe('IioSensor', () => {
  it('reads a BME280 by name: °C from milli °C, hPa from kPa, %RH from milli %RH', async () => {
    bme280();
    const s = new IioSensor('bme280', tree.fs(), { device: 'bme280' });
    expect(s.type).toBe('iio');
    expect(await s.read()).toEqual([
      { quantity: 'temperature', value: 23.45, unit: '°C' },
      { quantity: 'pressure', value: 1013.25, unit: 'hPa' },
      { quantity: 'humidity', value: 45.123, unit: '%RH' },
    ]);
  });
  it('reads a device by directory, and a BMP280 has no humidity', async () => {
    bme280('iio:device0');
    device('iio:device1', 'bmp280', { in_temp_input: '19000\n', in_pressure_input: '99.5\n' });
    expect(await new IioSensor('p', tree.fs(), { device: 'iio:device1' }).read()).toEqual([
      { quantity: 'temperature', value: 19, unit: '°C' },
      { quantity: 'pressure', value: 995, unit: 'hPa' },
    ]);
  });
  it('finds a DHT by its base name or its full name', async () => {
    bme280('iio:device0');
    dht('iio:device1');
    const expected = [
      { quantity: 'temperature', value: 21.8, unit: '°C' },
      { quantity: 'humidity', value: 55.3, unit: '%RH' },
    ];
    expect(await new IioSensor('dht', tree.fs(), { device: 'dht11' }).read()).toEqual(expected);
    expect(await new IioSensor('dht', tree.fs(), { device: 'dht11@4' }).read()).toEqual(expected);
  });
  it('computes (raw + offset) * scale, in the ABI units, when there is no _input file', async () => {
    device('iio:device0', 'bme280', {
      in_temp_raw: '1000\n',
      in_temp_offset: '-500\n',
      in_temp_scale: '10\n',
      in_pressure_raw: '101325\n',
      in_pressure_scale: '0.001000\n',
      in_humidityrelative_raw: '40000\n',
    });
    expect(await new IioSensor('env', tree.fs(), { device: 'bme280' }).read()).toEqual([
      { quantity: 'temperature', value: 5, unit: '°C' },
      { quantity: 'pressure', value: 1013.25, unit: 'hPa' },
      { quantity: 'humidity', value: 40, unit: '%RH' },
    ]);
  });
  it('prefers the processed _input over _raw when both exist', async () => {
    device('iio:device0', 'bme280', { in_temp_input: '20000\n', in_temp_raw: '1\n', in_temp_scale: '1\n' });
    expect(await new IioSensor('env', tree.fs(), { device: 'bme280' }).read()).toEqual([{ quantity: 'temperature', value: 20, unit: '°C' }]);
  });
  it('retries a DHT read that fails with EIO or ETIMEDOUT, then succeeds', async () => {
    dht();
    const fs = new FailingFs(tree.root).failOn(`${IIO}/iio:device1/in_temp_input`, 'EIO', 1).failOn(`${IIO}/iio:device1/in_humidityrelative_input`, 'ETIMEDOUT', 1);
    const q = await new IioSensor('dht', fs, { device: 'dht11', sleep }).read();
    expect(q.map((x) => x.value)).toEqual([21.8, 55.3]);
    // Temperature failed once, then humidity failed once on the second attempt: two waits.
    expect(slept).toEqual([500, 500]);
  });
  it('gives up after 3 retries with an error naming the file and the count', async () => {
    dht();
    const path = `${IIO}/iio:device1/in_temp_input`;
    const fs = new FailingFs(tree.root).failOn(path, 'ETIMEDOUT');
    const e = await readErr(new IioSensor('dht', fs, { device: 'dht11', sleep }));
    expect(e.message).toBe(`sensor dht: ${path}: the device did not answer (ETIMEDOUT), 4 attempts in a row (dht11@4: check wiring and power if this persists)`);
    expect(slept).toEqual([500, 500, 500]);
  });
  it('honours a configured retry count and delay', async () => {
    dht();
    const fs = new FailingFs(tree.root).failOn(`${IIO}/iio:device1/in_temp_input`, 'EIO');
    const e = await readErr(new IioSensor('dht', fs, { device: 'dht11', sleep, retries: 1, retryDelayMs: 2000 }));
    expect(e.message).toMatch(/I\/O error \(EIO\), 2 attempts in a row/);
    expect(slept).toEqual([2000]);
  });
  it('does not retry a permission error or unparseable content', async () => {
    dht();
    const path = `${IIO}/iio:device1/in_humidityrelative_input`;
    const e = await readErr(new IioSensor('dht', new FailingFs(tree.root).failOn(path, 'EACCES'), { device: 'dht11', sleep }));
    expect(e.message).toBe(`sensor dht: ${path}: permission denied (EACCES)`);
    tree.file(path, 'nan?\n');
    const g = await readErr(new IioSensor('dht', tree.fs(), { device: 'dht11', sleep }));
    expect(g.message).toBe(`sensor dht: ${path}: unparseable "nan?" (expected milli-percent relative humidity)`);
    expect(slept).toEqual([]);
  });
  it('an empty scale or a garbage raw value is an error naming the file', async () => {
    device('iio:device0', 'bmp280', { in_pressure_raw: '101325\n', in_pressure_scale: '' });
    expect((await readErr(new IioSensor('p', tree.fs(), { device: 'bmp280' }))).message).toMatch(/in_pressure_scale is empty \(expected a scale\)/);
    tree.file(`${IIO}/iio:device0/in_pressure_scale`, '0.001');
    tree.file(`${IIO}/iio:device0/in_pressure_raw`, '0x1f\n');
    expect((await readErr(new IioSensor('p', tree.fs(), { device: 'bmp280' }))).message).toMatch(/in_pressure_raw: unparseable "0x1f"/);
  });
  it('a missing device is an error naming it and listing what is there', async () => {
    dht();
    expect((await readErr(new IioSensor('env', tree.fs(), { device: 'bme280' }))).message).toBe(
      `sensor env: no IIO device bme280 under ${IIO} (found: iio:device1 (dht11@4))`,
    );
    expect((await readErr(new IioSensor('env', tree.fs(), { device: 'iio:device0' }))).message).toMatch(/no IIO device iio:device0/);
  });
  it('an empty IIO bus is an error with a hint', async () => {
    expect((await readErr(new IioSensor('env', tree.fs(), { device: 'bme280' }))).message).toMatch(/none there: is its dtoverlay loaded\?/);
  });
  it('a device without environment channels is an error naming it', async () => {
    device('iio:device0', 'ads1015', { in_voltage0_raw: '100\n' });
    expect((await readErr(new IioSensor('adc', tree.fs(), { device: 'ads1015' }))).message).toBe(
      `sensor adc: ${IIO}/iio:device0 (ads1015) has no temperature, pressure or humidity channel`,
    );
  });
});
