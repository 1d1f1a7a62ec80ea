// The fleet admin's key. Whoever holds the secret can admit devices and revoke them, so it
// lives in one file kept offline; devices only ever see the public half, in their config as
// security.adminPublicKey.

import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { PUBLIC_KEY_BYTES, generateSigningKey, type SigningKey } from './ed25519.js';
import { base64Bytes } from './json-form.js';
import { keyFileText, readKeyFile } from './key-file.js';

export const ADMIN_KEY_TYPE = 'murmur-admin-key';

/** Create a new admin key file, mode 0600. Refuses to replace an existing file: that would orphan every certificate. */
export function createAdminKeyFile(path: string): SigningKey {
  // Check-then-rename leaves a window for two concurrent inits on one path; an admin runs this
  // by hand, once, and a hard-link based exclusive create fails on the FAT sticks such keys
  // often live on.
  if (existsSync(path)) {
    throw new Error(`${path}: already exists; refusing to overwrite an admin key (devices certified by it would be locked out). Choose another path, or remove it yourself if you are sure`);
  }
  const key = generateSigningKey();
  writeFileAtomic(path, keyFileText(ADMIN_KEY_TYPE, key), 0o600);
  return key;
}

export function loadAdminKey(path: string): SigningKey {
  if (!existsSync(path)) throw new Error(`${path}: no such admin key file (create one with: murmur admin init --out ${path})`);
  return readKeyFile(path, ADMIN_KEY_TYPE);
}

/** An Ed25519 public key as it appears in a device config or on the command line: base64 of 32 bytes. */
export function parsePublicKey(text: string, source: string): Uint8Array {
  return base64Bytes(text, source, PUBLIC_KEY_BYTES);
}
