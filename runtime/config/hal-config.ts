// The `hal` section of the device config: status LEDs, sensors and how they are sampled.
// Every error names the field path (hal.sensors[2].schedule), as the rest of the config does.

import { LED_BACKENDS } from '../../hal/leds/led.js';
import type { LedSpec } from '../../hal/leds/select.js';
import { createSensor, SENSOR_TYPES, type SensorSpec } from '../../hal/sensors/catalog.js';
import { FsRoot } from '../../hal/fs-root.js';
import { SystemCommands } from '../../hal/command.js';
import { validateSchedule } from '../sensing/schedule.js';
import { ConfigError, fieldRecorder } from './config-error.js';
import { unknownField } from './layers.js';

export interface SensorConfig extends SensorSpec {
  /** Cron expression (seconds allowed); the sampling default when unset. */
  readonly schedule: string;
  /** Smallest change worth publishing, per quantity ("temperature": 0.5); unset quantities use their unit's default. */
  readonly deadband: Readonly<Record<string, number>>;
  readonly maxIntervalS: number;
}

export interface HalConfig {
  readonly root: string;
  readonly simulate: boolean | 'auto';
  readonly leds: readonly LedSpec[];
  readonly sensors: 'auto' | readonly SensorConfig[];
  readonly sampling: { readonly schedule: string; readonly maxIntervalS: number; readonly spreadS: number; readonly timeoutS: number };
}

type Obj = Record<string, unknown>;
type Fail = (path: string, expected: string, got: unknown) => never;
/** Fails with a message of its own for `path` (when "expected X, got Y" does not fit). */
type Bad = (path: string, message: string) => never;

const NAME = /^[a-z0-9][a-z0-9_.-]{0,31}$/;

/**
 * `record` takes each error found, and the check goes on with the next field, LED or sensor;
 * what is returned is only meaningful when nothing was recorded.
 */
export function validateHal(h: Obj, fail: Fail, bad: Bad, record: (e: ConfigError) => void): HalConfig {
  const field = fieldRecorder(record);
  const root = h.root;
  field(() => (typeof root === 'string' && root.startsWith('/')) || fail('hal.root', 'an absolute path', root), true);
  const simulate = h.simulate;
  field(() => simulate === 'auto' || typeof simulate === 'boolean' || fail('hal.simulate', '"auto", true or false', simulate), true);

  const s = h.sampling as Obj;
  const schedule = (v: unknown, path: string): string => {
    if (typeof v !== 'string') return fail(path, 'a cron expression such as "*/30 * * * * *"', v);
    try {
      validateSchedule(v, path);
    } catch (e) {
      bad(path, (e as Error).message.replace(`${path}: `, ''));
    }
    return v;
  };
  const sampling = {
    schedule: field(() => schedule(s.schedule, 'hal.sampling.schedule'), ''),
    maxIntervalS: field(() => int(s.maxIntervalS, 'hal.sampling.maxIntervalS', 10, 86_400, fail), 10),
    spreadS: field(() => int(s.spreadS, 'hal.sampling.spreadS', 0, 3600, fail), 0),
    timeoutS: field(() => int(s.timeoutS, 'hal.sampling.timeoutS', 1, 600, fail), 1),
  };

  const ledList = field(() => (Array.isArray(h.leds) ? (h.leds as unknown[]) : fail('hal.leds', 'a list of LEDs', h.leds)), []);
  const leds = ledList.map((l, i) => field<LedSpec | undefined>(() => led(l, `hal.leds[${i}]`, fail, bad), undefined));
  // Names are compared only when every entry is valid, so an error names the right index.
  if (leds.every((l) => l !== undefined)) field(() => unique(leds.map((l) => l!.name), 'hal.leds', fail), undefined);

  let sensors: HalConfig['sensors'] = 'auto';
  if (h.sensors !== 'auto') {
    const list = field(() => (Array.isArray(h.sensors) ? (h.sensors as unknown[]) : fail('hal.sensors', '"auto" or a list of sensors', h.sensors)), []);
    const checked = list.map((x, i) =>
      field<SensorConfig | undefined>(() => {
        const c = sensor(x, `hal.sensors[${i}]`, sampling, fail, bad, schedule);
        // The reader's own checks (options that do not apply to the type, a missing device), now
        // rather than at start, when the LEDs are already taken over.
        try {
          createSensor(c, { fs: new FsRoot('/'), commands: new SystemCommands() });
        } catch (e) {
          bad(`hal.sensors[${i}]`, (e as Error).message);
        }
        return c;
      }, undefined),
    );
    sensors = checked.filter((c) => c !== undefined);
    if (sensors.length === checked.length) field(() => unique(checked.map((c) => c!.name), 'hal.sensors', fail), undefined);
  }
  return { root: root as string, simulate: simulate as boolean | 'auto', leds: leds.filter((l) => l !== undefined), sensors, sampling };
}

