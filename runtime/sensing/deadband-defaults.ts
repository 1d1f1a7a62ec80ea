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

export function defaultDeadband(unit: string): number {
  return BY_UNIT[unit] ?? 0;
}
