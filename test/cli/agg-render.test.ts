import { describe, expect, it } from 'vitest';
import { renderAgg } from '../../runtime/cli/agg-command.js';

describe('murmur agg output', () => {
  const body = {
    key: 'sensor/t/temperature',
    count: 3,
    min: 20,
    max: 22,
    mean: 21,
    unit: '°C',
    devices: [
      { owner: 'real-1', value: 20, state: 'fresh' },
      { owner: 'real-2', value: 21, state: 'fresh' },
      { owner: 'real-3', value: 22, state: 'fresh' },
      { owner: 'fake-1', value: 1e308, state: 'fresh', reason: 'out-of-range' },
      { owner: 'odd', value: 72, state: 'fresh', reason: 'unit' },
      { owner: 'sunny', value: 900, state: 'fresh', reason: 'outlier' },
      { owner: 'gone', value: 19, state: 'stale', reason: 'stale' },
    ],
    stale: ['gone'],
    errors: [],
    nonNumeric: [],
    leftOut: [
      { owner: 'fake-1', reason: 'out-of-range', value: 1e308, unit: 'K' },
      { owner: 'gone', reason: 'stale' },
      { owner: 'odd', reason: 'unit', value: 72, unit: '°F' },
      { owner: 'sunny', reason: 'outlier', value: 900, unit: '°C' },
    ],
  };

  it('names every device left out, grouped by why, with the value that was not counted', () => {
    const out = renderAgg(body, false, { color: false, width: 100 });
    expect(out).toMatch(/^stale\s+gone$/m);
    expect(out).toMatch(/^other unit\s+odd \(72 °F\)$/m);
    expect(out).toMatch(/^out of range\s+fake-1 \(1e\+308 K\)$/m);
    expect(out).toMatch(/^outliers\s+sunny \(900 °C\)$/m);
    expect(out).toMatch(/^max\s+22 °C$/m);
  });

  it('with --devices, each row says why its device was left out', () => {
    const out = renderAgg(body, true, { color: false, width: 100 });
    expect(out).toMatch(/^fake-1\s+1e\+308\s+fresh\s+out-of-range$/m);
    expect(out).toMatch(/^real-1\s+20\s+fresh\s*$/m);
  });
});
