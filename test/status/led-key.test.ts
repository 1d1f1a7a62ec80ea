import { describe, expect, it } from 'vitest';
import { LED_KEY, ledStatusOf } from '../../runtime/status/led-key.js';
import { RESERVED_PREFIX } from '../../runtime/core/reserved-keys.js';

describe('LED status key', () => {
  it('is a reserved key, so no application can write or hide it', () => {
    expect(LED_KEY.startsWith(RESERVED_PREFIX)).toBe(true);
  });

  it('accepts a status name only: the value comes from a peer', () => {
    expect(ledStatusOf('healthy')).toBe('healthy');
    expect(ledStatusOf('identify')).toBe('identify');
    expect(ledStatusOf('toString')).toBeUndefined();
    expect(ledStatusOf('__proto__')).toBeUndefined();
    expect(ledStatusOf(3)).toBeUndefined();
  });
});
