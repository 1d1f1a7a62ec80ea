import { describe, expect, it } from 'vitest';
import { Prng } from '../../runtime/sim/prng.js';
import { DEFAULT_DATAGRAM_BUDGET, DatagramTooLargeError, decodeDatagram, encodeDatagram, encodeMessage, type RejectReason } from '../../runtime/wire/index.js';
import { MsgType, type Message } from '../../runtime/core/messages.js';
import { Encoder } from 'cbor-x';
import { samples } from './samples.js';

const raw = new Encoder({ useRecords: false, tagUint8Array: false });
/** A datagram whose single item is `value`, encoded however cbor-x likes. */
const datagramOf = (value: unknown): Uint8Array => Buffer.concat([Buffer.from([1]), raw.encode(value)]);
const bytes = (...b: number[]): Uint8Array => new Uint8Array([1, ...b]);
const reasons = (d: Uint8Array): RejectReason[] => decodeDatagram(d).rejected.map((r) => r.reason);
const detail = (d: Uint8Array): string => decodeDatagram(d).rejected.map((r) => r.detail).join('; ');

describe('decodeDatagram on hostile input never throws', () => {
  it('50,000 random datagrams: never throws, and anything it accepts is a well-formed message', () => {
    const rng = new Prng(7);
    for (let i = 0; i < 50_000; i++) {
      const len = rng.int(64);
      const d = new Uint8Array(len);
      for (let j = 0; j < len; j++) d[j] = rng.int(256);
      if (len > 0 && rng.next() < 0.7) d[0] = 1; // get past the version check most of the time
      const r = decodeDatagram(d);
      for (const m of r.messages) expect(typeof m.type).toBe('number');
    }
  });

  it('mutating bytes of valid datagrams: never throws', () => {
    const rng = new Prng(8);
    const valid = encodeDatagram(Object.values(samples));
    for (let i = 0; i < 20_000; i++) {
      const d = Uint8Array.from(valid);
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) d[1 + rng.int(d.length - 1)] = rng.int(256);
      decodeDatagram(d);
    }
  });

  it('every truncation of a valid datagram keeps the whole messages before the cut and names the rest malformed', () => {
    const msgs = Object.values(samples);
    const d = encodeDatagram(msgs);
    for (let cut = 2; cut < d.length; cut++) {
      const r = decodeDatagram(d.subarray(0, cut));
      expect(r.messages).toEqual(msgs.slice(0, r.messages.length));
      expect(r.rejected.length).toBeLessThanOrEqual(1);
    }
  });
});

