// Poly1305 (Bernstein), the one-time authenticator of NaCl's secretbox: the tag is
// ((m1 * r^k + m2 * r^(k-1) + ... + mk * r) mod 2^130 - 5) + s mod 2^128, where each mi is a
// 16-byte block read as a little-endian number with a 1 appended above its last byte, r is the
// first half of the one-time key with some bits cleared, and s its second half.
//
// The 130-bit accumulator and r are held as ten 13-bit limbs in local variables, so a limb
// product (a message-laden accumulator limb times 5 * r) stays below 2^30 and five of them
// summed below 2^32: each column of the product is summed in two halves with a carry between,
// exact in a double. Limbs above the tenth fold back multiplied by 5, since 2^130 = 5
// (mod 2^130 - 5).
//
// tweetnacl computes the same (a port of poly1305-donna-16) through an object with four typed
// arrays, and its verify allocates two more; every datagram a device receives is checked, so
// here nothing is allocated. The tags are checked against tweetnacl's for every message length
// across the block boundaries (test/crypto/poly1305.test.ts).

const MASK = 0x1fff;

/** The last, partial block, padded: scratch overwritten by every call. */
const lastBlock = new Uint8Array(16);
/** A computed tag for `poly1305Verify`: scratch overwritten by every call. */
const computed = new Uint8Array(16);

function u16(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8);
}

/**
 * Write the 16-byte Poly1305 tag of `m[mPos .. mPos + n)` under the one-time key in `key`'s
 * first 32 bytes into `out` from `outPos`. `out` may be the array `m` is in, outside the message.
 */
