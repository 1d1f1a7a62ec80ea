// Environment sensors served by the kernel's IIO drivers (/sys/bus/iio/devices/iio:deviceN):
// BME280/BMP280 and relatives through the bmp280 driver, DHT11/DHT22 through the dht11 driver.
// Channels follow the IIO sysfs ABI: a processed in_X_input, or in_X_raw with optional in_X_scale
// and in_X_offset giving (raw + offset) * scale, in the ABI's units (milli °C, kPa, milli %RH).
//
// DHT sensors are bit-banged with tight timing, and the driver fails a good share of reads with
// EIO (bad checksum) or ETIMEDOUT (no answer); those are retried a few times before giving up.

import type { FsRoot } from '../fs-root.js';
import { SensorError, type Quantity, type Sensor } from './sensor.js';
import { describeReadError, errnoOf, numberFromFile, READ_TIMEOUT_MS, readBounded, roundTo } from './system.js';

export const IIO_DEVICES = '/sys/bus/iio/devices';

/** IIO names murmur knows to be environment sensors (the base name, before any "@<address>"). */
export const KNOWN_IIO_NAMES: readonly string[] = ['bme280', 'bmp280', 'bmp180', 'bmp380', 'bme680', 'dht11'];

export interface IioDevice {
  /** Directory name: "iio:device0". */
  readonly dir: string;
  /** Contents of its `name` file: "bme280", or "dht11@4" for device-tree instances such as the dht11 overlay. */
  readonly name: string;
  /** The name without the "@<address>" the device tree appends: "dht11". */
  readonly base: string;
}

export function iioBaseName(name: string): string {
  return name.split('@')[0] ?? name;
}

/** The IIO devices that have a readable name, in device-number order. */
export function listIioDevices(fs: FsRoot): IioDevice[] {
  const num = (d: string): number => Number(d.slice('iio:device'.length));
  return fs
    .list(IIO_DEVICES)
    .filter((d) => /^iio:device\d+$/.test(d))
    .sort((a, b) => num(a) - num(b))
    .flatMap((dir) => {
      const name = fs.tryReadSync(`${IIO_DEVICES}/${dir}/name`)?.trim();
      return name ? [{ dir, name, base: iioBaseName(name) }] : [];
    });
}

interface Channel {
  readonly channel: string;
  readonly quantity: string;
  readonly unit: string;
  /** From the IIO ABI unit to the published one. */
  readonly factor: number;
  readonly abiUnit: string;
}

const CHANNELS: readonly Channel[] = [
  { channel: 'temp', quantity: 'temperature', unit: '°C', factor: 1 / 1000, abiUnit: 'millidegrees Celsius' },
  { channel: 'pressure', quantity: 'pressure', unit: 'hPa', factor: 10, abiUnit: 'kilopascal' },
  { channel: 'humidityrelative', quantity: 'humidity', unit: '%RH', factor: 1 / 1000, abiUnit: 'milli-percent relative humidity' },
];

/** Driver errors worth another try: a DHT's missed handshake or bad checksum. */
const TRANSIENT = new Set(['EIO', 'ETIMEDOUT']);

export const IIO_RETRIES = 3;
export const IIO_RETRY_DELAY_MS = 500;

export interface IioOptions {
  /** An IIO name ("bme280", "dht11", or exactly "dht11@4") or a directory ("iio:device0"). */
  readonly device: string;
  /** Tries after the first on EIO/ETIMEDOUT. */
  readonly retries?: number | undefined;
  readonly retryDelayMs?: number | undefined;
  /** Injected so tests need not wait out the delay. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly timeoutMs?: number | undefined;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A failed channel read, kept raw until we know whether it is worth retrying. */
class ChannelReadError extends Error {
  constructor(
    readonly path: string,
    readonly error: unknown,
  ) {
    super(describeReadError(path, error));
  }
}

export class IioSensor implements Sensor {
  readonly type = 'iio';
  readonly device: string;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #timeoutMs: number;

  constructor(
    readonly name: string,
    private readonly fs: FsRoot,
    options: IioOptions,
  ) {
    this.device = options.device;
    this.#retries = Math.max(0, options.retries ?? IIO_RETRIES);
    this.#retryDelayMs = options.retryDelayMs ?? IIO_RETRY_DELAY_MS;
    this.#sleep = options.sleep ?? realSleep;
    this.#timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
  }

  async read(): Promise<Quantity[]> {
    // Resolved on every read: device numbers change when a driver is reloaded.
    const dev = this.#resolve();
    const dirPath = `${IIO_DEVICES}/${dev.dir}`;
    const present = CHANNELS.filter((c) => this.fs.exists(`${dirPath}/in_${c.channel}_input`) || this.fs.exists(`${dirPath}/in_${c.channel}_raw`));
    if (present.length === 0) {
      throw new SensorError(this.name, `${dirPath} (${dev.name}) has no temperature, pressure or humidity channel`);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const out: Quantity[] = [];
        for (const c of present) out.push(await this.#readChannel(dirPath, c));
        return out;
      } catch (e) {
        if (!(e instanceof ChannelReadError)) throw e;
        const code = errnoOf(e.error);
        const transient = code !== undefined && TRANSIENT.has(code);
        if (!transient) throw new SensorError(this.name, e.message);
        if (attempt >= this.#retries) {
          throw new SensorError(this.name, `${e.message}, ${attempt + 1} attempts in a row (${dev.name}: check wiring and power if this persists)`);
        }
        await this.#sleep(this.#retryDelayMs);
      }
    }
  }

  #resolve(): IioDevice {
    const devices = listIioDevices(this.fs);
    const want = this.device;
    const found = /^iio:device\d+$/.test(want)
      ? devices.find((d) => d.dir === want)
      : (devices.find((d) => d.name === want) ?? devices.find((d) => d.base === want));
    if (found) return found;
    const have = devices.map((d) => `${d.dir} (${d.name})`).join(', ');
    throw new SensorError(this.name, `no IIO device ${want} under ${IIO_DEVICES} (${have === '' ? 'none there: is its dtoverlay loaded?' : `found: ${have}`})`);
  }

  async #readChannel(dirPath: string, c: Channel): Promise<Quantity> {
    const base = `${dirPath}/in_${c.channel}`;
    let abiValue: number;
    if (this.fs.exists(`${base}_input`)) {
      abiValue = await this.#number(`${base}_input`, c.abiUnit);
    } else {
      const raw = await this.#number(`${base}_raw`, 'a raw count');
      const offset = this.fs.exists(`${base}_offset`) ? await this.#number(`${base}_offset`, 'an offset') : 0;
      const scale = this.fs.exists(`${base}_scale`) ? await this.#number(`${base}_scale`, 'a scale') : 1;
      abiValue = (raw + offset) * scale;
    }
    // Scales such as 0.001 leave binary noise in the last digits; no such sensor resolves 1e-4.
    return { quantity: c.quantity, value: roundTo(abiValue * c.factor, 4), unit: c.unit };
  }

  async #number(path: string, expected: string): Promise<number> {
    let text: string;
    try {
      text = await readBounded(this.fs, path, this.#timeoutMs);
    } catch (e) {
      throw new ChannelReadError(path, e);
    }
    return numberFromFile(this.name, path, text, expected);
  }
}
