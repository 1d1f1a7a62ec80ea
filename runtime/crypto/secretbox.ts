// XSalsa20-Poly1305 (NaCl's secretbox), opened and sealed in one pass over the keystream.
// tweetnacl's `secretbox.open` derives the XSalsa20 subkey and runs the stream twice (once for
// the Poly1305 key, once to decrypt) and copies the box into a zero-padded buffer first; its
// `secretbox` copies twice more. Every device opens every heartbeat of the fleet, so this is
// the most frequent cryptographic operation murmur does: here a single pass over [32 zero bytes
// | ciphertext] yields the Poly1305 key and the plaintext together (runtime/crypto/xsalsa20.ts,
// without allocations). The tag is checked, in constant time, against the ciphertext as
// received before any plaintext is returned. The plaintext is a view into a shared slab
// (runtime/wire/datagram-bytes.ts): a fresh array of its own would cost more to allocate than
// the Poly1305 check.
//
// The results are exactly nacl.secretbox's and nacl.secretbox.open's (test/crypto/secretbox
// and secretbox-seal tests). Poly1305 is runtime/crypto/poly1305.ts, also without allocations.

import nacl from './nacl.js';
import { datagramBytes } from '../wire/datagram-bytes.js';
import { poly1305, poly1305Verify } from './poly1305.js';
import { xsalsa20Xor } from './xsalsa20.js';

const TAG = 16;
const POLY_KEY = 32;

function checkNonceAndKey(nonce: Uint8Array, key: Uint8Array): void {
  if (nonce.length !== nacl.secretbox.nonceLength) throw new Error(`secretbox: nonce of ${nonce.length} bytes, expected ${nacl.secretbox.nonceLength}`);
  if (key.length !== nacl.secretbox.keyLength) throw new Error(`secretbox: key of ${key.length} bytes, expected ${nacl.secretbox.keyLength}`);
}

/**
 * Authenticate and decrypt `box` (16-byte tag, then ciphertext) under a 24-byte nonce and a
 * 32-byte key. Null when the tag does not match, as nacl.secretbox.open.
 */
export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  if (box.length < TAG) return null;
  checkNonceAndKey(nonce, key);
  const n = box.length - TAG;
  // [Poly1305 key | plaintext] = keystream XOR [zeros | ciphertext], in place.
  const out = datagramBytes(POLY_KEY + n);
  out.set(box.subarray(TAG), POLY_KEY);
  xsalsa20Xor(out, 0, out, 0, out.length, nonce, key);
  const ok = poly1305Verify(box, 0, box, TAG, n, out);
  // The one-time key must not outlive the check in memory that others' views share.
  out.fill(0, 0, POLY_KEY);
  return ok ? out.subarray(POLY_KEY) : null;
}

/**
 * Seal `plain` under a 24-byte nonce and a 32-byte key, writing the box (16-byte tag, then
 * ciphertext: exactly nacl.secretbox's output) into `out` from `at`. One pass over the
 * keystream, as in opening; the only other memory used is a transient slab view.
 */
export function secretboxSealInto(plain: Uint8Array, nonce: Uint8Array, key: Uint8Array, out: Uint8Array, at: number): void {
  checkNonceAndKey(nonce, key);
  if (out.length - at < TAG + plain.length) throw new Error(`secretbox: ${out.length - at} bytes of room for a box of ${TAG + plain.length}`);
  const n = plain.length;
  // [Poly1305 key | ciphertext] = keystream XOR [zeros | plaintext].
  const s = datagramBytes(POLY_KEY + n);
  s.set(plain, POLY_KEY);
  xsalsa20Xor(s, 0, s, 0, s.length, nonce, key);
  out.set(s.subarray(POLY_KEY), at + TAG);
  poly1305(out, at, out, at + TAG, n, s);
  // The one-time key must not outlive the seal in memory that others' views share.
  s.fill(0, 0, POLY_KEY);
}
