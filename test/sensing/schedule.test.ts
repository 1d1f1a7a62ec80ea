import { createRequire } from 'node:module';
// The CommonJS instance: schedule.ts loads node-cron with require, on first use, and the
// global task registry checked below is per instance.
const { createTask, getTasks } = createRequire(import.meta.url)('node-cron') as typeof import('node-cron');
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clockPeriod, CronScheduler, longestGapS, nextMatch, validateSchedule } from '../../runtime/sensing/schedule.js';

describe('validateSchedule', () => {
  it.each([
    '*/30 * * * * *',
    '*/5 * * * *',
    '0 */15 * * * *',
    '15,45 * * * * *',
    '0 0 * * *',
    '10-50/20 * * * * *',
    '*/59 * * * * *',
    '@hourly',
  ])('accepts %j', (expr) => {
    expect(() => validateSchedule(expr, 'hal.sensors[0].schedule')).not.toThrow();
  });

  it.each([
    ['*/70 * * * *', /step 70 in \*\/70 is longer than the minute field's range 0-59/],
    ['*/60 * * * * *', /step 60 .* second field/],
    ['0 */24 * * *', /step 24 .* hour field/],
    ['10-20/15 * * * * *', /step 15 in 10-20\/15 .* range 10-20/],
    ['61 * * * * *', /61 is a invalid expression for second/],
    ['* * * *', /expected 5 or 6 fields but got 4/],
    ['*/5 * * * * * *', /expected 5 or 6 fields but got 7/],
    ['every minute', /illegal characters|fields/],
    ['', /illegal characters/],
    ['0 0 31 2 *', /impossible day of month/],
    [30, /expected a string/],
  ])('refuses %j, naming the config field', (expr, why) => {
    let message = '';
    try {
      validateSchedule(expr, 'hal.sensors[2].schedule');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.startsWith(`hal.sensors[2].schedule: ${JSON.stringify(expr)} is not a valid cron expression: `)).toBe(true);
    expect(message).toMatch(why);
  });
});

describe('CronScheduler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // node-cron arms a setTimeout to the next match, computed from Date: both are faked, so the
  // schedule can be driven through days in milliseconds.
  it('fires on the schedule, at whole seconds, and not after stop', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-24T10:00:00.400Z'));
    const fired: string[] = [];
    const s = new CronScheduler({ timezone: 'UTC' });
    const h = s.every('*/10 * * * * *', () => fired.push(new Date().toISOString()));
    await vi.advanceTimersByTimeAsync(35_000);
    expect(fired).toEqual(['2026-11-24T10:00:10.000Z', '2026-11-24T10:00:20.000Z', '2026-11-24T10:00:30.000Z']);
    h.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fired).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads 5-field expressions as minutes, at second 0', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-24T10:00:30.000Z'));
    const fired: string[] = [];
    const h = new CronScheduler({ timezone: 'UTC' }).every('*/5 * * * *', () => fired.push(new Date().toISOString()));
    await vi.advanceTimersByTimeAsync(11 * 60_000);
    h.stop();
    expect(fired).toEqual(['2026-11-24T10:05:00.000Z', '2026-11-24T10:10:00.000Z']);
  });

  it('keeps firing after the task throws, and reports the throw through log', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-24T10:00:00.000Z'));
    const logged: string[] = [];
    let n = 0;
    const h = new CronScheduler({ log: (level, m) => logged.push(`${level} ${m}`) }).every('* * * * * *', () => {
      n++;
      throw new Error('boom');
    });
    await vi.advanceTimersByTimeAsync(3_500);
    h.stop();
    expect(n).toBe(3);
    expect(logged.filter((l) => l.startsWith('error'))).toHaveLength(3);
    expect(logged[0]).toContain('boom');
  });

  it('removes the task from node-cron\'s global registry on stop', () => {
    const before = getTasks().size;
    const h = new CronScheduler().every('0 0 3 * * 1', () => {});
    expect(getTasks().size).toBe(before + 1);
    h.stop();
    expect(getTasks().size).toBe(before);
  });

  it('does not keep the process alive: its timer is unref\'d', () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const h = new CronScheduler().every('0 0 3 * * 1', () => {});
    const p = new CronScheduler().every('*/10 * * * * *', () => {});
    try {
      expect(timers()).toBe(before);
    } finally {
      h.stop();
      p.stop();
    }
    // The same call with a ref'd timer does show up, so the check above can fail.
    const ref = setTimeout(() => {}, 10_000);
    expect(timers()).toBe(before + 1);
    clearTimeout(ref);
  });

  it('refuses an invalid expression before creating anything', () => {
    const before = getTasks().size;
    expect(() => new CronScheduler().every('*/70 * * * *', () => {})).toThrow(/schedule: "\*\/70 \* \* \* \*" is not a valid cron expression/);
    expect(getTasks().size).toBe(before);
  });
});

