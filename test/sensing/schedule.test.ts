import { getTasks } from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CronScheduler, validateSchedule } from '../../runtime/sensing/schedule.js';

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
    const h = new CronScheduler().every('*/10 * * * * *', () => {});
    expect(getTasks().size).toBe(before + 1);
    h.stop();
    expect(getTasks().size).toBe(before);
  });

  it('does not keep the process alive: its timer is unref\'d', () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const h = new CronScheduler().every('*/10 * * * * *', () => {});
    try {
      expect(timers()).toBe(before);
    } finally {
      h.stop();
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
