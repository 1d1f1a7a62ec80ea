// A sensor reader: one physical or system source that yields one or more quantities per read
// (a BME280 gives temperature, pressure and humidity at once). Readers know nothing about
// schedules or gossip; the sampler (runtime/sensing) stamps, filters and publishes what they return.

export interface Quantity {
  /** Short, stable, lower-case name: "temperature", "humidity", "under-voltage". */
  readonly quantity: string;
  readonly value: number;
  /** Display unit, fixed per quantity: "°C", "hPa", "%RH", "dBm", "%", "s", "bool". */
  readonly unit: string;
}

export interface Sensor {
  /** The configured instance name ("cpu", "room"); part of the gossip key. */
  readonly name: string;
  /** The reader type ("cpu-temperature", "ds18b20", ...). */
  readonly type: string;
  /**
   * One measurement. Rejects with a SensorError whose message names the file or device and
   * what was wrong with it; never hangs (readers bound their retries and waits).
   */
  read(): Promise<Quantity[]>;
}

export class SensorError extends Error {
  constructor(
    readonly sensor: string,
    message: string,
  ) {
    super(`sensor ${sensor}: ${message}`);
  }
}
