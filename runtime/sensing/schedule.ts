// When sensors are read. Cron expressions (5 fields, or 6 with seconds first) say it in the
// config the way people already know, e.g. "*/30 * * * * *" for every 30 seconds. The sampler
// sees only the Scheduler interface, so tests drive ticks by hand.

import { createTask, validateDetailed, type Logger } from 'node-cron';

export interface Scheduled {
  stop(): void;
}

export interface Scheduler {
  /** Call `task` at every time matching `expression` until stopped. */
  every(expression: string, task: () => void): Scheduled;
}

export interface CronSchedulerOptions {
  /** Where node-cron's own warnings go (missed executions after a stall); node-cron's console logger if absent. */
  readonly log?: (level: 'warn' | 'error', message: string) => void;
  /** IANA zone for the expressions; the system's local zone if absent. */
  readonly timezone?: string;
}

/** The real scheduler, on node-cron. Its timers are unref'd: schedules never keep a process alive. */
export class CronScheduler implements Scheduler {
  readonly #options: CronSchedulerOptions;

  constructor(options: CronSchedulerOptions = {}) {
    this.#options = options;
  }

  every(expression: string, task: () => void): Scheduled {
    validateSchedule(expression, 'schedule');
    const log = this.#options.log;
    const logger: Logger | undefined = log && {
      info: () => {},
      debug: () => {},
      warn: (m) => log('warn', m),
      error: (m, e) => log('error', e ? `${String(m)}: ${e.message}` : String(m)),
    };
    // A throw from `task` is caught and logged by node-cron, and the schedule carries on.
    const t = createTask(
      expression,
      () => task(),
      {
        unref: true,
        ...(logger ? { logger } : {}),
        ...(this.#options.timezone !== undefined ? { timezone: this.#options.timezone } : {}),
      },
    );
    t.start();
    // destroy, not stop: node-cron keeps every task it created in a global registry until destroyed.
    return { stop: () => void t.destroy() };
  }
}

// [min, max] of each of the six fields, seconds first.
const FIELDS: ReadonlyArray<readonly [name: string, min: number, max: number]> = [
  ['second', 0, 59],
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
];

/**
 * Throws an Error naming the config field when `expression` is not a cron expression, e.g.
 * `hal.sensors[2].schedule: "*\/70 * * * *" is not a valid cron expression: ...`.
 *
 * Stricter than node-cron in one way: a step longer than its field ("*\/70" minutes) is
 * refused. node-cron accepts it and fires once an hour, which is never what the author meant
 * (cron cannot say "every 70 minutes").
 */
export function validateSchedule(expression: unknown, field: string): void {
  const fail = (why: string): never => {
    throw new Error(`${field}: ${JSON.stringify(expression)} is not a valid cron expression: ${why}`);
  };
  if (typeof expression !== 'string') fail('expected a string');
  const expr = expression as string;
  const r = validateDetailed(expr);
  if (!r.valid) fail(r.errors.map((e) => e.message).join('; '));
  if (expr.trim().startsWith('@')) return; // nicknames (@hourly ...) have no steps
  const parts = expr.trim().split(/\s+/);
  const fields = parts.length === 5 ? ['0', ...parts] : parts;
  fields.forEach((f, k) => {
    const [name, min, max] = FIELDS[k]!;
    for (const token of f.split(',')) {
      const m = /^(\*|(\d+)(?:-(\d+))?)\/(\d+)$/.exec(token);
      if (!m) continue;
      const step = Number(m[4]);
      const from = m[2] !== undefined ? Number(m[2]) : min;
      const to = m[3] !== undefined ? Number(m[3]) : max;
      if (step > to - from) fail(`step ${step} in ${token} is longer than the ${name} field's range ${from}-${to}, so it would fire only once`);
    }
  });
}

/**
 * The longest gap between runs of `expression` over its next `runs` firings, in seconds. A
 * reading can only be republished on a tick, so a sensor sampled hourly cannot promise readers
 * a fresh value every 5 minutes: the interval it announces must be at least this.
 */
export function longestGapS(expression: string, runs = 48): number {
  validateSchedule(expression, 'schedule');
  const t = createTask(expression, () => {}, { unref: true });
  try {
    const next = t.getNextRuns(runs).map((d) => d.getTime());
    let gap = 0;
    for (let i = 1; i < next.length; i++) gap = Math.max(gap, next[i]! - next[i - 1]!);
    return Math.ceil(gap / 1000);
  } finally {
    void t.destroy();
  }
}
