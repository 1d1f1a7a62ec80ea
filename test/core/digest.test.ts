import { describe, expect, it } from 'vitest';
import { digestEntrySize, fillDigest } from '../../runtime/core/digest.js';
import { MsgType, type DigestEntry } from '../../runtime/core/messages.js';
import { encodeMessage } from '../../runtime/wire/index.js';

const entry = (i: number): DigestEntry => ({ id: `node-${i}`, gen: 1, inc: 0, status: 'alive', hb: 1000 + i, kvMax: i, addr: `192.0.2.${i}:7946` });

describe('fillDigest', () => {
  it('fills up to the budget and says where to continue', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const first = fillDigest(items, 0, entry, 1100);
    expect(first.entries.length).toBeGreaterThan(10);
    expect(first.next).toBe(first.entries.length);
    const second = fillDigest(items, first.next, entry, 1100);
    expect(second.entries[0]!.id).toBe(`node-${first.next}`);
  });

  it('never underestimates: a filled digest always encodes within the datagram budget', () => {
    const items = Array.from({ length: 300 }, (_, i) => i * 977);
    for (let start = 0; start < items.length; ) {
      const { entries, next } = fillDigest(items, start, entry, 1199 - 96);
      const bytes = encodeMessage({ type: MsgType.Digest, from: { id: 'node-x', gen: 9 }, lo: 'a', hi: 'z', reply: true, entries });
      expect(1 + bytes.length).toBeLessThanOrEqual(1200);
      for (const e of entries) expect(digestEntrySize(e)).toBeGreaterThanOrEqual(encodeMessage({ type: MsgType.Digest, from: { id: 'n', gen: 1 }, lo: 'a', hi: 'a', reply: true, entries: [e] }).length - 16);
      start = next;
    }
  });

  it('skips items the caller leaves out', () => {
    const { entries } = fillDigest([1, 2, 3, 4], 0, (i) => (i % 2 === 0 ? entry(i) : undefined), 10_000);
    expect(entries.map((e) => e.id)).toEqual(['node-2', 'node-4']);
  });
});
