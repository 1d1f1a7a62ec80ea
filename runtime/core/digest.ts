// Filling scuttlebutt digests against the byte budget. A digest lists members in sorted-id
// order so that its [lo, hi] range says which members it covers; entries are added until the
// next would not fit, and the caller continues from `next` in a later datagram or round.

import type { DigestEntry } from './messages.js';
import { utf8Length } from './packing.js';

/** Bytes of a Digest besides its entries (type, sender, range, flag, array headers), rounded up. */
export const DIGEST_OVERHEAD = 96;

/** Upper bound on one entry's encoded size (CBOR headers at their widest, plus the strings). */
export function digestEntrySize(e: DigestEntry): number {
  return 1 + 2 + utf8Length(e.id) + 9 + 9 + 1 + 9 + 9 + 2 + utf8Length(e.addr);
}

/**
 * Entries for `items[start..]` that fit in `budget` bytes, in order. `entryOf` may return
 * undefined to leave an item out. `next` is the index of the first item not considered.
 */
export function fillDigest<T>(
  items: readonly T[],
  start: number,
  entryOf: (item: T) => DigestEntry | undefined,
  budget: number,
): { entries: DigestEntry[]; next: number } {
  const entries: DigestEntry[] = [];
  let used = 0;
  let i = start;
  for (; i < items.length; i++) {
    const e = entryOf(items[i]!);
    if (!e) continue;
    const n = digestEntrySize(e);
    if (used + n > budget) break;
    entries.push(e);
    used += n;
  }
  return { entries, next: i };
}
