import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RealTimeScheduler } from '../../runtime/host/scheduler.js';

// The real-time scheduler on node's timers, faked: what matters is how many times the process
// would wake, and in which order the core's timers fire. The node timer is armed one
// millisecond past the due time (the event loop's clock lags the host's by up to one).

describe('RealTimeScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const clockFrom = (start: number) => (): number => Date.now() - start;

  it('fires every timer due at one moment in a single wake-up, in the order they were asked for', () => {
    const s = new RealTimeScheduler(clockFrom(Date.now()));
    const fired: string[] = [];
    s.at(250, () => fired.push('heartbeat'));
    s.at(100, () => fired.push('probe'));
    s.at(250, () => fired.push('sweep'));
    s.at(250, () => fired.push('anti-entropy'));
    // One node timer for the earliest, whatever was asked for after it.
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(101);
    expect(fired).toEqual(['probe']);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(149);
    expect(fired).toEqual(['probe']);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['probe', 'heartbeat', 'sweep', 'anti-entropy']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an earlier timer asked for later moves the wake-up forward; timers set while firing are kept', () => {
    const s = new RealTimeScheduler(clockFrom(Date.now()));
    const fired: number[] = [];
    s.at(500, () => fired.push(500));
    s.at(200, () => {
      fired.push(200);
      s.at(300, () => fired.push(300));
    });
    vi.advanceTimersByTime(201);
    expect(fired).toEqual([200]);
    vi.advanceTimersByTime(300);
    expect(fired).toEqual([200, 300, 500]);
    expect(s.late).toBe(0);
  });

  it('never fires early when the event loop runs ahead of the host clock', () => {
    // A host clock that runs at half speed: the node timer set for 100 ms of it fires at 100 ms
    // of the event loop's, when the host clock reads 50.
    const start = Date.now();
    const s = new RealTimeScheduler(() => Math.floor((Date.now() - start) / 2));
    let firedAt = -1;
    s.at(100, () => (firedAt = Math.floor((Date.now() - start) / 2)));
    vi.advanceTimersByTime(150);
    expect(firedAt).toBe(-1);
    vi.advanceTimersByTime(60);
    expect(firedAt).toBeGreaterThanOrEqual(100);
  });

  it('a timer that throws stops neither the rest of its batch nor the timers after it', () => {
    const s = new RealTimeScheduler(clockFrom(Date.now()));
    const fired: string[] = [];
    s.at(10, () => {
      throw new Error('boom');
    });
    s.at(10, () => fired.push('same moment'));
    s.at(20, () => fired.push('later'));
    expect(() => vi.advanceTimersByTime(11)).toThrow('boom');
    expect(fired).toEqual(['same moment']);
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(['same moment', 'later']);
  });

  it('counts timers that fire late and lets reads go first; cancelAll stops the rest of a batch', () => {
    let now = 0;
    let resumed = 0;
    const s = new RealTimeScheduler(() => now, () => ++resumed > 0);
    const fired: string[] = [];
    s.at(10, () => {
      fired.push('first');
      s.cancelAll();
    });
    s.at(10, () => fired.push('second'));
    now = 60;
    vi.advanceTimersByTime(11);
    // Reads were resumed, so the batch waits for the next setImmediate.
    expect(fired).toEqual([]);
    expect(s.late).toBe(2);
    vi.runOnlyPendingTimers();
    expect(fired).toEqual(['first']);
  });

  it('a timer that allows lateness waits for the next wake-up within it and shares it', () => {
    const s = new RealTimeScheduler(clockFrom(Date.now()));
    const fired: string[] = [];
    // Housekeeping may wait up to 275 ms for the heartbeat due at 1,100.
    s.at(1000, () => fired.push('gc'), 275);
    s.at(1100, () => fired.push('heartbeat'));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1100);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['gc', 'heartbeat']);
    expect(s.late).toBe(0);
  });

  it('a timer that allows lateness fires at the end of it when nothing comes sooner', () => {
    const s = new RealTimeScheduler(clockFrom(Date.now()));
    const fired: number[] = [];
    s.at(1000, () => fired.push(1000), 275);
    s.at(1500, () => fired.push(1500));
    vi.advanceTimersByTime(1275);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([1000]);
    // A timer asked for later whose latest moment is sooner moves the wake-up forward.
    s.at(1400, () => fired.push(1400), 0);
    s.at(1300, () => fired.push(1300), 200);
    vi.advanceTimersByTime(125);
    expect(fired).toEqual([1000, 1300, 1400]);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([1000, 1300, 1400, 1500]);
    expect(s.late).toBe(0);
  });
});
