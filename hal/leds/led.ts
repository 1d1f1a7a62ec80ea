// One status LED, whatever drives it. The pattern player (player.ts) only ever turns it on or
// off; each backend owns how, and how to give the LED back to the system on close.

export type LedBackendName = 'gpiod' | 'sysfs-gpio' | 'sysfs-led' | 'simulated';
export const LED_BACKENDS: readonly LedBackendName[] = ['gpiod', 'sysfs-gpio', 'sysfs-led', 'simulated'];

export interface LedDriver {
  readonly backend: LedBackendName;
  /** What is driven, for logs and the status API: "gpiochip0 line 17 (libgpiod v2)", "/sys/class/leds/ACT". */
  readonly description: string;
  /**
   * Sets the level. Never throws: a failing write is reported through the driver's onError
   * (given at construction) and the next set tries again, so a flaky LED cannot stop murmur.
   */
  set(on: boolean): void;
  /** Hands the LED back: LED off or original trigger restored, GPIO lines released/unexported. */
  close(): Promise<void>;
}

/** How a backend reports a failed write or a lost helper process; the agent logs and counts it. */
export type LedErrorSink = (error: Error) => void;
