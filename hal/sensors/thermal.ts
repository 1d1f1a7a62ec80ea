// CPU temperature from the kernel's thermal zones (/sys/class/thermal/thermal_zoneN/temp, in
// millidegrees). The zone is chosen again on every read: thermal drivers can register after
// murmur starts, and zone numbers follow probe order rather than anything stable.

import type { FsRoot } from '../fs-root.js';
import { SensorError, type Quantity, type Sensor } from './sensor.js';
import { numberFromFile, READ_TIMEOUT_MS, readSensorFile } from './system.js';

export const THERMAL_DIR = '/sys/class/thermal';

export interface ThermalZone {
  /** Directory name: "thermal_zone0". */
  readonly zone: string;
  /** Contents of its `type` file ("cpu-thermal"), undefined when unreadable. */
  readonly type: string | undefined;
}

/** The thermal zones of this machine, in zone-number order (thermal_zone10 after thermal_zone2). */
export function thermalZones(fs: FsRoot): ThermalZone[] {
  return fs
    .list(THERMAL_DIR)
    .filter((d) => /^thermal_zone\d+$/.test(d))
    .sort((a, b) => zoneNumber(a) - zoneNumber(b))
    .map((zone) => ({ zone, type: fs.tryReadSync(`${THERMAL_DIR}/${zone}/type`)?.trim() || undefined }));
}

function zoneNumber(zone: string): number {
  return Number(zone.slice('thermal_zone'.length));
}

// What the SoC's zone is called across Pi kernels and other boards: "cpu-thermal" (Pi 4/5 and most
// device-tree boards), "bcm2835_thermal" (older Pi kernels), "soc-thermal", "x86_pkg_temp".
const CPU_ZONE_TYPE = /cpu|soc|x86_pkg_temp|bcm2\d{3}/i;

/**
 * The zone to read: `configured` as a zone directory ("thermal_zone1"), a zone number ("1") or a
 * zone type ("soc-thermal"); otherwise the first zone whose type looks like the CPU's, else the
 * first zone (a board with an unfamiliar name for its only zone still gets a reading).
 */
export function pickThermalZone(zones: readonly ThermalZone[], configured?: string): ThermalZone | undefined {
  if (configured !== undefined) {
    const dir = /^\d+$/.test(configured) ? `thermal_zone${configured}` : configured;
    return zones.find((z) => z.zone === dir) ?? zones.find((z) => z.type === configured);
  }
  return zones.find((z) => z.type !== undefined && CPU_ZONE_TYPE.test(z.type)) ?? zones[0];
}

export interface CpuTemperatureOptions {
  /** A zone directory, number or type; the CPU's zone when absent. */
  readonly zone?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

export class CpuTemperatureSensor implements Sensor {
  readonly type = 'cpu-temperature';
  readonly #zone: string | undefined;
  readonly #timeoutMs: number;

  constructor(
    readonly name: string,
    private readonly fs: FsRoot,
    options: CpuTemperatureOptions = {},
  ) {
    this.#zone = options.zone;
    this.#timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
  }

  async read(): Promise<Quantity[]> {
    const zones = thermalZones(this.fs);
    const zone = pickThermalZone(zones, this.#zone);
    if (!zone) {
      const have = zones.map((z) => (z.type ? `${z.zone} (${z.type})` : z.zone)).join(', ');
      throw new SensorError(
        this.name,
        this.#zone === undefined
          ? `no thermal zone under ${THERMAL_DIR}`
          : `thermal zone ${this.#zone} not found under ${THERMAL_DIR} (${have === '' ? 'there are none' : `have: ${have}`})`,
      );
    }
    const path = `${THERMAL_DIR}/${zone.zone}/temp`;
    const text = await readSensorFile(this.name, this.fs, path, this.#timeoutMs);
    const milli = numberFromFile(this.name, path, text, 'millidegrees Celsius');
    return [{ quantity: 'temperature', value: milli / 1000, unit: '°C' }];
  }
}
