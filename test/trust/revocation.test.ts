import { Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../runtime/sim/prng.js';
import { generateSigningKey } from '../../runtime/trust/ed25519.js';
import {
  MAX_ENCODED_BYTES,
  decodeRevocation,
  encodeRevocation,
  parseRevocation,
  revocationToJson,
  signRevocation,
  verifyRevocation,
  type Revocation,
} from '../../runtime/trust/revocation.js';

const admin = generateSigningKey();
const device = generateSigningKey();
const AT = Date.UTC(2026, 2, 1, 12, 0, 0, 123);

function flip(b: Uint8Array, i: number): Uint8Array {
  const c = Uint8Array.from(b);
  c[i]! ^= 0x01;
  return c;
}

describe('revocation', () => {
  it('is signed by the admin over the key, the time and the reason', () => {
    const r = signRevocation(device.publicKey, 'stolen', admin.secretKey, AT);
    expect(r).toMatchObject({ at: AT, reason: 'stolen' });
    expect(verifyRevocation(r, admin.publicKey)).toBe(true);
    expect(verifyRevocation(r, device.publicKey)).toBe(false);
    expect(verifyRevocation({ ...r, at: AT + 1 }, admin.publicKey)).toBe(false);
    expect(verifyRevocation({ ...r, reason: 'lost' }, admin.publicKey)).toBe(false);
    expect(verifyRevocation({ ...r, publicKey: flip(r.publicKey, 5) }, admin.publicKey)).toBe(false);
    expect(verifyRevocation({ ...r, signature: flip(r.signature, 40) }, admin.publicKey)).toBe(false);
  });

  it('defaults its time to now', () => {
    const before = Date.now();
    const r = signRevocation(device.publicKey, '', admin.secretKey);
    expect(r.at).toBeGreaterThanOrEqual(before);
    expect(r.at).toBeLessThanOrEqual(Date.now());
  });

  it('limits the reason to 64 bytes of UTF-8 so every revocation fits the decode cap', () => {
    expect(() => signRevocation(device.publicKey, 'x'.repeat(64), admin.secretKey, AT)).not.toThrow();
    expect(() => signRevocation(device.publicKey, 'x'.repeat(65), admin.secretKey, AT)).toThrow(/reason: expected at most 64 bytes of UTF-8, got 65/);
    expect(() => signRevocation(device.publicKey, '\u00fc'.repeat(33), admin.secretKey, AT)).toThrow(/got 66 bytes/);
    const longest = signRevocation(device.publicKey, '\u00fc'.repeat(32), admin.secretKey, Number.MAX_SAFE_INTEGER);
    expect(encodeRevocation(longest).length).toBeLessThanOrEqual(MAX_ENCODED_BYTES);
  });

  it('verify never throws on malformed values', () => {
    const r = signRevocation(device.publicKey, 'x', admin.secretKey, AT);
    expect(verifyRevocation({ ...r, at: -1 }, admin.publicKey)).toBe(false);
    expect(verifyRevocation({ ...r, at: 1.5 }, admin.publicKey)).toBe(false);
    expect(verifyRevocation({ ...r, publicKey: new Uint8Array(0) }, admin.publicKey)).toBe(false);
    expect(verifyRevocation(undefined as unknown as Revocation, admin.publicKey)).toBe(false);
  });
});

describe('revocation gossip form', () => {
  it('round-trips through CBOR and still verifies', () => {
    const r = signRevocation(device.publicKey, 'decommissioned', admin.secretKey, AT);
    const bytes = encodeRevocation(r);
    expect(bytes[0]).toBe(0x84); // a CBOR array of four
    const back = decodeRevocation(bytes)!;
    expect(back).toEqual(r);
    expect(verifyRevocation(back, admin.publicKey)).toBe(true);
  });

  it('decoded fields do not alias the input buffer', () => {
    const bytes = encodeRevocation(signRevocation(device.publicKey, 'x', admin.secretKey, AT));
    const back = decodeRevocation(bytes)!;
    bytes.fill(0);
    expect(verifyRevocation(back, admin.publicKey)).toBe(true);
  });

  it('one flipped byte anywhere yields either undefined or a revocation that does not verify', () => {
    const bytes = encodeRevocation(signRevocation(device.publicKey, 'stolen', admin.secretKey, AT));
    for (let i = 0; i < bytes.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const b = Uint8Array.from(bytes);
        b[i]! ^= bit;
        const r = decodeRevocation(b);
        if (r) expect(verifyRevocation(r, admin.publicKey)).toBe(false);
      }
    }
  });

  it('rejects wrong shapes, lengths and types', () => {
    const r = signRevocation(device.publicKey, 'x', admin.secretKey, AT);
    const enc = new Encoder({ useRecords: false, tagUint8Array: false });
    const bad: unknown[] = [
      [r.publicKey, r.at, r.reason],
      [r.publicKey, r.at, r.reason, r.signature, 1],
      [r.publicKey.subarray(1), r.at, r.reason, r.signature],
      [r.publicKey, r.at, r.reason, r.signature.subarray(1)],
      [r.publicKey, -5, r.reason, r.signature],
      [r.publicKey, 1.5, r.reason, r.signature],
      [r.publicKey, String(r.at), r.reason, r.signature],
      [r.publicKey, r.at, 7, r.signature],
      [r.publicKey, r.at, 'y'.repeat(65), r.signature],
      ['pk', r.at, r.reason, r.signature],
      { publicKey: r.publicKey },
    ];
    for (const v of bad) expect(decodeRevocation(Uint8Array.from(enc.encode(v)))).toBeUndefined();
    expect(decodeRevocation(new Uint8Array(0))).toBeUndefined();
    expect(decodeRevocation(new Uint8Array(MAX_ENCODED_BYTES + 1))).toBeUndefined();
    const good = encodeRevocation(r);
    // Trailing bytes after a valid item are not a revocation.
    expect(decodeRevocation(Uint8Array.from([...good, 0]))).toBeUndefined();
    // A tagged byte string (cbor-x would make it a typed array) never reaches the decoder.
    expect(decodeRevocation(Uint8Array.from([0xd8, 0x40, ...good]))).toBeUndefined();
  });

  it('never throws on 5000 random, truncated or mutated inputs', () => {
    const rng = new Prng(20260301);
    const good = encodeRevocation(signRevocation(device.publicKey, 'fuzz', admin.secretKey, AT));
    let accepted = 0;
    for (let n = 0; n < 5000; n++) {
      let input: Uint8Array;
      switch (n % 4) {
        case 0: // random bytes, sometimes longer than the cap
          input = Uint8Array.from({ length: rng.int(300) }, () => rng.int(256));
          break;
        case 1: // a truncated valid encoding
          input = good.subarray(0, rng.int(good.length));
          break;
        case 2: {
          // a valid encoding with a few random bytes changed
          input = Uint8Array.from(good);
          for (let k = 1 + rng.int(4); k > 0; k--) input[rng.int(input.length)] = rng.int(256);
          break;
        }
        default: // random bytes behind a plausible header
          input = Uint8Array.from([0x84, 0x58, 0x20, ...Array.from({ length: rng.int(200) }, () => rng.int(256))]);
      }
      let r: Revocation | undefined;
      expect(() => (r = decodeRevocation(input))).not.toThrow();
      if (r) {
        accepted++;
        expect(r.publicKey.length).toBe(32);
        expect(r.signature.length).toBe(64);
        expect(Number.isSafeInteger(r.at) && r.at >= 0).toBe(true);
        expect(typeof r.reason).toBe('string');
        // Only the untouched encoding carries a valid signature.
        if (verifyRevocation(r, admin.publicKey)) expect(Buffer.compare(input, good)).toBe(0);
      }
    }
    // Mutations confined to the key, reason or signature bytes still decode: the checks above ran.
    expect(accepted).toBeGreaterThan(100);
  });
});

