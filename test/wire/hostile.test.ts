import { describe, expect, it } from 'vitest';
import { Prng } from '../../runtime/sim/prng.js';
import {
  DEFAULT_DATAGRAM_BUDGET,
  DatagramTooLargeError,
  decodeDatagram,
  encodeDatagram,
  encodeMessage,
  MAX_ADDR_LENGTH,
  MAX_DEPTH,
  MAX_ENTRIES,
  MAX_ID_LENGTH,
  MAX_KEY_LENGTH,
  MAX_MESSAGES,
  MAX_VALUE_LENGTH,
  MAX_WHOIS_IDS,
  PUBLIC_KEY_BYTES,
  scanItem,
  SIGNATURE_BYTES,
  toArray,
  type DecodeResult,
  type RejectReason,
} from '../../runtime/wire/index.js';
import { MsgType, type Message } from '../../runtime/core/messages.js';
import { Encoder } from 'cbor-x';
import { samples } from './samples.js';

const raw = new Encoder({ useRecords: false, tagUint8Array: false });
/** A datagram whose single item is `value`, encoded however cbor-x likes. */
const datagramOf = (value: unknown): Uint8Array => Buffer.concat([Buffer.from([1]), raw.encode(value)]);
const bytes = (...b: number[]): Uint8Array => new Uint8Array([1, ...b]);
const reasons = (d: Uint8Array): RejectReason[] => decodeDatagram(d).rejected.map((r) => r.reason);
const detail = (d: Uint8Array): string => decodeDatagram(d).rejected.map((r) => r.detail).join('; ');

const DECODE_REASONS: readonly RejectReason[] = ['malformed-cbor', 'unknown-type', 'invalid-field', 'too-many-messages'];

const same = (a: Message, b: Message): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A message survives encode and decode unchanged (so it is one the encoder could have produced). */
function roundTrips(m: Message): boolean {
  const again = decodeDatagram(encodeDatagram([m], 1 << 20), 1 << 20);
  return again.rejected.length === 0 && again.messages.length === 1 && same(again.messages[0]!, m);
}

/**
 * What must hold of any decoding of `d`, or why it does not: a datagram too short to hold a
 * message is "empty", a foreign first byte is "bad-version" and nothing else; otherwise at
 * least one message or rejection comes out (nothing vanishes silently), every rejection is a
 * decoding reason with a detail, a malformed item ends the datagram, and every accepted message
 * is well-formed (past the first `known` ones, which the caller checks against what it encoded).
 */
function unexplained(d: Uint8Array, r: DecodeResult, known = 0): string[] {
  const out: string[] = [];
  const rs = r.rejected.map((x) => x.reason);
  if (d.length <= 1) {
    if (r.messages.length > 0 || rs.join() !== 'empty') out.push(`${d.length} bytes: expected [empty], got ${rs} and ${r.messages.length} messages`);
    return out;
  }
  if (d[0] !== 1) {
    if (r.messages.length > 0 || rs.join() !== 'bad-version') out.push(`version ${d[0]}: expected [bad-version], got ${rs} and ${r.messages.length} messages`);
    return out;
  }
  if (r.messages.length + rs.length === 0) out.push('nothing decoded and nothing rejected');
  for (const [i, x] of r.rejected.entries()) {
    if (!DECODE_REASONS.includes(x.reason)) out.push(`unexpected reason ${x.reason}`);
    if (x.detail.length === 0) out.push(`${x.reason} without a detail`);
    if (x.reason === 'malformed-cbor' && i !== rs.length - 1) out.push('decoding went on after a malformed item');
  }
  for (const m of r.messages.slice(known)) if (!roundTrips(m)) out.push(`accepted a message that does not round-trip: ${JSON.stringify(toArray(m))}`);
  return out;
}

/** Offsets of the end of each message in `d`, which holds `msgs`. */
function ends(msgs: readonly Message[]): number[] {
  let at = 1;
  return msgs.map((m) => (at += encodeMessage(m).length));
}

