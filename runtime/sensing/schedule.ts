// When sensors are read. Cron expressions (5 fields, or 6 with seconds first) say it in the
// config the way people already know, e.g. "*/30 * * * * *" for every 30 seconds. The sampler
// sees only the Scheduler interface, so tests drive ticks by hand.

import { createRequire } from 'node:module';
import type { Logger } from 'node-cron';

type NodeCron = typeof import('node-cron');
let nodeCron: NodeCron | undefined;
/**
 * node-cron, loaded on first use: the schedules nearly every device has are clock periods
 * (below), run and checked without it, and loading it costs 1.4-1.8 MB of resident memory.
 */
function cron(): NodeCron {
  nodeCron ??= createRequire(import.meta.url)('node-cron') as NodeCron;
  return nodeCron;
}

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
    const period = this.#options.timezone === undefined ? clockPeriod(expression) : undefined;
    if (period) return everyPeriod(period, task, log);
    const logger: Logger | undefined = log && {
      info: () => {},
      debug: () => {},
      warn: (m) => log('warn', m),
      error: (m, e) => log('error', e ? `${String(m)}: ${e.message}` : String(m)),
    };
    // A throw from `task` is caught and logged by node-cron, and the schedule carries on.
    const t = cron().createTask(
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
  if (clockPeriod(expr) === undefined) {
    const r = cron().validateDetailed(expr);
    if (!r.valid) fail(r.errors.map((e) => e.message).join('; '));
  }
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
  const period = clockPeriod(expression);
  if (period) return period.stepS * (period.unit === 'minute' ? 60 : 1);
  const t = cron().createTask(expression, () => {}, { unref: true });
  try {
    const next = t.getNextRuns(runs).map((d) => d.getTime());
    let gap = 0;
    for (let i = 1; i < next.length; i++) gap = Math.max(gap, next[i]! - next[i - 1]!);
    return Math.ceil(gap / 1000);
  } finally {
    void t.destroy();
  }
}

/**
 * "Every N seconds" or "every N minutes (at second k)", aligned to the clock: what nearly every
 * sensor schedule says, the default included. These are run without node-cron's matcher, which
 * formats every candidate time with Intl.DateTimeFormat and so pages in ICU's locale and time
 * zone data: 8 MB of resident memory on a device that otherwise never touches Intl.
 */
export interface ClockPeriod {
  readonly unit: 'second' | 'minute';
  /** Divides 60: the period lines up with the minute (or hour) whatever the time zone. */
  readonly stepS: number;
  /** For minute periods: the second within the minute. */
  readonly atSecond: number;
}

export function clockPeriod(expression: string): ClockPeriod | undefined {
  const parts = expression.trim().split(/\s+/);
  const f = parts.length === 5 ? ['0', ...parts] : parts;
  if (f.length !== 6 || f.slice(2).some((x) => x !== '*')) return undefined;
  const [sec, min] = f as [string, string];
  const step = (x: string): number | undefined => {
    if (x === '*') return 1;
    const m = /^\*\/(\d+)$/.exec(x);
    const n = m ? Number(m[1]) : NaN;
    return n >= 1 && 60 % n === 0 ? n : undefined;
  };
  if (min === '*') {
    const s = step(sec);
    if (s !== undefined) return { unit: 'second', stepS: s, atSecond: 0 };
    if (/^\d+$/.test(sec) && Number(sec) < 60) return { unit: 'minute', stepS: 1, atSecond: Number(sec) };
    return undefined;
  }
  const m = step(min);
  if (m !== undefined && /^\d+$/.test(sec) && Number(sec) < 60) return { unit: 'minute', stepS: m, atSecond: Number(sec) };
  return undefined;
}

/** The first time after `after` (ms) that `p` matches, by the local clock. */
export function nextMatch(p: ClockPeriod, after: number): number {
  if (p.unit === 'second') {
    // Every zone offset is whole minutes, so local and UTC seconds line up.
    const stepMs = p.stepS * 1000;
    return (Math.floor(after / stepMs) + 1) * stepMs;
  }
  // Local minutes: a zone can be 30 or 45 minutes off UTC.
  let t = Math.floor(after / 60_000) * 60_000 + p.atSecond * 1000;
  if (t <= after) t += 60_000;
  for (let i = 0; i < 60; i++, t += 60_000) if (new Date(t).getMinutes() % p.stepS === 0) return t;
  return t;
}

function everyPeriod(p: ClockPeriod, task: () => void, log: CronSchedulerOptions['log']): Scheduled {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let last = Date.now();
  const arm = (): void => {
    if (stopped) return;
    // From the later of now and the last run: a timer that fires a little early must not run twice.
    const at = nextMatch(p, Math.max(Date.now(), last));
    timer = setTimeout(() => {
      last = at;
      try {
        task();
      } catch (e) {
        log?.('error', `scheduled task failed: ${(e as Error).message}`);
      }
      arm();
    }, at - Date.now());
    timer.unref();
  };
  arm();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
