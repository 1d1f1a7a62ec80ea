// DS18B20 temperature probes on the 1-Wire bus (dtoverlay=w1-gpio), through the kernel's w1_therm
// driver. Reading w1_slave starts a conversion and blocks for about 750 ms per probe (longer when
// several share the bus, as the driver serialises them), hence the longer read deadline.
//
// The file has two lines: the scratchpad bytes with the driver's CRC verdict, then the bytes
// again with the temperature in millidegrees:
//   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//   72 01 4b 46 7f ff 0e 10 57 t=23125

import type { FsRoot } from '../fs-root.js';
import { SensorError, type Quantity, type Sensor } from './sensor.js';
import { excerpt, parseDecimal, readSensorFile } from './system.js';

export const W1_DEVICES = '/sys/bus/w1/devices';
export const DS18B20_READ_TIMEOUT_MS = 5000;

/** The DS18B20 family code is 0x28; its devices appear as "28-" plus the 48-bit serial in hex. */
const DS18B20_ID = /^28-[0-9a-f]+$/i;

/** Ids ("28-0316a2795eff") of the DS18B20 probes the kernel has found, sorted. */
export function listDs18b20(fs: FsRoot): string[] {
  return fs.list(W1_DEVICES).filter((d) => DS18B20_ID.test(d));
}

/**
 * The power-on value of the temperature register. The driver returns it with a valid CRC when the
 * conversion never ran (too little power in parasite mode, a brown-out), so it is not a reading.
 */
const POWER_ON_RESET_MILLI = 85000;

export interface Ds18b20Options {
  /** "28-0316a2795eff" (or just the serial "0316a2795eff"); the first probe found when absent. */
  readonly device?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

export class Ds18b20Sensor implements Sensor {
  readonly type = 'ds18b20';
  readonly #device: string | undefined;
  readonly #timeoutMs: number;

  constructor(
    readonly name: string,
    private readonly fs: FsRoot,
    options: Ds18b20Options = {},
  ) {
    const d = options.device;
    this.#device = d === undefined || d.includes('-') ? d : `28-${d}`;
    this.#timeoutMs = options.timeoutMs ?? DS18B20_READ_TIMEOUT_MS;
  }

  async read(): Promise<Quantity[]> {
    const id = this.#device ?? listDs18b20(this.fs)[0];
    if (id === undefined) {
      throw new SensorError(this.name, `no DS18B20 (28-*) under ${W1_DEVICES} (is dtoverlay=w1-gpio set and the probe wired with a pull-up?)`);
    }
    if (this.#device !== undefined && !this.fs.exists(`${W1_DEVICES}/${id}`)) {
      const found = listDs18b20(this.fs);
      throw new SensorError(this.name, `DS18B20 ${id} not on the 1-Wire bus (${found.length ? `found: ${found.join(', ')}` : `no 28-* device under ${W1_DEVICES}`})`);
    }
    const path = `${W1_DEVICES}/${id}/w1_slave`;
    const text = await readSensorFile(this.name, this.fs, path, this.#timeoutMs);
    return [{ quantity: 'temperature', value: parseW1Slave(this.name, path, text) / 1000, unit: '°C' }];
  }
}

/** The temperature in millidegrees from w1_slave text; a SensorError for anything that is not a good reading. */
export function parseW1Slave(sensor: string, path: string, text: string): number {
  const bad = (what: string): SensorError => new SensorError(sensor, `${path}: ${what}`);
  if (text.trim() === '') throw bad('empty (probe removed during the read?)');
  const [crcLine = '', tempLine = ''] = text.split('\n');
  const crc = /crc=([0-9a-f]{2}) (YES|NO)\s*$/i.exec(crcLine);
  if (!crc) throw bad(`unparseable ${excerpt(text)} (expected "... crc=xx YES" then "... t=<millidegrees>")`);
  if (crc[2]?.toUpperCase() === 'NO') throw bad(`CRC check failed (crc=${crc[1]} NO): interference or a long or loose 1-Wire cable`);
  // Nine zero bytes have a valid CRC too: that is the data line stuck low (no pull-up, a short).
  if (/^(00 ){9}:/.test(crcLine.trim())) throw bad('all-zero scratchpad (data line held low: check the pull-up resistor and wiring)');
  const t = /t=(\S*)\s*$/.exec(tempLine);
  if (!t) throw bad(`truncated: no "t=" temperature after the CRC line in ${excerpt(text)}`);
  const milli = parseDecimal(t[1] ?? '');
  if (milli === undefined) throw bad(`unparseable temperature "t=${t[1]}"`);
  if (milli === POWER_ON_RESET_MILLI) throw bad('85000 is the power-on reset value, not a reading (the conversion did not run: check power and wiring)');
  // The part's range is -55..125 °C; anything outside is a corrupt read that passed the CRC by chance.
  if (milli < -55000 || milli > 125000) throw bad(`t=${milli} is outside the DS18B20 range (-55..125 °C)`);
  return milli;
}
