// The file form shared by the device's identity key and the fleet admin's key:
// {"type": ..., "publicKey": "<base64>", "secretKey": "<base64>"}, mode 0600. The public key is
// stored too, so that a damaged secret is noticed (it no longer matches) instead of quietly
// becoming another identity.

import { readFileSync } from 'node:fs';
import { PUBLIC_KEY_BYTES, SECRET_KEY_BYTES, publicKeyOf, type SigningKey } from './ed25519.js';
import { FormError, base64Bytes, parseForm, toBase64 } from './json-form.js';

export function keyFileText(type: string, key: SigningKey): string {
  return JSON.stringify({ type, publicKey: toBase64(key.publicKey), secretKey: toBase64(key.secretKey) }, null, 1) + '\n';
}

/** Read and check a key file. Throws FormError naming `file` and what is wrong with it. */
export function readKeyFile(file: string, type: string): SigningKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FormError(`${file}: cannot read (${(e as Error).message})`);
  }
  const o = parseForm(text, file, type);
  const publicKey = base64Bytes(o.publicKey, `${file}: publicKey`, PUBLIC_KEY_BYTES);
  const secretKey = base64Bytes(o.secretKey, `${file}: secretKey`, SECRET_KEY_BYTES);
  if (Buffer.compare(publicKeyOf(secretKey), publicKey) !== 0) {
    throw new FormError(`${file}: publicKey does not belong to secretKey (one of them is damaged)`);
  }
  return { publicKey, secretKey };
}
