// Signature checks with a memory. The same signed record reaches a device many times: an
// accusation is repeated and relayed, a key/value entry comes in the owner's own datagram and
// again from relays and anti-entropy before the core holds it, a passport rides on many
// heartbeats. Checking each copy again costs an Ed25519 verification (about 80 µs here, four
// times that on a Pi) and proves nothing new, so a signature that checked out is remembered
// together with the exact bytes it covers and the key it was checked against: a copy that
// matches all three byte for byte is the same statement, and passes without the arithmetic.
//
// Only valid signatures are remembered (a forged one must not buy a place that pushes genuine
// ones out), and the memory is bounded: oldest first out.

import { verifyBytes } from './ed25519.js';
import type { Verifier } from './records.js';

/**
 * Signatures remembered at most. Copies of a record arrive within seconds of each other, so a
 * few per member of a 128-node fleet is enough; each costs about 300 bytes (the signed bytes,
 * the key and the map entry), about 150 KiB in all.
 */
export const REMEMBERED_SIGNATURES = 512;

interface Checked {
  readonly message: Uint8Array;
  readonly publicKey: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class CheckedSignatures {
  /** Verifications actually computed. */
  checks = 0;
  /** Copies of an already checked statement that passed from memory. */
  remembered = 0;
  readonly #verify: Verifier;
  readonly #max: number;
  readonly #seen = new Map<string, Checked>();

  constructor(verify: Verifier = verifyBytes, max = REMEMBERED_SIGNATURES) {
    this.#verify = verify;
    this.#max = max;
  }

  readonly verify: Verifier = (message, signature, publicKey) => {
    const tag = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('latin1');
    const seen = this.#seen.get(tag);
    if (seen && sameBytes(seen.message, message) && sameBytes(seen.publicKey, publicKey)) {
      this.remembered++;
      return true;
    }
    this.checks++;
    if (!this.#verify(message, signature, publicKey)) return false;
    if (this.#seen.size >= this.#max) this.#seen.delete(this.#seen.keys().next().value!);
    // Copies: the caller's arrays may be views into a datagram buffer that is reused.
    this.#seen.set(tag, { message: Uint8Array.from(message), publicKey: Uint8Array.from(publicKey) });
    return true;
  };

  get size(): number {
    return this.#seen.size;
  }
}
