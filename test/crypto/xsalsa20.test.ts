// murmur's XSalsa20 gives tweetnacl's keystream byte for byte: at every length across the
// 64-byte block boundaries, in place and between arrays, at offsets inside larger arrays.
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { xsalsa20Xor } from '../../runtime/crypto/xsalsa20.js';

interface LowLevel {
  crypto_stream_xor(c: Uint8Array, cpos: number, m: Uint8Array, mpos: number, d: number, n: Uint8Array, k: Uint8Array): number;
}
const low = (nacl as unknown as { lowlevel: LowLevel }).lowlevel;

describe('xsalsa20Xor', () => {
  it('matches tweetnacl for every length from 0 to 300 bytes, under fresh keys and nonces', () => {
    for (let n = 0; n <= 300; n++) {
      const key = nacl.randomBytes(32);
      const nonce = nacl.randomBytes(24);
      const msg = nacl.randomBytes(n);
      const want = new Uint8Array(n);
      low.crypto_stream_xor(want, 0, msg, 0, n, nonce, key);
      const got = new Uint8Array(n);
      xsalsa20Xor(got, 0, msg, 0, n, nonce, key);
      expect(Buffer.from(got).equals(Buffer.from(want)), `length ${n}`).toBe(true);
    }
  });

  it('works in place and at offsets, touching nothing outside the range', () => {
    const key = nacl.randomBytes(32);
    const nonce = nacl.randomBytes(24);
    for (const n of [1, 63, 64, 65, 200, 1400]) {
      const msg = nacl.randomBytes(n);
      const want = new Uint8Array(n);
      low.crypto_stream_xor(want, 0, msg, 0, n, nonce, key);
      const buf = nacl.randomBytes(n + 13);
      buf.set(msg, 7);
      const before = Uint8Array.from(buf);
      xsalsa20Xor(buf, 7, buf, 7, n, nonce, key);
      expect(Buffer.from(buf.subarray(7, 7 + n)).equals(Buffer.from(want)), `length ${n}`).toBe(true);
      expect(Buffer.from(buf.subarray(0, 7)).equals(Buffer.from(before.subarray(0, 7)))).toBe(true);
      expect(Buffer.from(buf.subarray(7 + n)).equals(Buffer.from(before.subarray(7 + n)))).toBe(true);
    }
  });

  it('reads key and nonce from views inside larger arrays', () => {
    const frame = nacl.randomBytes(100);
    const key = frame.subarray(3, 35);
    const nonce = frame.subarray(40, 64);
    const msg = nacl.randomBytes(150);
    const want = new Uint8Array(150);
    low.crypto_stream_xor(want, 0, msg, 0, 150, Uint8Array.from(nonce), Uint8Array.from(key));
    const got = new Uint8Array(150);
    xsalsa20Xor(got, 0, msg, 0, 150, nonce, key);
    expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
  });
});
