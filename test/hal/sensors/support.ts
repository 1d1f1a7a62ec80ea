// Helpers the reader tests share.

import { expect } from 'vitest';
import { SensorError, type Sensor } from '../../../hal/sensors/sensor.js';

/** The error a read fails with; fails the test unless it is a SensorError. */
export async function readErr(s: Sensor): Promise<Error> {
  const e = await s.read().then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(SensorError);
  return e as Error;
}

/** Quantities as name -> value, for compact expectations. */
export const asRecord = (q: ReadonlyArray<{ quantity: string; value: number }>): Record<string, number> => Object.fromEntries(q.map((x) => [x.quantity, x.value]));
