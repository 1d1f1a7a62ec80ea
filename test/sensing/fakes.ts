// Test doubles for the sampler: a virtual clock whose timers fire only when the test advances
// it, a scheduler the test ticks by hand, and sensors whose reads the test settles.

import type { Quantity, Sensor } from '../../hal/sensors/sensor.js';
import type { Scheduled, Scheduler } from '../../runtime/sensing/schedule.js';

/** Lets every pending promise callback run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

export class FakeClock {
  now = 0;
  readonly wallBase = 1_795_424_497_000;
  #timers: Timer[] = [];
  #seq = 0;

  readonly monotonic = (): number => this.now;
  readonly wallClock = (): number => this.wallBase + this.now;

  readonly delay = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new Error('aborted'));
      const onAbort = (): void => {
        this.#timers = this.#timers.filter((x) => x !== t);
        reject(new Error('aborted'));
      };
      const t: Timer = {
        at: this.now + ms,
        seq: this.#seq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.#timers.push(t);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  /** Timers not yet fired nor cancelled: shows that no timeout outlives its read. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Move time forward by `ms`, firing due timers in order and letting their callbacks run. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    await flush();
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.now = due.at;
      due.fire();
      await flush();
    }
    this.now = end;
    await flush();
  }
}

export class FakeScheduler implements Scheduler {
  readonly tasks: Array<{ expression: string; task: () => void; stopped: boolean }> = [];

  every(expression: string, task: () => void): Scheduled {
    const entry = { expression, task, stopped: false };
    this.tasks.push(entry);
    return { stop: () => void (entry.stopped = true) };
  }

  /** One scheduled tick of every live task (the sampler registers one per sensor, in order). */
  tick(index?: number): void {
    this.tasks.forEach((t, i) => {
      if (!t.stopped && (index === undefined || index === i)) t.task();
    });
  }

  get live(): number {
    return this.tasks.filter((t) => !t.stopped).length;
  }
}

type Result = Quantity[] | Error;

/**
 * A sensor whose next results the test queues: a list of quantities, an Error to reject with,
 * or nothing (the read then waits until the test calls settle()). Records when each read began.
 */
export class FakeSensor implements Sensor {
  readonly type = 'fake';
  readonly readsAt: number[] = [];
  #queue: Result[] = [];
  #waiting: Array<{ resolve: (q: Quantity[]) => void; reject: (e: Error) => void }> = [];

  constructor(
    readonly name: string,
    private readonly clock: FakeClock,
    /** Returned when nothing is queued and the sensor is not in manual mode. */
    public steady: Result | undefined = undefined,
  ) {}

  next(...results: Result[]): this {
    this.#queue.push(...results);
    return this;
  }

  read(): Promise<Quantity[]> {
    this.readsAt.push(this.clock.now);
    const r = this.#queue.shift() ?? this.steady;
    if (r === undefined) return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
    return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
  }

  /** Settle the oldest read still waiting. */
  settle(result: Result): void {
    const w = this.#waiting.shift();
    if (!w) throw new Error(`sensor ${this.name}: no read is waiting`);
    if (result instanceof Error) w.reject(result);
    else w.resolve(result);
  }

  get waiting(): number {
    return this.#waiting.length;
  }
}

export const temp = (value: number): Quantity[] => [{ quantity: 'temperature', value, unit: '°C' }];
