// The one-pass seal writes exactly what nacl.secretbox returns, at every length across the
// keystream block boundaries, into a larger frame without touching the rest of it.
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { secretboxOpen, secretboxSealInto } from '../../runtime/crypto/secretbox.js';

describe('secretboxSealInto', () => {
  it('writes nacl.secretbox of the plaintext at the offset, for every length from 0 to 300 bytes', () => {
    for (let n = 0; n <= 300; n++) {
      const key = nacl.randomBytes(32);
      const nonce = nacl.randomBytes(24);
      const msg = nacl.randomBytes(n);
      const frame = nacl.randomBytes(5 + 16 + n + 3);
      const before = Uint8Array.from(frame);
      secretboxSealInto(msg, nonce, key, frame, 5);
      const want = nacl.secretbox(msg, nonce, key);
      expect(Buffer.from(frame.subarray(5, 5 + want.length)).equals(Buffer.from(want)), `length ${n}`).toBe(true);
      expect(Buffer.from(frame.subarray(0, 5)).equals(Buffer.from(before.subarray(0, 5))), `length ${n}: bytes before`).toBe(true);
      expect(Buffer.from(frame.subarray(5 + want.length)).equals(Buffer.from(before.subarray(5 + want.length))), `length ${n}: bytes after`).toBe(true);
      expect(Buffer.from(secretboxOpen(frame.subarray(5, 5 + want.length), nonce, key)!).equals(Buffer.from(msg))).toBe(true);
    }
  });

  it('refuses a frame without room for the box', () => {
    expect(() => secretboxSealInto(new Uint8Array(10), nacl.randomBytes(24), nacl.randomBytes(32), new Uint8Array(30), 5)).toThrow(/room/);
  });
});
