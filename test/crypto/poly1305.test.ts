// murmur's Poly1305 gives tweetnacl's tags byte for byte: at every length across the 16-byte
// block boundaries, with keys and messages that push every limb to its largest value, and on
// the RFC 8439 example; the verify accepts exactly the right tag.
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { poly1305, poly1305Verify } from '../../runtime/crypto/poly1305.js';

interface LowLevel {
  crypto_onetimeauth(out: Uint8Array, outpos: number, m: Uint8Array, mpos: number, n: number, k: Uint8Array): number;
}
const low = (nacl as unknown as { lowlevel: LowLevel }).lowlevel;

function tweetnaclTag(m: Uint8Array, key: Uint8Array): Buffer {
  const out = new Uint8Array(16);
  low.crypto_onetimeauth(out, 0, m, 0, m.length, key);
  return Buffer.from(out);
}

function ourTag(m: Uint8Array, key: Uint8Array): Buffer {
  const out = new Uint8Array(16);
  poly1305(out, 0, m, 0, m.length, key);
  return Buffer.from(out);
}

describe('poly1305', () => {
  it('matches tweetnacl for every length from 0 to 300 bytes, under fresh keys', () => {
    for (let n = 0; n <= 300; n++) {
      const key = nacl.randomBytes(32);
      const m = nacl.randomBytes(n);
      expect(ourTag(m, key).equals(tweetnaclTag(m, key)), `length ${n}`).toBe(true);
    }
  });

  it('matches tweetnacl where every limb and carry is largest: all-ones keys and messages', () => {
    const ones = new Uint8Array(32).fill(0xff);
    const sOnes = Uint8Array.from([...nacl.randomBytes(16), ...new Uint8Array(16).fill(0xff)]);
    for (const key of [ones, sOnes]) {
      for (let n = 0; n <= 130; n++) {
        const m = new Uint8Array(n).fill(0xff);
        expect(ourTag(m, key).equals(tweetnaclTag(m, key)), `length ${n}`).toBe(true);
      }
    }
    // All-ones r with one byte of the message varied.
    for (let i = 0; i < 2000; i++) {
      const key = nacl.randomBytes(32);
      key.fill(0xff, 0, 16);
      const m = new Uint8Array(16 + (i % 33)).fill(0xff);
      m[i % m.length] = i & 0xff;
      expect(ourTag(m, key).equals(tweetnaclTag(m, key)), `case ${i}`).toBe(true);
    }
  });

  it('reduces a sum at and just above 2^130 - 5, and carries out of the top limb', () => {
    // r = 1 and s = 0, so the tag is the blocks' sum mod 2^130 - 5, its low 128 bits. Two
    // blocks, (2^128 - 1) + 2^128 and (2^128 - 1 - 3 + d) + 2^128, sum to 2^130 - 5 + d.
    const key = new Uint8Array(32);
    key[0] = 1;
    const want = ['faffffffffffffffffffffffffffffff', '00000000000000000000000000000000', '01000000000000000000000000000000', '02000000000000000000000000000000', '03000000000000000000000000000000'];
    for (const d of [-1, 0, 1, 2, 3]) {
      const m = new Uint8Array(32).fill(0xff);
      m[16] = 0xfc + d;
      expect(ourTag(m, key).toString('hex'), `d = ${d}`).toBe(want[d + 1]);
      expect(ourTag(m, key).equals(tweetnaclTag(m, key)), `d = ${d}`).toBe(true);
    }
    // r = 4: (2^129 - 1) * 4 overflows the top limb into the fold by 5 at the end.
    const key4 = new Uint8Array(32);
    key4[0] = 4;
    const ones = new Uint8Array(16).fill(0xff);
    expect(ourTag(ones, key4).toString('hex')).toBe('06000000000000000000000000000000');
    expect(ourTag(ones, key4).equals(tweetnaclTag(ones, key4))).toBe(true);
  });

  it('gives the RFC 8439 example tag', () => {
    const key = Buffer.from('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b', 'hex');
    const m = new TextEncoder().encode('Cryptographic Forum Research Group');
    expect(ourTag(m, key).toString('hex')).toBe('a8061dc1305136c6c22b8baf0c0127a9');
  });

  it('reads the message at an offset and writes the tag at an offset, touching nothing else', () => {
    const key = nacl.randomBytes(32);
    const m = nacl.randomBytes(77);
    const frame = nacl.randomBytes(100);
    frame.set(m, 11);
    const out = nacl.randomBytes(40);
    const before = Uint8Array.from(out);
    poly1305(out, 9, frame, 11, 77, key);
    expect(Buffer.from(out.subarray(9, 25)).equals(tweetnaclTag(m, key))).toBe(true);
    expect(Buffer.from(out.subarray(0, 9)).equals(Buffer.from(before.subarray(0, 9)))).toBe(true);
    expect(Buffer.from(out.subarray(25)).equals(Buffer.from(before.subarray(25)))).toBe(true);
  });
});

describe('poly1305Verify', () => {
  it('accepts the right tag and refuses any one flipped bit of tag or message', () => {
    const key = nacl.randomBytes(32);
    const m = nacl.randomBytes(50);
    const tag = tweetnaclTag(m, key);
    expect(poly1305Verify(tag, 0, m, 0, m.length, key)).toBe(true);
    for (let bit = 0; bit < 128; bit++) {
      const bad = Uint8Array.from(tag);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(poly1305Verify(bad, 0, m, 0, m.length, key), `tag bit ${bit}`).toBe(false);
    }
    for (let bit = 0; bit < m.length * 8; bit += 7) {
      const bad = Uint8Array.from(m);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(poly1305Verify(tag, 0, bad, 0, bad.length, key), `message bit ${bit}`).toBe(false);
    }
  });

  it('reads the tag at an offset', () => {
    const key = nacl.randomBytes(32);
    const m = nacl.randomBytes(20);
    const box = new Uint8Array(5 + 16);
    box.set(tweetnaclTag(m, key), 5);
    expect(poly1305Verify(box, 5, m, 0, m.length, key)).toBe(true);
    expect(poly1305Verify(box, 4, m, 0, m.length, key)).toBe(false);
  });
});
