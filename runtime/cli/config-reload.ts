// What `systemctl reload murmur` (SIGHUP) does to a running node: the config is read again and
// compared with the one running. The log level, the LEDs and the sensors with their sampling
// change live; every other changed field is named in the log as needing a restart, so an
// operator knows a reload did not apply it. hal.root and hal.simulate choose the hardware
// itself, so they are among those.

import type { MurmurConfig } from '../config/config.js';

/** Fields a running node takes from a reload. */
export const LIVE_FIELDS: readonly string[] = ['log.level', 'hal.leds', 'hal.sensors', 'hal.sampling.schedule', 'hal.sampling.maxIntervalS', 'hal.sampling.spreadS', 'hal.sampling.timeoutS'];

/** The dotted paths of the leaves that differ between two configs (a list counts as one leaf). */
export function changedFields(before: unknown, after: unknown, prefix = ''): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedFields(before[k], after[k], prefix === '' ? k : `${prefix}.${k}`));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

export interface ReloadPlan {
  /** Changed fields the running node applies now. */
  readonly live: readonly string[];
  /** Changed fields that take effect only at the next start. */
  readonly restart: readonly string[];
  /** Whether the LEDs or sensors changed: the hardware layer must take `running.hal`. */
  readonly hal: boolean;
  /** The running config with the live fields taken from the new one. */
  readonly running: MurmurConfig;
}

export function planReload(running: MurmurConfig, next: MurmurConfig): ReloadPlan {
  const changed = changedFields(running, next);
  const live = changed.filter((f) => LIVE_FIELDS.includes(f));
  const restart = changed.filter((f) => !LIVE_FIELDS.includes(f));
  const halChanged = live.some((f) => f.startsWith('hal.'));
  if (live.length === 0) return { live, restart, hal: false, running };
  const hal = { ...running.hal, leds: next.hal.leds, sensors: next.hal.sensors, sampling: next.hal.sampling };
  return { live, restart, hal: halChanged, running: { ...running, log: next.log, hal } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
