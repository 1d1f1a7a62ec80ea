// "murmur identify <device>": make one device's LED blink so a person can find it in a rack.
//
// The request respects the authority boundary like everything else in gossip: the asking
// device writes one of its OWN keys, `_murmur/identify/<target id>`, with a TTL, and the target
// notices it among what its peers publish. Nobody writes another device's state, the entry is
// signed by the asker's device key like every key, and the TTL ends the blinking on its own
// even if the asker goes away. Turning it off early deletes the key.

import { RESERVED_PREFIX } from '../core/reserved-keys.js';

export const IDENTIFY_PREFIX = `${RESERVED_PREFIX}identify/`;
/** Long enough to walk to the rack; the CLI can ask for up to MAX_IDENTIFY_S. */
export const DEFAULT_IDENTIFY_S = 120;
export const MAX_IDENTIFY_S = 3600;

export function identifyKey(target: string): string {
  return `${IDENTIFY_PREFIX}${target}`;
}

/**
 * Whether a stored entry is a well-formed request. It comes from another device, so it is
 * held to what the API lets a device publish: `true`, with a TTL of 1 s to MAX_IDENTIFY_S. A
 * request without a TTL would never end, and identify outranks every other status.
 */
export function isIdentifyRequest(e: { readonly value: unknown; readonly ttlMs: number } | undefined): boolean {
  return e !== undefined && e.value === true && e.ttlMs > 0 && e.ttlMs <= MAX_IDENTIFY_S * 1000;
}

/**
 * Who currently asks `self` to identify itself: owners (this device included) holding a live,
 * unexpired identify key for it. `live(owner, key)` is the KV store's TTL-aware lookup.
 */
export function identifyRequesters(self: string, owners: Iterable<string>, live: (owner: string, key: string) => boolean): string[] {
  const key = identifyKey(self);
  const out: string[] = [];
  for (const o of owners) if (live(o, key)) out.push(o);
  return out;
}
