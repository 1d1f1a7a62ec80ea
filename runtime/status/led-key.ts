// Each device publishes what its status LED shows as one of its own reserved keys, so any node
// (the fleet page, `murmur members`) can draw another device's LED without asking it. It changes
// only when the status does, a few times an hour on a healthy fleet.

import { RESERVED_PREFIX } from '../core/reserved-keys.js';
import { PATTERNS, type LedStatus } from '../../hal/leds/patterns.js';

export const LED_KEY = `${RESERVED_PREFIX}led`;

/** The status a peer's LED key holds, or undefined when the value is not a status name (a peer sent it). */
export function ledStatusOf(value: unknown): LedStatus | undefined {
  return typeof value === 'string' && Object.hasOwn(PATTERNS, value) ? (value as LedStatus) : undefined;
}
