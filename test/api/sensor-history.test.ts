import { describe, expect, it } from 'vitest';
import { numericValue, SensorHistory } from '../../runtime/api/page/sensor-history.js';

const reading = (v: number): string => JSON.stringify({ v, u: '°C', t: 1, i: 300 });

describe('SensorHistory', () => {
  it('keeps the numbers of readings and plain numeric values; errors and text are not plotted', () => {
    const h = new SensorHistory();
    h.record('a', 'sensor/room/temperature', reading(21), 1000);
    h.record('a', 'sensor/room/temperature', JSON.stringify({ e: 'no reply', u: '°C', t: 2, i: 300 }), 2000);
    h.record('a', 'level', 3, 3000);
    h.record('a', 'note', 'hello', 4000);
    expect(h.of('a', 'sensor/room/temperature')).toEqual([{ at: 1000, v: 21 }]);
    expect(h.of('a', 'level')).toEqual([{ at: 3000, v: 3 }]);
    expect(h.size).toBe(2);
    expect(numericValue(Number.NaN)).toBeUndefined();
  });

  it('is bounded in points per series, keeping the newest', () => {
    const h = new SensorHistory(5, 10);
    for (let i = 0; i < 12; i++) h.record('a', 'k', i, i);
    expect(h.of('a', 'k').map((p) => p.v)).toEqual([7, 8, 9, 10, 11]);
  });

  it('a run of equal values keeps its first and last point only', () => {
    const h = new SensorHistory();
    for (let i = 0; i < 10; i++) h.record('a', 'k', 5, i);
    h.record('a', 'k', 6, 10);
    expect(h.of('a', 'k')).toEqual([
      { at: 0, v: 5 },
      { at: 9, v: 5 },
      { at: 10, v: 6 },
    ]);
  });

  it('is bounded in series: the one updated longest ago makes room', () => {
    const h = new SensorHistory(5, 3);
    h.record('a', 'k', 1, 0);
    h.record('b', 'k', 1, 1);
    h.record('c', 'k', 1, 2);
    h.record('a', 'k', 2, 3);
    h.record('d', 'k', 1, 4);
    expect(h.size).toBe(3);
    expect(h.of('b', 'k')).toEqual([]);
    expect(h.of('a', 'k').map((p) => p.v)).toEqual([1, 2]);
    h.forget('a', 'k');
    expect(h.size).toBe(2);
  });
});
