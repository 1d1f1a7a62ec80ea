// Packing messages into datagrams against the byte budget. Each message's size is measured
// once; a builder adds messages until the next would not fit (chitchat's try_add), so nothing
// is ever truncated after the fact.

import type { KvEntry, Message } from './messages.js';

/**
 * Messages per datagram at most. Receivers refuse more (runtime/wire limits), so a datagram
 * packed past this would lose its tail at every receiver.
 */
export const MAX_MESSAGES_PER_DATAGRAM = 64;

/** Groups `msgs`, in order, into as few datagrams of at most `budget` payload bytes as a greedy pass gives. */
export function packDatagrams(msgs: readonly Message[], budget: number, size: (m: Message) => number): Message[][] {
  const out: Message[][] = [];
  let cur: Message[] = [];
  let used = 0;
  for (const m of msgs) {
    const n = size(m);
    if (cur.length > 0 && (used + n > budget || cur.length >= MAX_MESSAGES_PER_DATAGRAM)) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(m);
    used += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Bytes of a Delta besides its entries (type, refs, versions, array headers), rounded up. A
 * property of the wire encoding, not a tuning choice, so it sits beside the entry sizes.
 */
export const DELTA_OVERHEAD = 96;

/** UTF-8 byte length without allocating (CBOR text strings are UTF-8). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Upper bound on a key/value entry's encoded size: CBOR headers at their widest plus the
 * payload. Exactness is checked when the datagram is encoded; this must never underestimate.
 */
export function kvEntrySize(e: KvEntry): number {
  let v = 2;
  if (typeof e.value === 'string') v = 3 + utf8Length(e.value);
  else if (e.value instanceof Uint8Array) v = 3 + e.value.length;
  else if (typeof e.value === 'number') v = 9;
  // A signature is a 64-byte string: 2 bytes of header.
  return 1 + 3 + utf8Length(e.key) + 9 + v + 9 + (e.sig ? 66 : 0);
}
