// From configuration to readers: which sensor types exist, how a spec from the config becomes a
// Sensor, and which sensors this machine has when none are configured. Detection only looks at
// files (no vcgencmd, no slow 1-Wire or DHT reads), so it is quick and cannot hang at startup.

import type { CommandRunner } from '../command.js';
import type { FsRoot } from '../fs-root.js';
import { Ds18b20Sensor, listDs18b20 } from './ds18b20.js';
import { IioSensor, KNOWN_IIO_NAMES, listIioDevices } from './iio.js';
import type { Sensor } from './sensor.js';
import { SimulatedEnvironmentSensor } from './simulated.js';
import { DiskSensor, LoadSensor, MemorySensor, UptimeSensor } from './system.js';
import { CpuTemperatureSensor, thermalZones } from './thermal.js';
import { THROTTLED_FILE, ThrottleSensor } from './throttle.js';
import { WifiSensor, wirelessInterfaces } from './wifi.js';

export type SensorType = 'cpu-temperature' | 'ds18b20' | 'iio' | 'throttle' | 'wifi' | 'load' | 'memory' | 'disk' | 'uptime' | 'simulated';

export const SENSOR_TYPES: readonly SensorType[] = ['cpu-temperature', 'ds18b20', 'iio', 'throttle', 'wifi', 'load', 'memory', 'disk', 'uptime', 'simulated'];

export interface SensorSpec {
  name: string;
  type: SensorType;
  /** ds18b20: "28-0316a2795eff"; iio: an IIO name ("bme280") or directory ("iio:device0"). */
  device?: string;
  /** cpu-temperature: a thermal zone directory, number or type. */
  zone?: string;
  /** disk: the mount point, "/" by default. */
  mount?: string;
  /** wifi: "wlan0"; the first listed by default. */
  interface?: string;
  /** simulated: the PRNG seed. */
  seed?: number;
}