describe('each rejection names what was wrong', () => {
  it('oversize: dropped before any decoding', () => {
    expect(reasons(new Uint8Array(DEFAULT_DATAGRAM_BUDGET + 1).fill(1))).toEqual(['oversize']);
  });
  it('empty, and a wrong version byte', () => {
    expect(reasons(new Uint8Array([]))).toEqual(['empty']);
    expect(reasons(new Uint8Array([1]))).toEqual(['empty']);
    expect(reasons(new Uint8Array([2, 0x80]))).toEqual(['bad-version']);
    expect(detail(new Uint8Array([2, 0x80]))).toMatch(/wire version 2/);
  });
  it('an array claiming 2^32 elements in a 9-byte header is refused without allocating', () => {
    expect(reasons(bytes(0x9b, 0, 0, 0, 1, 0, 0, 0, 0))).toEqual(['malformed-cbor']);
    expect(reasons(bytes(0x9a, 0xff, 0xff, 0xff, 0xff))).toEqual(['malformed-cbor']);
  });
  it('deep nesting is refused, not recursed into', () => {
    expect(reasons(bytes(...new Array(1000).fill(0x81), 0x01))).toEqual(['malformed-cbor']);
    expect(detail(bytes(...new Array(1000).fill(0x81), 0x01))).toMatch(/nested deeper/);
  });
  it.each([
    ['tag 27 (record definition)', [0xd8, 0x1b, 0x80]],
    ['tag 28 (shared reference)', [0xd8, 0x1c, 0x80]],
    ['tag 29 (shared reference use)', [0xd8, 0x1d, 0x00]],
    ['tag 1 (epoch date)', [0xc1, 0x00]],
    ['tag 258 (set)', [0xd9, 0x01, 0x02, 0x80]],
    ['tag 64 (typed array)', [0xd8, 0x40, 0x41, 0x00]],
    ['tag 105 (record)', [0xd8, 0x69, 0x80]],
    ['a map', [0xa1, 0x01, 0x02]],
    ['an indefinite-length array', [0x9f, 0x01, 0xff]],
    ['undefined', [0xf7]],
  ])('%s is malformed for murmur', (_name, b) => {
    expect(reasons(bytes(...b))).toEqual(['malformed-cbor']);
  });
  it('an unknown message type is skipped; the messages around it survive', () => {
    const hb = encodeMessage(samples['heartbeat']!);
    const unknown = raw.encode([200, 'from the future']);
    const d = Buffer.concat([Buffer.from([1]), hb, unknown, hb]);
    const r = decodeDatagram(d);
    expect(r.messages).toHaveLength(2);
    expect(r.rejected.map((x) => x.reason)).toEqual(['unknown-type']);
  });
  it('trailing fields from a newer version are ignored', () => {
    const r = decodeDatagram(datagramOf([MsgType.Ack, ['pi-b', 1], 9, 0, 'extra', 42]));
    expect(r.rejected).toEqual([]);
    expect(r.messages).toEqual([samples['ack']]);
  });
  it.each([
    ['a string generation', [MsgType.Ack, ['pi-b', '1'], 9, 0], /Ack.from.gen: expected a non-negative integer, got "1"/],
    ['a negative incarnation', [MsgType.Ack, ['pi-b', 1], 9, -1], /Ack.inc: expected a non-negative integer/],
    ['a fractional probe', [MsgType.Ack, ['pi-b', 1], 9.5, 0], /Ack.probe/],
    ['an empty node id', [MsgType.Leave, ['', 1], 0], /Leave.from.id: expected a non-empty string/],
    ['a 65-character node id', [MsgType.Leave, ['x'.repeat(65), 1], 0], /Leave.from.id: expected at most 64 characters/],
    ['a missing field', [MsgType.Ping, ['pi-a', 1], ['pi-b', 1]], /Ping: expected at least 4 fields/],
    ['a bad status code', [MsgType.Digest, ['a', 1], 'a', 'b', true, [['a', 1, 0, 9, 0, 0, 'x']]], /Digest.entries\[0\].status/],
    ['an infinite value', [MsgType.Delta, ['a', 1], ['a', 1], 0, 1, false, [['k', 1, Infinity, 0]]], /Delta.entries\[0\].value: expected a finite number/],
    ['an entry outside its version range', [MsgType.Delta, ['a', 1], ['a', 1], 5, 6, false, [['k', 9, 1, 0]]], /Delta.entries\[0\].version: expected within \(5, 6\]/],
    ['toV below fromV', [MsgType.Delta, ['a', 1], ['a', 1], 5, 4, false, []], /Delta.toV/],
    ['a view hash over 32 bits', [MsgType.Heartbeat, ['a', 1], 0, 1, 250, 0, 2 ** 33], /Heartbeat.view/],
    ['a value too long', [MsgType.Delta, ['a', 1], ['a', 1], 0, 1, false, [['k', 1, 'v'.repeat(1025), 0]]], /at most 1024/],
  ])('%s is an invalid field, named with its path', (_name, value, pattern) => {
    const d = datagramOf(value);
    expect(reasons(d)).toEqual(['invalid-field']);
    expect(detail(d)).toMatch(pattern as RegExp);
  });
  it('more messages than the limit: the excess is refused', () => {
    const ack = encodeMessage(samples['ack']!);
    const d = Buffer.concat([Buffer.from([1]), ...new Array(70).fill(Buffer.from(ack))]);
    const r = decodeDatagram(d);
    expect(r.messages).toHaveLength(64);
    expect(r.rejected.map((x) => x.reason)).toEqual(['too-many-messages']);
  });
});

describe('encodeDatagram', () => {
  it('refuses to build a datagram over the budget, naming sizes and types', () => {
    const big: Message = { ...(samples['deltaValues'] as Extract<Message, { type: 9 }>), entries: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, version: 11 + i, value: 'x'.repeat(40), ttlMs: 0 })), toV: 60 };
    expect(() => encodeDatagram([big])).toThrow(DatagramTooLargeError);
    expect(() => encodeDatagram([big])).toThrow(/exceeds the 1200-byte budget \(message types 9\)/);
  });
  it('bytes values come back as an independent copy', () => {
    const d = encodeDatagram([samples['deltaValues']!]);
    const r = decodeDatagram(d);
    d.fill(0);
    const m = r.messages[0] as Extract<Message, { type: 9 }>;
    expect(m.entries[4]!.value).toEqual(new Uint8Array([1, 2, 3, 255]));
  });
});