function led(x: unknown, path: string, fail: Fail, bad: Bad): LedSpec {
  const o = object(x, path, fail);
  known(o, path, ['name', 'backend', 'pin', 'chip', 'led', 'activeLow'], bad);
  const name = o.name ?? 'status';
  if (typeof name !== 'string' || !NAME.test(name)) fail(`${path}.name`, 'a short lower-case name', name);
  const backend = o.backend ?? 'auto';
  if (backend !== 'auto' && !(LED_BACKENDS as readonly unknown[]).includes(backend)) fail(`${path}.backend`, `"auto" or one of ${LED_BACKENDS.join(', ')}`, backend);
  const spec: { -readonly [K in keyof LedSpec]: LedSpec[K] } = { name: name as string, backend: backend as LedSpec['backend'] };
  if (o.pin !== undefined) {
    if (!Number.isInteger(o.pin) || (o.pin as number) < 0 || (o.pin as number) > 511) fail(`${path}.pin`, 'a GPIO line number on the pin controller (BCM numbering, 0-511)', o.pin);
    spec.pin = o.pin as number;
  }
  if (o.chip !== undefined) {
    if (typeof o.chip !== 'string' || o.chip === '') fail(`${path}.chip`, 'a chip name or label such as "gpiochip0" or "pinctrl-bcm2711"', o.chip);
    spec.chip = o.chip as string;
  }
  if (o.led !== undefined) {
    if (typeof o.led !== 'string' || o.led === '' || o.led.includes('/')) fail(`${path}.led`, 'a name under /sys/class/leds such as "ACT" or "led0"', o.led);
    spec.led = o.led as string;
  }
  if (o.activeLow !== undefined) {
    if (typeof o.activeLow !== 'boolean') fail(`${path}.activeLow`, 'true or false', o.activeLow);
    spec.activeLow = o.activeLow as boolean;
  }
  if ((spec.backend === 'gpiod' || spec.backend === 'sysfs-gpio') && spec.pin === undefined) fail(`${path}.pin`, `a pin number for backend "${spec.backend}"`, undefined);
  return spec;
}

function sensor(x: unknown, path: string, sampling: HalConfig['sampling'], fail: Fail, bad: Bad, schedule: (v: unknown, path: string) => string): SensorConfig {
  const o = object(x, path, fail);
  known(o, path, ['name', 'type', 'schedule', 'deadband', 'maxIntervalS', 'device', 'zone', 'mount', 'interface', 'seed'], bad);
  if (typeof o.type !== 'string' || !(SENSOR_TYPES as readonly string[]).includes(o.type)) fail(`${path}.type`, `one of ${SENSOR_TYPES.join(', ')}`, o.type);
  if (typeof o.name !== 'string' || !NAME.test(o.name)) fail(`${path}.name`, 'a short lower-case name (letters, digits, "-", "_", "."; it becomes part of the gossip key)', o.name);
  const str = (k: string): string | undefined => {
    if (o[k] === undefined) return undefined;
    if (typeof o[k] !== 'string' || o[k] === '') fail(`${path}.${k}`, 'a non-empty string', o[k]);
    return o[k] as string;
  };
  let deadband: Record<string, number> = {};
  if (typeof o.deadband === 'number') {
    if (!(o.deadband >= 0)) fail(`${path}.deadband`, 'a number >= 0', o.deadband);
    deadband = { '*': o.deadband };
  } else if (o.deadband !== undefined) {
    const d = object(o.deadband, `${path}.deadband`, fail);
    for (const [q, v] of Object.entries(d)) if (typeof v !== 'number' || !(v >= 0)) fail(`${path}.deadband.${q}`, 'a number >= 0', v);
    deadband = Object.assign(Object.create(null) as Record<string, number>, d);
  }
  const spec: Record<string, unknown> = {
    name: o.name,
    type: o.type,
    schedule: o.schedule === undefined ? sampling.schedule : schedule(o.schedule, `${path}.schedule`),
    deadband,
    maxIntervalS: o.maxIntervalS === undefined ? sampling.maxIntervalS : int(o.maxIntervalS, `${path}.maxIntervalS`, 10, 86_400, fail),
  };
  for (const k of ['device', 'zone', 'mount', 'interface']) {
    const v = str(k);
    if (v !== undefined) spec[k] = v;
  }
  if (o.seed !== undefined) spec.seed = int(o.seed, `${path}.seed`, 0, 2 ** 31 - 1, fail);
  return spec as unknown as SensorConfig;
}

function int(v: unknown, path: string, lo: number, hi: number, fail: Fail): number {
  return Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi ? (v as number) : fail(path, `an integer ${lo}-${hi}`, v);
}

function object(x: unknown, path: string, fail: Fail): Obj {
  if (!x || typeof x !== 'object' || Array.isArray(x)) fail(path, 'a map of fields', x);
  return x as Obj;
}

function known(o: Obj, path: string, fields: readonly string[], bad: Bad): void {
  for (const k of Object.keys(o)) if (!fields.includes(k)) bad(`${path}.${k}`, unknownField(k, fields));
}

/** Names must differ: they become gossip keys and LED names. The error points at the second use. */
function unique(names: readonly string[], path: string, fail: Fail): void {
  const first = new Map<string, number>();
  names.forEach((n, i) => {
    const j = first.get(n);
    if (j !== undefined) fail(`${path}[${i}].name`, `a name not already used by ${path}[${j}]`, n);
    first.set(n, i);
  });
}
