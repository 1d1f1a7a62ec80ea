// The XSalsa20 stream cipher (Bernstein, "Extending the Salsa20 nonce"), as NaCl's secretbox
// uses it: HSalsa20 turns the key and the first 16 bytes of the 24-byte nonce into a subkey,
// and Salsa20/20 under that subkey, with the last 8 nonce bytes and a 64-bit block counter
// from zero, gives the keystream.
//
// tweetnacl computes the same stream a byte at a time: it unpacks key and nonce into words for
// every 64-byte block and allocates two arrays per call. Every datagram a device receives is
// decrypted, so here the words are unpacked once per call into locals and nothing is allocated.
// The output is checked against tweetnacl's for every length across block boundaries
// (test/crypto/xsalsa20.test.ts).

/** "expand 32-byte k", little-endian words. */
const S0 = 0x61707865;
const S1 = 0x3320646e;
const S2 = 0x79622d32;
const S3 = 0x6b206574;

function word(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/** The 20 rounds over the state in `x` (16 words), in place. */
function rounds(x: Int32Array): void {
  let x0 = x[0]!, x1 = x[1]!, x2 = x[2]!, x3 = x[3]!, x4 = x[4]!, x5 = x[5]!, x6 = x[6]!, x7 = x[7]!;
  let x8 = x[8]!, x9 = x[9]!, x10 = x[10]!, x11 = x[11]!, x12 = x[12]!, x13 = x[13]!, x14 = x[14]!, x15 = x[15]!;
  let u: number;
  for (let i = 0; i < 20; i += 2) {
    // Columns.
    u = (x0 + x12) | 0; x4 ^= (u << 7) | (u >>> 25);
    u = (x4 + x0) | 0; x8 ^= (u << 9) | (u >>> 23);
    u = (x8 + x4) | 0; x12 ^= (u << 13) | (u >>> 19);
    u = (x12 + x8) | 0; x0 ^= (u << 18) | (u >>> 14);
    u = (x5 + x1) | 0; x9 ^= (u << 7) | (u >>> 25);
    u = (x9 + x5) | 0; x13 ^= (u << 9) | (u >>> 23);
    u = (x13 + x9) | 0; x1 ^= (u << 13) | (u >>> 19);
    u = (x1 + x13) | 0; x5 ^= (u << 18) | (u >>> 14);
    u = (x10 + x6) | 0; x14 ^= (u << 7) | (u >>> 25);
    u = (x14 + x10) | 0; x2 ^= (u << 9) | (u >>> 23);
    u = (x2 + x14) | 0; x6 ^= (u << 13) | (u >>> 19);
    u = (x6 + x2) | 0; x10 ^= (u << 18) | (u >>> 14);
    u = (x15 + x11) | 0; x3 ^= (u << 7) | (u >>> 25);
    u = (x3 + x15) | 0; x7 ^= (u << 9) | (u >>> 23);
    u = (x7 + x3) | 0; x11 ^= (u << 13) | (u >>> 19);
    u = (x11 + x7) | 0; x15 ^= (u << 18) | (u >>> 14);
    // Rows.
    u = (x0 + x3) | 0; x1 ^= (u << 7) | (u >>> 25);
    u = (x1 + x0) | 0; x2 ^= (u << 9) | (u >>> 23);
    u = (x2 + x1) | 0; x3 ^= (u << 13) | (u >>> 19);
    u = (x3 + x2) | 0; x0 ^= (u << 18) | (u >>> 14);
    u = (x5 + x4) | 0; x6 ^= (u << 7) | (u >>> 25);
    u = (x6 + x5) | 0; x7 ^= (u << 9) | (u >>> 23);
    u = (x7 + x6) | 0; x4 ^= (u << 13) | (u >>> 19);
    u = (x4 + x7) | 0; x5 ^= (u << 18) | (u >>> 14);
    u = (x10 + x9) | 0; x11 ^= (u << 7) | (u >>> 25);
    u = (x11 + x10) | 0; x8 ^= (u << 9) | (u >>> 23);
    u = (x8 + x11) | 0; x9 ^= (u << 13) | (u >>> 19);
    u = (x9 + x8) | 0; x10 ^= (u << 18) | (u >>> 14);
    u = (x15 + x14) | 0; x12 ^= (u << 7) | (u >>> 25);
    u = (x12 + x15) | 0; x13 ^= (u << 9) | (u >>> 23);
    u = (x13 + x12) | 0; x14 ^= (u << 13) | (u >>> 19);
    u = (x14 + x13) | 0; x15 ^= (u << 18) | (u >>> 14);
  }
  x[0] = x0; x[1] = x1; x[2] = x2; x[3] = x3; x[4] = x4; x[5] = x5; x[6] = x6; x[7] = x7;
  x[8] = x8; x[9] = x9; x[10] = x10; x[11] = x11; x[12] = x12; x[13] = x13; x[14] = x14; x[15] = x15;
}

/** Scratch state, overwritten by every call (murmur is single-threaded). */
const state = new Int32Array(16);
const work = new Int32Array(16);

/** The HSalsa20 input block: constants, the 32-byte key, and 16 bytes of input at `inp[at..]`. */
function load(st: Int32Array, key: Uint8Array, inp: Uint8Array, at: number): void {
  st[0] = S0;
  st[1] = word(key, 0); st[2] = word(key, 4); st[3] = word(key, 8); st[4] = word(key, 12);
  st[5] = S1;
  st[6] = word(inp, at); st[7] = word(inp, at + 4); st[8] = word(inp, at + 8); st[9] = word(inp, at + 12);
  st[10] = S2;
  st[11] = word(key, 16); st[12] = word(key, 20); st[13] = word(key, 24); st[14] = word(key, 28);
  st[15] = S3;
}

/**
 * XOR `n` bytes of `inp` from `inPos` with the XSalsa20 keystream for `nonce` (24 bytes) and
 * `key` (32 bytes), into `out` from `outPos`. `out` and `inp` may be the same array at the same
 * position (in place), not overlapping otherwise.
 */
export function xsalsa20Xor(out: Uint8Array, outPos: number, inp: Uint8Array, inPos: number, n: number, nonce: Uint8Array, key: Uint8Array): void {
  // HSalsa20: the subkey is words 0, 5, 10, 15, 6, 7, 8, 9 of the rounds' output, without the
  // final addition of the input.
  load(work, key, nonce, 0);
  rounds(work);
  const k0 = work[0]!, k1 = work[5]!, k2 = work[10]!, k3 = work[15]!, k4 = work[6]!, k5 = work[7]!, k6 = work[8]!, k7 = work[9]!;
  const n0 = word(nonce, 16);
  const n1 = word(nonce, 20);
  let lo = 0;
  let hi = 0;
  for (let done = 0; done < n; done += 64) {
    state[0] = S0; state[1] = k0; state[2] = k1; state[3] = k2; state[4] = k3; state[5] = S1;
    state[6] = n0; state[7] = n1; state[8] = lo; state[9] = hi;
    state[10] = S2; state[11] = k4; state[12] = k5; state[13] = k6; state[14] = k7; state[15] = S3;
    work.set(state);
    rounds(work);
    const len = Math.min(64, n - done);
    const o = outPos + done;
    const p = inPos + done;
    const whole = len & ~3;
    for (let i = 0; i < whole; i += 4) {
      const w = (work[i >> 2]! + state[i >> 2]!) | 0;
      out[o + i] = inp[p + i]! ^ (w & 0xff);
      out[o + i + 1] = inp[p + i + 1]! ^ ((w >>> 8) & 0xff);
      out[o + i + 2] = inp[p + i + 2]! ^ ((w >>> 16) & 0xff);
      out[o + i + 3] = inp[p + i + 3]! ^ (w >>> 24);
    }
    if (whole < len) {
      const w = (work[whole >> 2]! + state[whole >> 2]!) | 0;
      for (let i = whole; i < len; i++) out[o + i] = inp[p + i]! ^ ((w >>> ((i & 3) << 3)) & 0xff);
    }
    lo = (lo + 1) | 0;
    if (lo === 0) hi = (hi + 1) | 0;
  }
}