export interface SensorDeps {
  readonly fs: FsRoot;
  readonly commands: CommandRunner;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

type OptionField = 'device' | 'zone' | 'mount' | 'interface' | 'seed';
const OPTION_FIELDS: readonly OptionField[] = ['device', 'zone', 'mount', 'interface', 'seed'];

/** The optional fields each type takes; any other set field is a config mistake worth naming. */
const FIELDS_OF: Readonly<Record<SensorType, readonly OptionField[]>> = {
  'cpu-temperature': ['zone'],
  ds18b20: ['device'],
  iio: ['device'],
  throttle: [],
  wifi: ['interface'],
  load: [],
  memory: [],
  disk: ['mount'],
  uptime: [],
  simulated: ['seed'],
};

function isSensorType(t: unknown): t is SensorType {
  return typeof t === 'string' && (SENSOR_TYPES as readonly string[]).includes(t);
}

/** A reader for `spec`. Throws an Error naming the offending field when the spec cannot work. */
export function createSensor(spec: SensorSpec, deps: SensorDeps): Sensor {
  const { name, type } = spec;
  const label = `sensor ${JSON.stringify(name)}`;
  if (typeof name !== 'string' || name.trim() === '') throw new Error(`sensor: field "name" must be a non-empty string`);
  if (!isSensorType(type)) {
    throw new Error(`${label}: unknown type ${JSON.stringify(type)} in field "type" (one of: ${SENSOR_TYPES.join(', ')})`);
  }
  for (const f of OPTION_FIELDS) {
    if (spec[f] !== undefined && !FIELDS_OF[type].includes(f)) {
      throw new Error(`${label}: field "${f}" does not apply to type ${type}${FIELDS_OF[type].length ? ` (it takes: ${FIELDS_OF[type].join(', ')})` : ''}`);
    }
  }
  for (const f of ['device', 'zone', 'mount', 'interface'] as const) {
    const v: unknown = spec[f];
    if (v !== undefined && (typeof v !== 'string' || v.trim() === '')) throw new Error(`${label}: field "${f}" must be a non-empty string`);
  }
  const { fs, commands } = deps;
  switch (type) {
    case 'cpu-temperature':
      return new CpuTemperatureSensor(name, fs, { zone: spec.zone });
    case 'ds18b20':
      return new Ds18b20Sensor(name, fs, { device: spec.device });
    case 'iio':
      if (spec.device === undefined) throw new Error(`${label}: type iio needs field "device" (an IIO name such as bme280, or a directory such as iio:device0)`);
      return new IioSensor(name, fs, { device: spec.device, sleep: deps.sleep });
    case 'throttle':
      return new ThrottleSensor(name, fs, commands);
    case 'wifi':
      return new WifiSensor(name, fs, { interface: spec.interface });
    case 'load':
      return new LoadSensor(name, fs);
    case 'memory':
      return new MemorySensor(name, fs);
    case 'disk':
      if (spec.mount !== undefined && !spec.mount.startsWith('/')) throw new Error(`${label}: field "mount" must be an absolute path, not ${JSON.stringify(spec.mount)}`);
      return new DiskSensor(name, fs, { mount: spec.mount });
    case 'uptime':
      return new UptimeSensor(name, fs);
    case 'simulated':
      if (spec.seed !== undefined && !Number.isFinite(spec.seed)) throw new Error(`${label}: field "seed" must be a finite number`);
      // A configured seed wins over the injected source: it is what makes a demo repeatable.
      if (spec.seed !== undefined) return new SimulatedEnvironmentSensor(name, { seed: spec.seed });
      if (deps.random) return new SimulatedEnvironmentSensor(name, { random: deps.random });
      // Unseeded, each device tells its own story: a lab fleet on one machine should not show identical rooms.
      return new SimulatedEnvironmentSensor(name, { seed: Math.floor(Math.random() * 2 ** 32) });
  }
}

/**
 * The sensors this machine has: load, memory, disk (/) and uptime always; the CPU temperature,
 * throttle flags and Wi-Fi signal when the system exposes them; every DS18B20 probe and every
 * IIO environment sensor found. Names are short and stay the same from one start to the next.
 */
const VCGENCMD_PATHS = ['/usr/bin/vcgencmd', '/opt/vc/bin/vcgencmd'];

export function detectSensors(fs: FsRoot): SensorSpec[] {
  const specs: SensorSpec[] = [];
  if (thermalZones(fs).length > 0) specs.push({ name: 'cpu', type: 'cpu-temperature' });
  // The firmware file is where a Pi 4 kernel puts it; where it is missing (a Pi 5, reportedly),
  // an installed vcgencmd means a Pi whose firmware can still be asked. Looked for, not run.
  if (fs.exists(THROTTLED_FILE) || VCGENCMD_PATHS.some((p) => fs.exists(p))) specs.push({ name: 'throttle', type: 'throttle' });
  const iface = wirelessInterfaces(fs)[0];
  if (iface !== undefined) specs.push({ name: 'wifi', type: 'wifi', interface: iface });

  // The last four hex digits of the serial tell probes apart on any real bus; the full serial
  // is kept only for the rare pair that shares them.
  const probes = listDs18b20(fs);
  const suffix = (id: string): string => id.slice(-4).toLowerCase();
  for (const id of probes) {
    const clash = probes.some((other) => other !== id && suffix(other) === suffix(id));
    specs.push({ name: `ds18b20-${clash ? id.slice(3).toLowerCase() : suffix(id)}`, type: 'ds18b20', device: id });
  }

  const known = listIioDevices(fs).filter((d) => KNOWN_IIO_NAMES.includes(d.base));
  for (const d of known) {
    // Two of the same chip (a BME280 at 0x76 and one at 0x77) are told apart by directory.
    const twins = known.filter((o) => o.base === d.base).length > 1;
    specs.push(twins ? { name: `${d.base}-${d.dir.slice('iio:device'.length)}`, type: 'iio', device: d.dir } : { name: d.base, type: 'iio', device: d.base });
  }

  specs.push({ name: 'load', type: 'load' }, { name: 'memory', type: 'memory' }, { name: 'disk', type: 'disk', mount: '/' }, { name: 'uptime', type: 'uptime' });
  return specs;
}
