// Whether a new sample of one key is worth a gossip write. Every write costs every device in the
// fleet a little bandwidth and memory, so a value that only jitters stays off the air, yet each
// key is rewritten at least once per max interval so that readers can tell quiet from dead.

export type Sample = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: string };

export interface LastPublished {
  readonly sample: Sample;
  /** Monotonic ms when it was published. */
  readonly at: number;
}

export type PublishReason = 'first' | 'changed' | 'failed' | 'recovered' | 'error-changed' | 'max-interval';

/**
 * Why `next` should be published, or undefined to suppress it. Values are compared with the last
 * *published* one, not the last sampled one, so a slow drift is published once it adds up to
 * the deadband. A deadband of 0 publishes every change.
 */
export function publishReason(
  last: LastPublished | undefined,
  next: Sample,
  now: number,
  deadband: number,
  maxIntervalMs: number,
): PublishReason | undefined {
  if (!last) return 'first';
  const prev = last.sample;
  if (prev.ok && !next.ok) return 'failed';
  if (!prev.ok && next.ok) return 'recovered';
  if (!prev.ok && !next.ok && prev.error !== next.error) return 'error-changed';
  if (prev.ok && next.ok && beyond(Math.abs(next.value - prev.value), deadband)) return 'changed';
  if (now - last.at >= maxIntervalMs) return 'max-interval';
  return undefined;
}

/**
 * diff ≥ deadband, forgiving the last bits of float subtraction: 21.2 − 21.1 is
 * 0.09999999999999787, and a deadband of 0.1 is meant to let that through.
 */
function beyond(diff: number, deadband: number): boolean {
  if (deadband <= 0) return diff > 0;
  return diff >= deadband * (1 - 1e-9);
}
