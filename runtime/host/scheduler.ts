// When the host's timers fire. The core asks for a callback at an absolute time on the host's
// clock; a scheduler decides how that time passes: the event loop on a device, the event queue
// in the simulator. A timer may fire late, never early.

export interface TimerScheduler {
  /**
   * Call `fire` once the host's clock reads `at` or later. `lateMs`: it may wait up to that
   * much longer, to share a wake-up with another timer (a scheduler may also ignore it).
   */
  at(at: number, fire: () => void, lateMs?: number): void;
  /** Forget every pending timer (the host stopped). */
  cancelAll(): void;
  /** Timers that fired late enough to suggest the process was stalled. */
  readonly late: number;
}

/** A timer this late (ms) is handled after pending socket reads. */
const LATE_TIMER_MS = 20;

interface Pending {
  readonly at: number;
  /** The latest moment it may fire: `at` plus the lateness it allows. */
  readonly by: number;
  readonly fire: () => void;
}

/**
 * Real time for a host on sockets: the core's timers in a queue, due time first, behind a
 * single setTimeout. Every timer due by the time it fires runs in that one wake-up. Each
 * wake-up of an otherwise idle process costs about as much as the work it does, so timers
 * share them where they can:
 * - timers due at the same moment fire together (the core puts its regular silence sweep on
 *   its next heartbeat); separate setTimeouts for equal due times could still wake the process
 *   twice, because node sets each one's expiry from the event loop's cached time, which lags a
 *   little differently each time one is armed;
 * - a timer that allows lateness (anti-entropy, housekeeping) waits for the next wake-up within
 *   it, which is usually a heartbeat: the node timer is armed for the earliest moment some
 *   timer must fire, not for the earliest due.
 */
export class RealTimeScheduler implements TimerScheduler {
  late = 0;
  /** Sorted by due time; equal due times in the order they were asked for. */
  #queue: Pending[] = [];
  /** Armed for #wakeAt whenever the queue is not empty. */
  #timer: NodeJS.Timeout | undefined;
  /** The earliest `by` in the queue: when the node timer fires. */
  #wakeAt = Infinity;
  /** Bumped by cancelAll: timers of a batch that was due before it do not fire after it. */
  #epoch = 0;

  /**
   * `resumeReads`: a transport that reads in batches (runtime/net/paced-reads.ts) reads again
   * when a timer comes due, and says true when it had paused; the timers then fire after what
   * waited is read, so a probe's timeout never passes over its Ack sitting in the socket.
   */
  constructor(
    private readonly clock: () => number,
    private readonly resumeReads: () => boolean = () => false,
  ) {}

  at(at: number, fire: () => void, lateMs = 0): void {
    const q = this.#queue;
    let i = q.length;
    while (i > 0 && q[i - 1]!.at > at) i--;
    const by = at + Math.max(0, lateMs);
    q.splice(i, 0, { at, by, fire });
    if (by < this.#wakeAt) this.#arm(by);
  }

  cancelAll(): void {
    this.#epoch++;
    this.#queue = [];
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeAt = Infinity;
  }

  #arm(wakeAt: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeAt = wakeAt;
    if (wakeAt === Infinity) return;
    // One millisecond more than the wait: the host clock counts whole milliseconds and the
    // event loop's clock, from which node times the wait, lags it by up to one. Without it the
    // timer often fires a millisecond before anything is due, and the process wakes twice.
    this.#timer = setTimeout(() => this.#wake(), Math.max(0, wakeAt - this.clock()) + 1);
  }

  #wake(): void {
    this.#timer = undefined;
    this.#wakeAt = Infinity;
    const now = this.clock();
    // The event loop's clock can still run behind ours: what is not due yet waits (never fire
    // early, which the core would take for a stale timer).
    let n = 0;
    while (n < this.#queue.length && this.#queue[n]!.at <= now) n++;
    const due = this.#queue.splice(0, n);
    // Late means this process was busy: datagrams that arrived meanwhile (the Ack a probe
    // timeout is about, the heartbeats a sweep looks for) wait in the socket, and Node runs
    // expired timers before it reads sockets. Let the reads go first, or our own stall would
    // look like everyone else's silence. Lateness a timer allowed is not lateness.
    let late = false;
    for (const p of due) {
      if (now - p.by > LATE_TIMER_MS) {
        this.late++;
        late = true;
      }
    }
    const epoch = this.#epoch;
    const run = (): void => {
      let error: unknown;
      for (const p of due) {
        if (this.#epoch !== epoch) break;
        try {
          p.fire();
        } catch (e) {
          // The rest of the batch still fires, as separate timers would have; the first
          // error is thrown as a timer of its own would have thrown it.
          error ??= e;
        }
      }
      if (error !== undefined) throw error;
    };
    // Armed for what is left before any of these fire, so one that throws stops no other.
    let wakeAt = Infinity;
    for (const p of this.#queue) wakeAt = Math.min(wakeAt, p.by);
    this.#arm(wakeAt);
    if (due.length > 0 && (this.resumeReads() || late)) setImmediate(run);
    else run();
  }
}

/** Whole monotonic milliseconds since process start: the core's notion of "now" on a device. */
export function monotonicClock(): number {
  return Math.floor(performance.now());
}
