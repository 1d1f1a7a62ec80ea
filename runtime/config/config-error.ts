// The one error type of the device config. Its message is complete on its own ("config
// FILE:LINE: field.path: expected ..., got ..."), because `murmur start` prints it as the whole
// explanation and exits 78, and a person reading the journal has nothing else to go on.

export class ConfigError extends Error {}

/**
 * A field checker that goes on after an error: `field(check, fallback)` is `check()`, or, when
 * it throws a ConfigError, `fallback` once the error is handed to `record`. So one run of
 * `murmur config check` reports every bad field, not just the first.
 */
export function fieldRecorder(record: (e: ConfigError) => void): <T>(check: () => T, fallback: T) => T {
  return (check, fallback) => {
    try {
      return check();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      record(e);
      return fallback;
    }
  };
}
