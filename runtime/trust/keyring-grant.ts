// The fleet admin's word on the keyring. In a fleet with an admin key, a keyring change made on
// one device reaches the others only with the admin's signature over the keyring as it stands
// after the change: every key's stamps and a digest of its bytes, never the bytes themselves
// (runtime/wire/keyring-offer.ts). The operator's `murmur keys ... --admin-key FILE` has the
// node prepare that keyring, signs it with the admin key file, and hands it back; devices check
// it against security.adminPublicKey and apply it at once (runtime/crypto/offer-policy.ts).

import { decodeGrantedKeys, encodeGrantedKeys, type GrantedKey, type KeyringGrant } from '../wire/keyring-offer.js';
import { signBytes, verifyBytes, type SigningKey } from './ed25519.js';
import { Domain, signable } from './signable.js';

/** A keyring change in a fleet with an admin, made without the admin's grant (or with one it did not sign). */
export class AdminGrantRequiredError extends Error {}

/** The admin's signature over granted keys' bytes (as a node prepared them). */
export function signGrant(admin: SigningKey, granted: Uint8Array): KeyringGrant {
  if (!decodeGrantedKeys(granted)) throw new Error('keyring grant: not a list of granted keys');
  return { granted, signature: signBytes(signable(Domain.KeyringGrant, [granted]), admin.secretKey) };
}

/** Grant `keys` (tests and tools; the CLI signs what the node prepared). */
export function grantKeys(admin: SigningKey, keys: readonly GrantedKey[]): KeyringGrant {
  return signGrant(admin, encodeGrantedKeys(keys));
}

/** The granted keys, if `adminPublicKey` signed them; undefined otherwise. Never throws. */
export function checkGrant(grant: KeyringGrant, adminPublicKey: Uint8Array): GrantedKey[] | undefined {
  if (!verifyBytes(signable(Domain.KeyringGrant, [grant.granted]), grant.signature, adminPublicKey)) return undefined;
  return decodeGrantedKeys(grant.granted);
}

/** The newest stamp a grant carries: of two grants, the later change's. */
export function grantStamp(keys: readonly GrantedKey[]): number {
  return keys.reduce((m, k) => Math.max(m, k.installed, k.used, k.removed), 0);
}
