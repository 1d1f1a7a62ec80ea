// Ed25519 through node:crypto, with keys as raw 32-byte arrays everywhere else in murmur.
// node:crypto (OpenSSL) signs about 35,000 and verifies about 12,000 times a second on the
// development machine; tweetnacl manages 167 and 87 (`npm run bench:crypto`). A fleet of 128
// devices exchanges thousands of signed records a minute, so tweetnacl's Ed25519 is not an
// option; it remains the fleet cipher (secretbox), which is fast.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

export const PUBLIC_KEY_BYTES = 32;
export const SECRET_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

// DER prefixes that turn a raw key into SPKI / PKCS#8, the only forms node:crypto imports.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface SigningKey {
  readonly publicKey: Uint8Array;
  /** The 32-byte seed. Never logged, never sent. */
  readonly secretKey: Uint8Array;
}

export function generateSigningKey(): SigningKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length)),
    secretKey: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length)),
  };
}

/** The public key belonging to a 32-byte seed. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  const pub = createPublicKey(privateKeyObject(secretKey));
  return new Uint8Array(pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
}

const privateCache = new WeakMap<Uint8Array, KeyObject>();
function privateKeyObject(secretKey: Uint8Array): KeyObject {
  let k = privateCache.get(secretKey);
  if (!k) {
    if (secretKey.length !== SECRET_KEY_BYTES) throw new Error(`Ed25519 secret key: expected ${SECRET_KEY_BYTES} bytes, got ${secretKey.length}`);
    k = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
    privateCache.set(secretKey, k);
  }
  return k;
}

// Importing a public key costs about as much as a verification; devices verify records from
// the same few hundred keys over and over. Bounded so spoofed keys cannot grow it.
const publicCache = new Map<string, KeyObject>();
const PUBLIC_CACHE_MAX = 4096;
function publicKeyObject(publicKey: Uint8Array): KeyObject | undefined {
  if (publicKey.length !== PUBLIC_KEY_BYTES) return undefined;
  const id = Buffer.from(publicKey).toString('base64');
  let k = publicCache.get(id);
  if (!k) {
    try {
      k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    } catch {
      return undefined;
    }
    if (publicCache.size >= PUBLIC_CACHE_MAX) publicCache.delete(publicCache.keys().next().value!);
    publicCache.set(id, k);
  }
  return k;
}

export function signBytes(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, privateKeyObject(secretKey)));
}

/** Never throws: a malformed key or signature is simply not valid. */
export function verifyBytes(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  const k = publicKeyObject(publicKey);
  if (!k) return false;
  try {
    return verify(null, message, k, signature);
  } catch {
    return false;
  }
}

/** A short, stable name for a public key in logs and CLI output: 16 hex digits of its SHA-256. */
export function fingerprint(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}
