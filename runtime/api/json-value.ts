// Gossiped values as the API shows and takes them. The wire carries strings, numbers, booleans
// and bytes; an object or a list travels as its compact JSON text in a string (sensor readings
// are such objects). The API gives that text back as the JSON value it spells, so a client
// reads `{"a":1}`, not `"{\"a\":1}"`.

import type { Value } from '../core/messages.js';

/** A string that spells a JSON object or list as that object or list; any other value as it is. */
export function apiValue(v: Value): unknown {
  if (typeof v !== 'string') return v;
  const first = v.charCodeAt(0);
  // "{" or "[": anything else is a plain string, and most strings are not worth parsing.
  if (first !== 0x7b && first !== 0x5b) return v;
  try {
    const parsed = JSON.parse(v) as unknown;
    return typeof parsed === 'object' && parsed !== null ? parsed : v;
  } catch {
    return v;
  }
}

/** An API value for the wire: an object or list as its compact JSON text; undefined when it cannot travel. */
export function wireValue(v: unknown): Value | undefined {
  if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return undefined;
}
