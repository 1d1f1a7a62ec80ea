// When the host's timers fire. The core asks for a callback at an absolute time on the host's
// clock; a scheduler decides how that time passes: the event loop on a device, the event queue
// in the simulator. A timer may fire late, never early.

export interface TimerScheduler {
  /** Call `fire` once the host's clock reads `at` or later. */
  at(at: number, fire: () => void): void;
  /** Forget every pending timer (the host stopped). */
  cancelAll(): void;
  /** Timers that fired late enough to suggest the process was stalled. */
  readonly late: number;
}

/** A timer this late (ms) is handled after pending socket reads. */
const LATE_TIMER_MS = 20;

/** Real time through setTimeout, for a host on sockets. */
export class RealTimeScheduler implements TimerScheduler {
  late = 0;
  readonly #timers = new Set<NodeJS.Timeout>();

  /**
   * `resumeReads`: a transport that reads in batches (runtime/net/paced-reads.ts) reads again
   * when a timer comes due, and says true when it had paused; the timer then fires after what
   * waited is read, so a probe's timeout never passes over its Ack sitting in the socket.
   */
  constructor(
    private readonly clock: () => number,
    private readonly resumeReads: () => boolean = () => false,
  ) {}

  at(at: number, fire: () => void): void {
    const delay = Math.max(0, at - this.clock());
    const t = setTimeout(() => {
      this.#timers.delete(t);
      // The event loop's clock can run a millisecond behind ours; never fire early, which the
      // core would take for a stale timer.
      if (this.clock() < at) return this.at(at, fire);
      // Late means this process was busy: datagrams that arrived meanwhile (the Ack a probe
      // timeout is about, the heartbeats a sweep looks for) wait in the socket, and Node runs
      // expired timers before it reads sockets. Let the reads go first, or our own stall
      // would look like everyone else's silence.
      const late = this.clock() - at > LATE_TIMER_MS;
      if (late) this.late++;
      if (this.resumeReads() || late) setImmediate(fire);
      else fire();
    }, delay);
    this.#timers.add(t);
  }

  cancelAll(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

/** Whole monotonic milliseconds since process start: the core's notion of "now" on a device. */
export function monotonicClock(): number {
  return Math.floor(performance.now());
}