describe('clock periods (run without node-cron\'s Intl-based matcher)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each<[string, ReturnType<typeof clockPeriod>]>([
    ['*/30 * * * * *', { unit: 'second', stepS: 30, atSecond: 0 }],
    ['* * * * * *', { unit: 'second', stepS: 1, atSecond: 0 }],
    ['15 * * * * *', { unit: 'minute', stepS: 1, atSecond: 15 }],
    ['*/5 * * * *', { unit: 'minute', stepS: 5, atSecond: 0 }],
    ['10 */15 * * * *', { unit: 'minute', stepS: 15, atSecond: 10 }],
    ['*/7 * * * * *', undefined],
    ['0 0 * * * *', undefined],
    ['*/30 * 3 * * *', undefined],
    ['0 0 3 * * 1', undefined],
  ])('%s', (expr, period) => {
    expect(clockPeriod(expr)).toEqual(period);
  });

  it('fire when node-cron would, and stop', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-24T10:00:00.400Z'));
    const fired: string[] = [];
    const h = new CronScheduler().every('*/10 * * * * *', () => fired.push(new Date().toISOString()));
    await vi.advanceTimersByTimeAsync(35_000);
    expect(fired).toEqual(['2026-11-24T10:00:10.000Z', '2026-11-24T10:00:20.000Z', '2026-11-24T10:00:30.000Z']);
    h.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fired).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('agree with node-cron on the next runs of every clock-period expression', () => {
    const from = new Date('2026-11-24T10:07:43.250Z').getTime();
    vi.useFakeTimers();
    vi.setSystemTime(from);
    for (const expr of ['*/30 * * * * *', '*/4 * * * * *', '7 * * * * *', '*/5 * * * *', '20 */15 * * * *', '*/2 * * * *']) {
      const t = createTask(expr, () => {}, { unref: true });
      const theirs = t.getNextRuns(5).map((d) => d.getTime());
      void t.destroy();
      const ours: number[] = [];
      let at = from;
      for (let i = 0; i < 5; i++) ours.push((at = nextMatch(clockPeriod(expr)!, at)));
      expect(ours, expr).toEqual(theirs);
    }
  });

  it('line up with local minutes in a zone 45 minutes off the hour', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Kathmandu';
    try {
      // 10:00 UTC is 15:45 in Kathmandu: the next local quarter hour is 16:00, i.e. 10:15 UTC.
      const at = nextMatch(clockPeriod('0 */30 * * * *')!, Date.parse('2026-11-24T10:00:00Z'));
      expect(new Date(at).toISOString()).toBe('2026-11-24T10:15:00.000Z');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('the longest gap of a clock period is the period', () => {
    expect(longestGapS('*/30 * * * * *')).toBe(30);
    expect(longestGapS('0 */15 * * * *')).toBe(900);
    expect(longestGapS('0 0 * * * *')).toBe(3600);
  });
});
