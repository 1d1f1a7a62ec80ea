// The smallest change worth a gossip write, by unit, for sensors whose config sets none. Each
// is above the usual noise of a cheap sensor and below what a person would care about.

const BY_UNIT: Readonly<Record<string, number>> = {
  '°C': 0.5,
  hPa: 1,
  '%RH': 2,
  dBm: 3,
  '%': 2,
  MB: 50,
  load: 0.25,
  bool: 0,
  // Uptime changes on every sample; the max interval republishes it, which is all it needs.
  s: Infinity,
};

/** Quantities without a unit of their own. */
const BY_QUANTITY: Readonly<Record<string, number>> = {
  // Wi-Fi link quality (out of 70 on most drivers) follows the signal level and jitters by 1-2 on every read.
  quality: 5,
};

export function defaultDeadband(unit: string, quantity = ''): number {
  return BY_UNIT[unit] ?? BY_QUANTITY[quantity] ?? 0;
}
