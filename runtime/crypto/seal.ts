// Sealing datagrams under the fleet key. A sealed datagram is
//
//   [0x81] [key id: 4] [nonce: 24] [secretbox: 16-byte MAC + ciphertext]
//   nonce = [sender: 6] [generation: 6] [sequence: 6] [random: 6]
//
// XSalsa20-Poly1305 (tweetnacl secretbox), about 200,000 seals or opens a second for a
// 200-byte datagram on the development machine (`npm run bench:crypto`). The key id travels in
// the clear so a receiver holding several keys (during a rotation) tries only the right one.
//
// The nonce doubles as the replay header: who sent the datagram (6 bytes of the hash of its
// node id), in which life (its generation) and its datagram counter. The nonce is covered by
// the MAC, so these cost no extra bytes and cannot be altered. The random tail keeps nonces
// unique even for two devices whose id hashes and generations collide.
//
// Nothing is decoded before the MAC checks out: `open` is the first thing a received datagram
// meets, and its failures are reasons to count, never exceptions.

import nacl from './nacl.js';
import { SEALED_FRAME } from '../wire/frames.js';
import { secretboxOpen, secretboxSealInto } from './secretbox.js';

const HEADER = 1 + 4 + nacl.secretbox.nonceLength;
/** Bytes a seal adds to a datagram. */
export const SEAL_OVERHEAD = HEADER + nacl.secretbox.overheadLength;
const MAX_48 = 2 ** 48 - 1;

export interface FrameHeader {
  /** 48 bits of the sender's node-id hash (senderTag). */
  readonly sender: number;
  readonly gen: number;
  readonly seq: number;
}

/** The keys a frame is sealed and opened with (runtime/crypto/keyring.ts). */
export interface SealKeys {
  readonly primaryId: number | undefined;
  lookup(id: number): { readonly key: Uint8Array; readonly state: 'active' | 'retired' } | undefined;
}

export type OpenFailure = 'too-short' | 'not-sealed' | 'unknown-key' | 'bad-mac';
export type Opened =
  | { readonly ok: true; readonly plain: Uint8Array; readonly keyId: number; readonly keyState: 'active' | 'retired'; readonly header: FrameHeader }
  | { readonly ok: false; readonly reason: OpenFailure };

/** A node id's 48-bit tag in the nonce. */
export function senderTag(id: string): number {
  const h = nacl.hash(new TextEncoder().encode(id));
  let n = 0;
  for (let i = 0; i < 6; i++) n = n * 256 + h[i]!;
  return n;
}

function put48(b: Uint8Array, at: number, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > MAX_48) throw new Error(`seal header: ${v} does not fit 48 bits`);
  for (let i = 5; i >= 0; i--) {
    b[at + i] = v % 256;
    v = Math.floor(v / 256);
  }
}

function get48(b: Uint8Array, at: number): number {
  let n = 0;
  for (let i = 0; i < 6; i++) n = n * 256 + b[at + i]!;
  return n;
}

export function seal(plain: Uint8Array, keys: SealKeys, header: FrameHeader, randomBytes: (n: number) => Uint8Array = nacl.randomBytes, keyIdOverride?: number): Uint8Array {
  const id = keyIdOverride ?? keys.primaryId;
  const found = id === undefined ? undefined : keys.lookup(id);
  if (id === undefined || !found) throw new Error('fleet keyring: no key to seal with');
  const nonce = new Uint8Array(nacl.secretbox.nonceLength);
  put48(nonce, 0, header.sender);
  put48(nonce, 6, header.gen);
  put48(nonce, 12, header.seq);
  nonce.set(randomBytes(6), 18);
  const out = new Uint8Array(HEADER + nacl.secretbox.overheadLength + plain.length);
  out[0] = SEALED_FRAME;
  new DataView(out.buffer).setUint32(1, id);
  out.set(nonce, 5);
  secretboxSealInto(plain, nonce, found.key, out, HEADER);
  return out;
}

/** Authenticate and decrypt. Never throws: hostile bytes come back as a reason to count. */
export function open(frame: Uint8Array, keys: SealKeys): Opened {
  if (frame.length < SEAL_OVERHEAD) return { ok: false, reason: 'too-short' };
  if (frame[0] !== SEALED_FRAME) return { ok: false, reason: 'not-sealed' };
  // The key id, big-endian; read byte by byte rather than through a DataView made per datagram.
  const id = frame[1]! * 0x1000000 + ((frame[2]! << 16) | (frame[3]! << 8) | frame[4]!);
  const found = keys.lookup(id);
  if (!found) return { ok: false, reason: 'unknown-key' };
  const nonce = frame.subarray(5, HEADER);
  const plain = secretboxOpen(frame.subarray(HEADER), nonce, found.key);
  if (!plain) return { ok: false, reason: 'bad-mac' };
  return { ok: true, plain, keyId: id, keyState: found.state, header: { sender: get48(nonce, 0), gen: get48(nonce, 6), seq: get48(nonce, 12) } };
}