export function poly1305(out: Uint8Array, outPos: number, m: Uint8Array, mPos: number, n: number, key: Uint8Array): void {
  // r, clamped as the algorithm requires (the masks clear r's top 4 bits of each 32-bit word
  // and the low 2 bits of words 1-3), in 13-bit limbs; sK = 5 * rK for the folded columns.
  const k0 = u16(key, 0), k1 = u16(key, 2), k2 = u16(key, 4), k3 = u16(key, 6);
  const k4 = u16(key, 8), k5 = u16(key, 10), k6 = u16(key, 12), k7 = u16(key, 14);
  const r0 = k0 & 0x1fff;
  const r1 = ((k0 >>> 13) | (k1 << 3)) & 0x1fff;
  const r2 = ((k1 >>> 10) | (k2 << 6)) & 0x1f03;
  const r3 = ((k2 >>> 7) | (k3 << 9)) & 0x1fff;
  const r4 = ((k3 >>> 4) | (k4 << 12)) & 0x00ff;
  const r5 = (k4 >>> 1) & 0x1ffe;
  const r6 = ((k4 >>> 14) | (k5 << 2)) & 0x1fff;
  const r7 = ((k5 >>> 11) | (k6 << 5)) & 0x1f81;
  const r8 = ((k6 >>> 8) | (k7 << 8)) & 0x1fff;
  const r9 = (k7 >>> 5) & 0x007f;
  const s1 = 5 * r1, s2 = 5 * r2, s3 = 5 * r3, s4 = 5 * r4, s5 = 5 * r5;
  const s6 = 5 * r6, s7 = 5 * r7, s8 = 5 * r8, s9 = 5 * r9;

  let h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0, h8 = 0, h9 = 0;
  let d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, c;
  const whole = n >>> 4;
  const blocks = whole + ((n & 15) === 0 ? 0 : 1);
  for (let b = 0; b < blocks; b++) {
    let src = m;
    let p = mPos + (b << 4);
    // A whole block has its appended 1 at bit 128, bit 11 of the top limb; a partial one has it
    // right after its last byte, in the padding.
    let top = 1 << 11;
    if (b === whole) {
      const rest = n & 15;
      lastBlock.fill(0);
      for (let i = 0; i < rest; i++) lastBlock[i] = m[p + i]!;
      lastBlock[rest] = 1;
      src = lastBlock;
      p = 0;
      top = 0;
    }
    const t0 = u16(src, p), t1 = u16(src, p + 2), t2 = u16(src, p + 4), t3 = u16(src, p + 6);
    const t4 = u16(src, p + 8), t5 = u16(src, p + 10), t6 = u16(src, p + 12), t7 = u16(src, p + 14);
    h0 += t0 & MASK;
    h1 += ((t0 >>> 13) | (t1 << 3)) & MASK;
    h2 += ((t1 >>> 10) | (t2 << 6)) & MASK;
    h3 += ((t2 >>> 7) | (t3 << 9)) & MASK;
    h4 += ((t3 >>> 4) | (t4 << 12)) & MASK;
    h5 += (t4 >>> 1) & MASK;
    h6 += ((t4 >>> 14) | (t5 << 2)) & MASK;
    h7 += ((t5 >>> 11) | (t6 << 5)) & MASK;
    h8 += ((t6 >>> 8) | (t7 << 8)) & MASK;
    h9 += (t7 >>> 5) | top;

    // h * r, column by column, each in two halves of five products with a carry between.
    d0 = h0 * r0 + h1 * s9 + h2 * s8 + h3 * s7 + h4 * s6;
    c = d0 >>> 13; d0 &= MASK;
    d0 += h5 * s5 + h6 * s4 + h7 * s3 + h8 * s2 + h9 * s1;
    c += d0 >>> 13; d0 &= MASK;

    d1 = c + h0 * r1 + h1 * r0 + h2 * s9 + h3 * s8 + h4 * s7;
    c = d1 >>> 13; d1 &= MASK;
    d1 += h5 * s6 + h6 * s5 + h7 * s4 + h8 * s3 + h9 * s2;
    c += d1 >>> 13; d1 &= MASK;

    d2 = c + h0 * r2 + h1 * r1 + h2 * r0 + h3 * s9 + h4 * s8;
    c = d2 >>> 13; d2 &= MASK;
    d2 += h5 * s7 + h6 * s6 + h7 * s5 + h8 * s4 + h9 * s3;
    c += d2 >>> 13; d2 &= MASK;

    d3 = c + h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s9;
    c = d3 >>> 13; d3 &= MASK;
    d3 += h5 * s8 + h6 * s7 + h7 * s6 + h8 * s5 + h9 * s4;
    c += d3 >>> 13; d3 &= MASK;

    d4 = c + h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
    c = d4 >>> 13; d4 &= MASK;
    d4 += h5 * s9 + h6 * s8 + h7 * s7 + h8 * s6 + h9 * s5;
    c += d4 >>> 13; d4 &= MASK;

    d5 = c + h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1;
    c = d5 >>> 13; d5 &= MASK;
    d5 += h5 * r0 + h6 * s9 + h7 * s8 + h8 * s7 + h9 * s6;
    c += d5 >>> 13; d5 &= MASK;

    d6 = c + h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2;
    c = d6 >>> 13; d6 &= MASK;
    d6 += h5 * r1 + h6 * r0 + h7 * s9 + h8 * s8 + h9 * s7;
    c += d6 >>> 13; d6 &= MASK;

    d7 = c + h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3;
    c = d7 >>> 13; d7 &= MASK;
    d7 += h5 * r2 + h6 * r1 + h7 * r0 + h8 * s9 + h9 * s8;
    c += d7 >>> 13; d7 &= MASK;

    d8 = c + h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4;
    c = d8 >>> 13; d8 &= MASK;
    d8 += h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * s9;
    c += d8 >>> 13; d8 &= MASK;

    d9 = c + h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5;
    c = d9 >>> 13; d9 &= MASK;
    d9 += h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
    c += d9 >>> 13; d9 &= MASK;

    // The carry out of the top limb is worth 2^130, that is 5.
    c = (((c << 2) + c) | 0) + d0;
    h0 = c & MASK;
    h1 = d1 + (c >>> 13);
    h2 = d2; h3 = d3; h4 = d4; h5 = d5; h6 = d6; h7 = d7; h8 = d8; h9 = d9;
  }

  // Carry fully, then reduce: h - (2^130 - 5) replaces h when it does not go below zero, chosen
  // with a mask rather than a branch so the time does not depend on h.
  c = h1 >>> 13; h1 &= MASK;
  h2 += c; c = h2 >>> 13; h2 &= MASK;
  h3 += c; c = h3 >>> 13; h3 &= MASK;
  h4 += c; c = h4 >>> 13; h4 &= MASK;
  h5 += c; c = h5 >>> 13; h5 &= MASK;
  h6 += c; c = h6 >>> 13; h6 &= MASK;
  h7 += c; c = h7 >>> 13; h7 &= MASK;
  h8 += c; c = h8 >>> 13; h8 &= MASK;
  h9 += c; c = h9 >>> 13; h9 &= MASK;
  h0 += c * 5; c = h0 >>> 13; h0 &= MASK;
  h1 += c; c = h1 >>> 13; h1 &= MASK;
  h2 += c;

  let g0 = h0 + 5; c = g0 >>> 13; g0 &= MASK;
  let g1 = h1 + c; c = g1 >>> 13; g1 &= MASK;
  let g2 = h2 + c; c = g2 >>> 13; g2 &= MASK;
  let g3 = h3 + c; c = g3 >>> 13; g3 &= MASK;
  let g4 = h4 + c; c = g4 >>> 13; g4 &= MASK;
  let g5 = h5 + c; c = g5 >>> 13; g5 &= MASK;
  let g6 = h6 + c; c = g6 >>> 13; g6 &= MASK;
  let g7 = h7 + c; c = g7 >>> 13; g7 &= MASK;
  let g8 = h8 + c; c = g8 >>> 13; g8 &= MASK;
  let g9 = h9 + c; c = g9 >>> 13; g9 &= MASK;
  // c is 1 when h + 5 reached 2^130: take g.
  const take = -c;
  const keep = ~take;
  h0 = (h0 & keep) | (g0 & take); h1 = (h1 & keep) | (g1 & take);
  h2 = (h2 & keep) | (g2 & take); h3 = (h3 & keep) | (g3 & take);
  h4 = (h4 & keep) | (g4 & take); h5 = (h5 & keep) | (g5 & take);
  h6 = (h6 & keep) | (g6 & take); h7 = (h7 & keep) | (g7 & take);
  h8 = (h8 & keep) | (g8 & take); h9 = (h9 & keep) | (g9 & take);

  // The low 128 bits as eight 16-bit words, plus s, with the carry running up.
  let f = (h0 | (h1 << 13)) & 0xffff;
  f += u16(key, 16);
  out[outPos] = f & 0xff; out[outPos + 1] = (f >>> 8) & 0xff;
  f = (((h1 >>> 3) | (h2 << 10)) & 0xffff) + u16(key, 18) + (f >>> 16);
  out[outPos + 2] = f & 0xff; out[outPos + 3] = (f >>> 8) & 0xff;
  f = (((h2 >>> 6) | (h3 << 7)) & 0xffff) + u16(key, 20) + (f >>> 16);
  out[outPos + 4] = f & 0xff; out[outPos + 5] = (f >>> 8) & 0xff;
  f = (((h3 >>> 9) | (h4 << 4)) & 0xffff) + u16(key, 22) + (f >>> 16);
  out[outPos + 6] = f & 0xff; out[outPos + 7] = (f >>> 8) & 0xff;
  f = (((h4 >>> 12) | (h5 << 1) | (h6 << 14)) & 0xffff) + u16(key, 24) + (f >>> 16);
  out[outPos + 8] = f & 0xff; out[outPos + 9] = (f >>> 8) & 0xff;
  f = (((h6 >>> 2) | (h7 << 11)) & 0xffff) + u16(key, 26) + (f >>> 16);
  out[outPos + 10] = f & 0xff; out[outPos + 11] = (f >>> 8) & 0xff;
  f = (((h7 >>> 5) | (h8 << 8)) & 0xffff) + u16(key, 28) + (f >>> 16);
  out[outPos + 12] = f & 0xff; out[outPos + 13] = (f >>> 8) & 0xff;
  f = (((h8 >>> 8) | (h9 << 5)) & 0xffff) + u16(key, 30) + (f >>> 16);
  out[outPos + 14] = f & 0xff; out[outPos + 15] = (f >>> 8) & 0xff;
}

/**
 * Whether `tag[tagPos .. tagPos + 16)` is the Poly1305 tag of `m[mPos .. mPos + n)` under the
 * key in `key`'s first 32 bytes, compared in constant time.
 */
export function poly1305Verify(tag: Uint8Array, tagPos: number, m: Uint8Array, mPos: number, n: number, key: Uint8Array): boolean {
  poly1305(computed, 0, m, mPos, n, key);
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= computed[i]! ^ tag[tagPos + i]!;
  return diff === 0;
}