describe('decodeDatagram on hostile input: every verdict is explained', () => {
  it('50,000 random datagrams: each is rejected for a reason that fits it, and anything accepted is a well-formed message', () => {
    const rng = new Prng(7);
    const tally = new Map<string, number>();
    const problems: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const len = rng.int(64);
      const d = new Uint8Array(len);
      for (let j = 0; j < len; j++) d[j] = rng.int(256);
      if (len > 0 && rng.next() < 0.7) d[0] = 1; // get past the version check most of the time
      const r = decodeDatagram(d);
      for (const p of unexplained(d, r)) problems.push(`#${i} ${Buffer.from(d).toString('hex')}: ${p}`);
      for (const x of r.rejected) tally.set(x.reason, (tally.get(x.reason) ?? 0) + 1);
      if (r.messages.length > 0) tally.set('accepted', (tally.get('accepted') ?? 0) + 1);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    // Every way of failing was reached, and random bytes are almost never a murmur message.
    for (const reason of ['empty', 'bad-version', 'malformed-cbor', 'unknown-type', 'invalid-field']) expect(tally.get(reason), reason).toBeGreaterThan(50);
    expect(tally.get('accepted') ?? 0).toBeLessThan(50);
  });

  it('mutating bytes of valid datagrams: the messages before the first changed byte survive intact, the rest is rejected for a reason or is well-formed', () => {
    const rng = new Prng(8);
    const msgs = Object.values(samples);
    const valid = encodeDatagram(msgs);
    const spans = ends(msgs);
    const tally = new Map<string, number>();
    const problems: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const d = Uint8Array.from(valid);
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) d[1 + rng.int(d.length - 1)] = rng.int(256);
      const first = d.findIndex((b, at) => b !== valid[at]);
      const r = decodeDatagram(d);
      const intact = first < 0 ? msgs.length : spans.filter((e) => e <= first).length;
      const why = unexplained(d, r, intact);
      if (r.messages.length < intact || !r.messages.slice(0, intact).every((m, k) => same(m, msgs[k]!))) {
        why.push(`the ${intact} messages before byte ${first} did not survive`);
      }
      if (first < 0 && (r.rejected.length > 0 || r.messages.length !== msgs.length)) why.push('an unchanged datagram did not decode whole');
      for (const p of why) problems.push(`#${i} ${Buffer.from(d).toString('hex')}: ${p}`);
      for (const x of r.rejected) tally.set(x.reason, (tally.get(x.reason) ?? 0) + 1);
      if (first >= 0 && r.rejected.length === 0) tally.set('changed, still whole', (tally.get('changed, still whole') ?? 0) + 1);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    for (const reason of ['malformed-cbor', 'unknown-type', 'invalid-field', 'changed, still whole']) expect(tally.get(reason), reason).toBeGreaterThan(50);
  });

  it('every truncation of a valid datagram keeps the whole messages before the cut, and names the rest malformed unless the cut falls between messages', () => {
    const msgs = Object.values(samples);
    const d = encodeDatagram(msgs);
    const spans = ends(msgs);
    for (let cut = 2; cut < d.length; cut++) {
      const r = decodeDatagram(d.subarray(0, cut));
      const whole = spans.filter((e) => e <= cut).length;
      expect(r.messages).toEqual(msgs.slice(0, whole));
      expect(r.rejected.map((x) => x.reason)).toEqual(spans.includes(cut) ? [] : ['malformed-cbor']);
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

describe('limits, at the limit and one past it', () => {
  const BIG = 1 << 16;
  const a = { id: 'pi-a', gen: 3 };
  const delta = (entries: Extract<Message, { type: 9 }>['entries']): Message => ({
    type: MsgType.Delta,
    from: a,
    owner: a,
    fromV: 0,
    toV: Math.max(1, ...entries.map((e) => e.version)),
    reset: false,
    entries,
  });
  const decodesWhole = (d: Uint8Array, msgs: readonly Message[], budget = DEFAULT_DATAGRAM_BUDGET): void => {
    const r = decodeDatagram(d, budget);
    expect(r.rejected).toEqual([]);
    expect(r.messages).toEqual(msgs);
  };

  it(`arrays nested exactly MAX_DEPTH (${MAX_DEPTH}) deep are scanned; one level more is refused`, () => {
    const nested = (levels: number): Uint8Array => new Uint8Array([...new Array<number>(levels).fill(0x81), 0x01]);
    expect(scanItem(nested(MAX_DEPTH), 0)).toBe(MAX_DEPTH + 1);
    expect(() => scanItem(nested(MAX_DEPTH + 1), 0)).toThrow(new RegExp(`arrays nested deeper than ${MAX_DEPTH} at byte ${MAX_DEPTH}`));
    // In a datagram: an Ack whose trailing field (ignored, from a newer version) nests to the limit.
    const ack = samples['ack']!;
    const withTrailing = (levels: number): Uint8Array => datagramOf([...toArray(ack), levels === 0 ? 1 : JSON.parse('['.repeat(levels) + '1' + ']'.repeat(levels))]);
    decodesWhole(withTrailing(MAX_DEPTH - 1), [ack]);
    expect(reasons(withTrailing(MAX_DEPTH))).toEqual(['malformed-cbor']);
    expect(detail(withTrailing(MAX_DEPTH))).toMatch(/nested deeper/);
  });

  it('a text or byte string that ends exactly at the end of the datagram is read; one that claims a byte more is refused', () => {
    expect(scanItem(new Uint8Array([0x63, 0x61, 0x62, 0x63]), 0)).toBe(4);
    expect(() => scanItem(new Uint8Array([0x64, 0x61, 0x62, 0x63]), 0)).toThrow(/string of 4 bytes overruns the datagram at byte 0/);
    expect(scanItem(new Uint8Array([0x43, 1, 2, 3]), 0)).toBe(4);
    expect(() => scanItem(new Uint8Array([0x44, 1, 2, 3]), 0)).toThrow(/string of 4 bytes overruns/);

    // A WhoIs ends on its last id (text); a Passport ends on its signature (64 bytes).
    const whoIs: Message = { type: MsgType.WhoIs, from: a, ids: ['pi-b', 'pi-c'] };
    const passport: Message = { type: MsgType.Passport, id: 'pi-a', gen: 3, inc: 0, left: false, publicKey: new Uint8Array(32).fill(5), cert: null, sig: new Uint8Array(64).fill(9) };
    for (const [m, lastHead] of [[whoIs, 0x64], [passport, 0x58]] as const) {
      const d = encodeDatagram([m]);
      decodesWhole(d, [m]);
      const head = lastHead === 0x64 ? d.length - 5 : d.length - 66;
      expect(d[head]).toBe(lastHead);
      // Claim one byte more than is there.
      const longer = Uint8Array.from(d);
      if (lastHead === 0x64) longer[head] = 0x65;
      else longer[head + 1] = 65;
      expect(reasons(longer)).toEqual(['malformed-cbor']);
      expect(detail(longer)).toMatch(/overruns the datagram/);
      // Or cut the last byte off.
      expect(reasons(d.subarray(0, d.length - 1))).toEqual(['malformed-cbor']);
    }
  });

  it('an array whose count fits exactly the bytes left is scanned item by item; a count of one more is refused before reading', () => {
    expect(scanItem(new Uint8Array([0x83, 1, 2, 3]), 0)).toBe(4);
    expect(() => scanItem(new Uint8Array([0x84, 1, 2, 3]), 0)).toThrow(/array of 4 items overruns the datagram at byte 0/);
    // A multi-byte argument that ends exactly at the end, and one cut short.
    expect(scanItem(new Uint8Array([0x19, 0x01, 0x00]), 0)).toBe(3);
    expect(() => scanItem(new Uint8Array([0x19, 0x01]), 0)).toThrow(/truncated: 2-byte argument at byte 0/);
  });

  it('a datagram of exactly the budget is decoded, and encoded; one byte more is refused by both', () => {
    const sized = (n: number): Message[] => {
      for (let k = 0; k <= 1024; k++) {
        const msgs = [samples['deltaValues']!, samples['digest']!, delta([{ key: 'pad', version: 1, value: 'x'.repeat(k), ttlMs: 0 }])];
        const size = encodeDatagram(msgs, BIG).length;
        if (size === n) return msgs;
        if (size > n) break;
      }
      throw new Error(`no padding gives ${n} bytes`);
    };
    const exact = sized(DEFAULT_DATAGRAM_BUDGET);
    const d = encodeDatagram(exact);
    expect(d.length).toBe(DEFAULT_DATAGRAM_BUDGET);
    decodesWhole(d, exact);
    const over = sized(DEFAULT_DATAGRAM_BUDGET + 1);
    expect(() => encodeDatagram(over)).toThrow(/datagram of 1201 bytes exceeds the 1200-byte budget/);
    const d1 = encodeDatagram(over, BIG);
    expect(decodeDatagram(d1).rejected).toEqual([{ reason: 'oversize', detail: '1201 bytes exceeds the 1200-byte budget' }]);
    expect(decodeDatagram(d1).messages).toEqual([]);
    // The budget is a parameter: the same bytes pass a budget of exactly their length.
    decodesWhole(d1, over, d1.length);
    expect(decodeDatagram(d, d.length - 1).rejected.map((x) => x.reason)).toEqual(['oversize']);
  });

  it('two bytes are the shortest datagram worth decoding', () => {
    expect(reasons(new Uint8Array([1]))).toEqual(['empty']);
    expect(decodeDatagram(new Uint8Array([1, 0x01])).rejected.map((x) => x.reason)).toEqual(['invalid-field']);
  });

  it.each([
    ['key', MAX_KEY_LENGTH, (n: number) => delta([{ key: 'k'.repeat(n), version: 1, value: 1, ttlMs: 0 }]), /Delta.entries\[0\].key: expected at most 128 characters/],
    ['text value', MAX_VALUE_LENGTH, (n: number) => delta([{ key: 'k', version: 1, value: 'v'.repeat(n), ttlMs: 0 }]), /Delta.entries\[0\].value: expected at most 1024 characters/],
    ['bytes value', MAX_VALUE_LENGTH, (n: number) => delta([{ key: 'k', version: 1, value: new Uint8Array(n).fill(7), ttlMs: 0 }]), /Delta.entries\[0\].value: expected at most 1024 bytes, got 1025 bytes/],
    ['node id', MAX_ID_LENGTH, (n: number): Message => ({ type: MsgType.Leave, from: { id: 'i'.repeat(n), gen: 1 }, inc: 0 }), /Leave.from.id: expected at most 64 characters/],
    ['address', MAX_ADDR_LENGTH, (n: number): Message => ({ type: MsgType.PingReq, from: a, target: a, targetAddr: 'a'.repeat(n), probe: 1 }), /PingReq.targetAddr: expected at most 128 characters/],
    ['digest entries', MAX_ENTRIES, (n: number): Message => ({ type: MsgType.Digest, from: a, lo: 'a', hi: 'b', reply: false, entries: Array.from({ length: n }, () => ({ id: 'x', gen: 1, inc: 0, status: 'alive' as const, hb: 0, kvMax: 0, addr: 'x' })) }), /Digest.entries: expected an array of at most 256 items/],
    ['delta entries', MAX_ENTRIES, (n: number) => delta(Array.from({ length: n }, () => ({ key: 'k', version: 1, value: null, ttlMs: 0 }))), /Delta.entries: expected an array of at most 256 items/],
    ['WhoIs ids', MAX_WHOIS_IDS, (n: number): Message => ({ type: MsgType.WhoIs, from: a, ids: Array.from({ length: n }, (_, i) => `pi-${i}`) }), /WhoIs.ids: expected an array of at most 8 items/],
  ] as const)('%s: exactly %i is accepted, one more is an invalid field', (_what, limit, make, pattern) => {
    const at = make(limit);
    decodesWhole(encodeDatagram([at], BIG), [at], BIG);
    const past = encodeDatagram([make(limit + 1)], BIG);
    expect(decodeDatagram(past, BIG).rejected.map((x) => x.reason)).toEqual(['invalid-field']);
    expect(decodeDatagram(past, BIG).rejected[0]!.detail).toMatch(pattern);
  });

  it.each([
    ['signature', SIGNATURE_BYTES, (n: number) => [MsgType.Dead, ['pi-a', 3], ['pi-b', 1], 1, new Uint8Array(n)], /Dead.sig: expected 64 bytes/],
    ['public key', PUBLIC_KEY_BYTES, (n: number) => [MsgType.Passport, 'pi-a', 3, 0, false, new Uint8Array(n), null, new Uint8Array(64)], /Passport.publicKey: expected 32 bytes/],
  ] as const)('%s: exactly %i bytes is accepted, one fewer or one more is an invalid field', (_what, size, make, pattern) => {
    expect(reasons(datagramOf(make(size)))).toEqual([]);
    for (const n of [size - 1, size + 1]) {
      expect(reasons(datagramOf(make(n)))).toEqual(['invalid-field']);
      expect(detail(datagramOf(make(n)))).toMatch(pattern);
    }
  });

  it('a heartbeat view hash of 2^32 - 1 is accepted, 2^32 is not', () => {
    const hb = (view: number) => [MsgType.Heartbeat, ['pi-a', 3], 0, 1, 250, 0, view];
    expect(decodeDatagram(datagramOf(hb(0xffffffff))).messages).toMatchObject([{ view: 0xffffffff }]);
    expect(reasons(datagramOf(hb(2 ** 32)))).toEqual(['invalid-field']);
  });

  it('a delta entry at toV is accepted, one at fromV is not; toV equal to fromV is an empty range', () => {
    const d = (fromV: number, toV: number, version: number) => [MsgType.Delta, ['pi-a', 3], ['pi-a', 3], fromV, toV, false, version < 0 ? [] : [['k', version, 1, 0]]];
    expect(reasons(datagramOf(d(5, 6, 6)))).toEqual([]);
    expect(reasons(datagramOf(d(5, 6, 5)))).toEqual(['invalid-field']);
    expect(reasons(datagramOf(d(5, 6, 7)))).toEqual(['invalid-field']);
    expect(reasons(datagramOf(d(5, 5, -1)))).toEqual([]);
    expect(reasons(datagramOf(d(5, 4, -1)))).toEqual(['invalid-field']);
  });

  it(`exactly MAX_MESSAGES (${MAX_MESSAGES}) messages are all decoded; one more is refused as too many`, () => {
    const ack = samples['ack']!;
    const of = (n: number): Uint8Array => encodeDatagram(new Array<Message>(n).fill(ack), BIG);
    decodesWhole(of(MAX_MESSAGES), new Array<Message>(MAX_MESSAGES).fill(ack), BIG);
    const r = decodeDatagram(of(MAX_MESSAGES + 1), BIG);
    expect(r.messages).toHaveLength(MAX_MESSAGES);
    expect(r.rejected.map((x) => x.reason)).toEqual(['too-many-messages']);
  });
});
