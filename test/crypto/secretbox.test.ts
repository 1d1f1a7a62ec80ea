// The one-pass opener gives exactly tweetnacl's answer: the same plaintext for every genuine
// box, and null for every box altered anywhere, opened under another key or another nonce.
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { secretboxOpen } from '../../runtime/crypto/secretbox.js';

describe('secretboxOpen', () => {
  const key = nacl.randomBytes(32);

  it('opens what nacl.secretbox seals, at every length across the keystream block boundaries', () => {
    for (const len of [0, 1, 16, 31, 32, 33, 63, 64, 65, 95, 96, 97, 200, 1200]) {
      const msg = nacl.randomBytes(len);
      const nonce = nacl.randomBytes(24);
      const box = nacl.secretbox(msg, nonce, key);
      const opened = secretboxOpen(box, nonce, key);
      expect(opened, `length ${len}`).not.toBeNull();
      expect(Buffer.from(opened!).equals(Buffer.from(msg)), `length ${len}`).toBe(true);
    }
  });

  it('refuses any flipped bit, a truncated box, another key and another nonce, as tweetnacl does', () => {
    const msg = nacl.randomBytes(90);
    const nonce = nacl.randomBytes(24);
    const box = nacl.secretbox(msg, nonce, key);
    for (let i = 0; i < box.length; i++) {
      const bad = Uint8Array.from(box);
      bad[i]! ^= 1 << (i % 8);
      expect(secretboxOpen(bad, nonce, key), `byte ${i}`).toBeNull();
      expect(nacl.secretbox.open(bad, nonce, key)).toBeNull();
    }
    for (let i = 0; i < 24; i++) {
      const n = Uint8Array.from(nonce);
      n[i]! ^= 0x80;
      expect(secretboxOpen(box, n, key), `nonce byte ${i}`).toBeNull();
    }
    expect(secretboxOpen(box, nonce, nacl.randomBytes(32))).toBeNull();
    expect(secretboxOpen(box.subarray(0, box.length - 1), nonce, key)).toBeNull();
    expect(secretboxOpen(box.subarray(0, 15), nonce, key)).toBeNull();
  });

  it('opens a box that sits inside a larger buffer (a datagram) without touching it', () => {
    const msg = nacl.randomBytes(40);
    const nonce = nacl.randomBytes(24);
    const box = nacl.secretbox(msg, nonce, key);
    const frame = new Uint8Array(7 + box.length + 5);
    frame.set(box, 7);
    const before = Uint8Array.from(frame);
    const opened = secretboxOpen(frame.subarray(7, 7 + box.length), nonce, key);
    expect(Buffer.from(opened!).equals(Buffer.from(msg))).toBe(true);
    expect(Buffer.from(frame).equals(Buffer.from(before))).toBe(true);
  });
});
