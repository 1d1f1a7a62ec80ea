import { describe, expect, it } from 'vitest';
import { SensorError, type Quantity } from '../../../hal/sensors/sensor.js';
import { ENVIRONMENT, seededRandom, SimulatedEnvironmentSensor } from '../../../hal/sensors/simulated.js';

const series = async (s: SimulatedEnvironmentSensor, n: number): Promise<Quantity[][]> => {
  const out: Quantity[][] = [];
  for (let i = 0; i < n; i++) out.push(await s.read());
  return out;
};
const value = (q: Quantity[], name: string): number => {
  const v = q.find((x) => x.quantity === name)?.value;
  if (v === undefined) throw new Error(`no ${name}`);
  return v;
};

describe('seededRandom', () => {
  it('is deterministic per seed, in [0, 1), and differs between seeds', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('SimulatedEnvironmentSensor', () => {
  it('gives temperature, humidity and pressure with their units', async () => {
    const s = new SimulatedEnvironmentSensor('env', { seed: 7 });
    expect(s.type).toBe('simulated');
    const q = await s.read();
    expect(q.map((x) => [x.quantity, x.unit])).toEqual([
      ['temperature', '°C'],
      ['humidity', '%RH'],
      ['pressure', 'hPa'],
    ]);
  });
  it('is deterministic for a seed and differs between seeds', async () => {
    const a = await series(new SimulatedEnvironmentSensor('env', { seed: 2024 }), 50);
    const b = await series(new SimulatedEnvironmentSensor('env', { seed: 2024 }), 50);
    const c = await series(new SimulatedEnvironmentSensor('env', { seed: 2025 }), 50);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });
  it('stays plausible and moves smoothly over a long run', async () => {
    for (const seed of [1, 99, 123456]) {
      const reads = await series(new SimulatedEnvironmentSensor('env', { seed }), 3000);
      const temps = reads.map((q) => value(q, 'temperature'));
      for (const w of ENVIRONMENT) {
        const vs = reads.map((q) => value(q, w.quantity));
        expect(Math.min(...vs)).toBeGreaterThanOrEqual(w.min);
        expect(Math.max(...vs)).toBeLessThanOrEqual(w.max);
        const steps = vs.slice(1).map((v, i) => Math.abs(v - (vs[i] ?? v)));
        expect(Math.max(...steps)).toBeLessThanOrEqual(w.step + 0.02 * (w.max - w.min) + 0.01);
        // It does move: a frozen value would not be a simulation.
        expect(new Set(vs).size).toBeGreaterThan(30);
        expect(Math.max(...vs) - Math.min(...vs)).toBeGreaterThan(w.step * 5);
      }
      const mean = temps.reduce((s, x) => s + x, 0) / temps.length;
      expect(mean).toBeGreaterThan(18);
      expect(mean).toBeLessThan(24);
    }
  });
  it('uses an injected source of randomness', async () => {
    const s = new SimulatedEnvironmentSensor('env', { random: () => 0.5 });
    expect(await series(s, 3)).toEqual(
      Array.from({ length: 3 }, () => [
        { quantity: 'temperature', value: 21, unit: '°C' },
        { quantity: 'humidity', value: 45, unit: '%RH' },
        { quantity: 'pressure', value: 1013, unit: 'hPa' },
      ]),
    );
  });
  it('can be told to fail, and to recover', async () => {
    const s = new SimulatedEnvironmentSensor('env', { seed: 3 });
    s.fail('unplugged for the demo');
    const e = await s.read().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SensorError);
    expect((e as Error).message).toBe('sensor env: simulated failure: unplugged for the demo');
    s.fail(undefined);
    expect(await s.read()).toHaveLength(3);
  });
  it('fails at random at the given rate, deterministically per seed, without changing the values of a seed that does not', async () => {
    const outcome = async (seed: number): Promise<string[]> => {
      const s = new SimulatedEnvironmentSensor('env', { seed, failRate: 0.3 });
      const out: string[] = [];
      for (let i = 0; i < 200; i++) out.push(await s.read().then(() => 'ok', (e: Error) => e.message));
      return out;
    };
    const a = await outcome(11);
    expect(await outcome(11)).toEqual(a);
    const failures = a.filter((x) => x !== 'ok');
    expect(failures.length).toBeGreaterThan(30);
    expect(failures.length).toBeLessThan(90);
    expect(failures[0]).toBe('sensor env: simulated failure: random (failRate)');
    await expect(new SimulatedEnvironmentSensor('env', { failRate: 1 }).read()).rejects.toThrow(/simulated failure/);
    expect(await series(new SimulatedEnvironmentSensor('env', { seed: 5, failRate: 0 }), 20)).toEqual(await series(new SimulatedEnvironmentSensor('env', { seed: 5 }), 20));
  });
});
