// Wi-Fi signal from /proc/net/wireless (the wireless-extensions view every Linux Wi-Fi driver
// still fills, brcmfmac on the Pi included): two header lines, then one line per interface:
//   Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE
//    face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22
//    wlan0: 0000   56.  -54.  -256        0      0      0      0      0        0
// A trailing "." marks a value updated since the last read; it is not a decimal point.

import type { FsRoot } from '../fs-root.js';
import { SensorError, type Quantity, type Sensor } from './sensor.js';
import { excerpt, READ_TIMEOUT_MS, readSensorFile } from './system.js';

export const WIRELESS = '/proc/net/wireless';

export interface WirelessStatus {
  readonly iface: string;
  /** Link quality as the driver scales it (0..70 on most). */
  readonly quality: number;
  /** Signal level in dBm. */
  readonly level: number;
}

const LINE = /^\s*([^\s:]+):\s+\S+\s+(-?\d+)\.?\s+(-?\d+)\.?\s+(-?\d+)\.?(?:\s|$)/;

/** The interfaces listed, or a description of the first line that does not parse. */
export function parseWireless(text: string): WirelessStatus[] | { bad: string } {
  const lines = text.split('\n');
  if (!/^\s*Inter-\|/.test(lines[0] ?? '')) return { bad: lines[0] ?? '' };
  const out: WirelessStatus[] = [];
  for (const line of lines.slice(2)) {
    if (line.trim() === '') continue;
    const m = LINE.exec(line);
    if (!m?.[1] || m[2] === undefined || m[3] === undefined) return { bad: line };
    let level = Number(m[3]);
    // Drivers that report an unsigned byte put -54 dBm as 202; the kernel's own tools undo it this way.
    if (level > 63) level -= 256;
    out.push({ iface: m[1], quality: Number(m[2]), level });
  }
  return out;
}

/** Interface names in /proc/net/wireless; empty when it is missing or unreadable. */
export function wirelessInterfaces(fs: FsRoot): string[] {
  const text = fs.tryReadSync(WIRELESS);
  if (text === undefined) return [];
  const parsed = parseWireless(text);
  return Array.isArray(parsed) ? parsed.map((s) => s.iface) : [];
}

export interface WifiOptions {
  /** "wlan0"; the first interface listed when absent. */
  readonly interface?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

export class WifiSensor implements Sensor {
  readonly type = 'wifi';
  readonly #iface: string | undefined;
  readonly #timeoutMs: number;

  constructor(
    readonly name: string,
    private readonly fs: FsRoot,
    options: WifiOptions = {},
  ) {
    this.#iface = options.interface;
    this.#timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
  }

  async read(): Promise<Quantity[]> {
    const text = await readSensorFile(this.name, this.fs, WIRELESS, this.#timeoutMs);
    if (text.trim() === '') throw new SensorError(this.name, `${WIRELESS} is empty`);
    const parsed = parseWireless(text);
    if (!Array.isArray(parsed)) throw new SensorError(this.name, `${WIRELESS}: unparseable line ${excerpt(parsed.bad)}`);
    const status = this.#iface === undefined ? parsed[0] : parsed.find((s) => s.iface === this.#iface);
    if (!status) {
      const listed = parsed.map((s) => s.iface).join(', ');
      throw new SensorError(
        this.name,
        this.#iface === undefined
          ? `no wireless interface in ${WIRELESS} (Wi-Fi off or blocked by rfkill?)`
          : `interface ${this.#iface} not in ${WIRELESS} (${listed === '' ? 'no wireless interface listed' : `listed: ${listed}`})`,
      );
    }
    // Interfaces that are up but not associated report nothing (level -256 or 0 with no quality).
    if (status.level <= -256 || (status.level === 0 && status.quality === 0)) {
      throw new SensorError(this.name, `${status.iface}: no signal in ${WIRELESS} (not associated?)`);
    }
    return [
      { quantity: 'signal', value: status.level, unit: 'dBm' },
      { quantity: 'quality', value: status.quality, unit: '' },
    ];
  }
}
