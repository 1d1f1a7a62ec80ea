// Sensor readings in the units Prometheus names metrics by: base units (celsius, pascals, bytes,
// seconds) and ratios for percentages, each in its own metric with the unit in the name. A
// reading in a unit with no base unit (dBm, load, bool) goes to murmur_sensor_value with its
// unit as a label; units are fixed per quantity, so that label adds no series.

export interface SensorUnit {
  readonly metric: string;
  /** The published units this metric takes, and the factor that converts each. */
  readonly from: Readonly<Record<string, number>>;
  readonly help: string;
}

export const SENSOR_UNITS: readonly SensorUnit[] = [
  { metric: 'murmur_sensor_celsius', from: { '°C': 1 }, help: 'degrees Celsius' },
  { metric: 'murmur_sensor_pascals', from: { hPa: 100, Pa: 1, kPa: 1000 }, help: 'pascals' },
  { metric: 'murmur_sensor_ratio', from: { '%': 0.01, '%RH': 0.01 }, help: 'ratios (0-1; percentages divided by 100)' },
  { metric: 'murmur_sensor_bytes', from: { MB: 1048576, kB: 1024, B: 1 }, help: 'bytes' },
  { metric: 'murmur_sensor_seconds', from: { s: 1, second: 1, minute: 60 }, help: 'seconds' },
  { metric: 'murmur_sensor_volts', from: { V: 1, mV: 0.001 }, help: 'volts' },
];

/** The metric a reading in `unit` goes to and its conversion; undefined for murmur_sensor_value. */
export function sensorGauge(unit: string): { metric: string; factor: number } | undefined {
  for (const u of SENSOR_UNITS) {
    // Own properties only: a unit named "constructor" is no unit of ours.
    if (Object.hasOwn(u.from, unit)) return { metric: u.metric, factor: u.from[unit]! };
  }
  return undefined;
}
