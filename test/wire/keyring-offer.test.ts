import { describe, expect, it } from 'vitest';
import { Encoder } from 'cbor-x';
import { MsgType, type Passport } from '../../runtime/core/messages.js';
import { toArray } from '../../runtime/wire/encode.js';
import { CONTROL_FRAME, WIRE_VERSION } from '../../runtime/wire/frames.js';
import { decodeKeyringOffer, encodeKeyringOffer, encodeOfferedKeys, MAX_OFFER_RECORDS, type OfferedKey } from '../../runtime/wire/keyring-offer.js';

const passport: Passport = { type: MsgType.Passport, id: 'pi-hall', gen: 7, inc: 2, left: false, publicKey: new Uint8Array(32).fill(5), cert: null, sig: new Uint8Array(64).fill(9) };
const key = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const records: OfferedKey[] = [
  { id: 0x0a0b0c0d, key: key(1), installed: 1, used: 2, removed: 0, compromised: false },
  { id: 0xffffffff, key: undefined, installed: 3, used: 0, removed: 4, compromised: true },
];
const sig = new Uint8Array(64).fill(3);
const raw = new Encoder({ useRecords: false, tagUint8Array: false });
/** A control frame around any CBOR value, to build malformed offers. */
const frame = (v: unknown): Uint8Array => Uint8Array.from([CONTROL_FRAME, ...raw.encode(v)]);

describe('keyring offer codec', () => {
  it('round-trips records, passport and signature, and keeps the signed bytes exactly as sent', () => {
    const signed = encodeOfferedKeys(records);
    const bytes = encodeKeyringOffer(signed, passport, sig);
    expect(bytes[0]).toBe(CONTROL_FRAME);
    const o = decodeKeyringOffer(bytes)!;
    expect([...o.signed]).toEqual([...signed]);
    expect(o.signature).toEqual(sig);
    expect(o.passport).toEqual(passport);
    expect(o.records).toEqual(records);
  });

  it('a control frame never starts like a protocol datagram', () => {
    expect(CONTROL_FRAME).not.toBe(WIRE_VERSION);
    const bytes = encodeKeyringOffer(encodeOfferedKeys(records), passport, sig);
    bytes[0] = WIRE_VERSION;
    expect(decodeKeyringOffer(bytes)).toBeUndefined();
  });

  it('holds at most MAX_OFFER_RECORDS keys: the encoder refuses more, the decoder rejects more', () => {
    const many = Array.from({ length: MAX_OFFER_RECORDS + 1 }, (_, i) => ({ ...records[0]!, id: i }));
    expect(() => encodeOfferedKeys(many)).toThrow(/9 keys, at most 8/);
    expect(decodeKeyringOffer(encodeKeyringOffer(encodeOfferedKeys(many.slice(0, MAX_OFFER_RECORDS)), passport, sig))!.records).toHaveLength(MAX_OFFER_RECORDS);
    const tooMany = Uint8Array.from(raw.encode(many.map((r) => [r.id, r.key, r.installed, r.used, r.removed, r.compromised])));
    expect(decodeKeyringOffer(encodeKeyringOffer(tooMany, passport, sig))).toBeUndefined();
  });

  it('rejects, without throwing, every malformed shape', () => {
    const rec = (r: unknown[]): Uint8Array => encodeKeyringOffer(Uint8Array.from(raw.encode([r])), passport, sig);
    const bad: [string, Uint8Array][] = [
      ['empty', new Uint8Array()],
      ['only the frame byte', Uint8Array.of(CONTROL_FRAME)],
      ['another kind of control frame', frame([2, encodeOfferedKeys(records), toArray(passport), sig])],
      ['records not bytes', frame([1, [], toArray(passport), sig])],
      ['signature not bytes', frame([1, encodeOfferedKeys(records), toArray(passport), 'sig'])],
      ['a message other than a passport', frame([1, encodeOfferedKeys(records), [MsgType.Ack, ['a', 1], 1, 0], sig])],
      ['records bytes that are not CBOR', encodeKeyringOffer(Uint8Array.of(0x9f, 0x9f), passport, sig)],
      ['a record with too few fields', rec([1, key(1), 1, 2, 0])],
      ['an id above 32 bits', rec([2 ** 32, key(1), 1, 2, 0, false])],
      ['a negative time', rec([1, key(1), -1, 2, 0, false])],
      ['a key of 31 bytes', rec([1, new Uint8Array(31), 1, 2, 0, false])],
      ['compromised not a boolean', rec([1, key(1), 1, 2, 0, 1])],
    ];
    for (const [what, bytes] of bad) expect(decodeKeyringOffer(bytes), what).toBeUndefined();
    const good = encodeKeyringOffer(encodeOfferedKeys(records), passport, sig);
    for (let cut = 0; cut < good.length; cut++) expect(() => decodeKeyringOffer(good.subarray(0, cut))).not.toThrow();
    for (let cut = 1; cut < good.length; cut++) expect(decodeKeyringOffer(good.subarray(0, cut)), `cut at ${cut}`).toBeUndefined();
  });
});