describe('revocation file form', () => {
  it('round-trips through JSON', () => {
    const r = signRevocation(device.publicKey, 'lost on site', admin.secretKey, AT);
    const text = revocationToJson(r);
    expect(JSON.parse(text)).toMatchObject({ type: 'murmur-revocation', at: AT, reason: 'lost on site' });
    const back = parseRevocation(text, 'revoke.json');
    expect(back).toEqual(r);
    expect(verifyRevocation(back, admin.publicKey)).toBe(true);
  });

  it('a damaged file form is an error naming the source and the field', () => {
    const good = JSON.parse(revocationToJson(signRevocation(device.publicKey, 'x', admin.secretKey, AT))) as Record<string, unknown>;
    const text = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });
    expect(() => parseRevocation(text({ publicKey: Buffer.alloc(12).toString('base64') }), 'r.json')).toThrow('r.json: publicKey: expected 32 bytes of base64, got 12');
    expect(() => parseRevocation(text({ at: 'yesterday' }), 'r.json')).toThrow('r.json: at: expected unix milliseconds (a non-negative integer), got "yesterday"');
    expect(() => parseRevocation(text({ reason: 'z'.repeat(65) }), 'r.json')).toThrow(/r\.json: reason: expected at most 64 bytes of UTF-8/);
    expect(() => parseRevocation(text({ signature: 'AAAA' }), 'r.json')).toThrow('r.json: signature: expected 64 bytes of base64, got 3');
    expect(() => parseRevocation(text({ type: 'murmur-certificate' }), 'r.json')).toThrow('r.json: type: expected "murmur-revocation", got "murmur-certificate"');
  });
});
