// A certificate admits one device to the fleet: the fleet admin's signature binding a node id
// to that device's Ed25519 public key. It carries no expiry; a device leaves the fleet through
// a revocation (revocation.ts), which every node can check without a clock it can trust.

import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, signBytes, verifyBytes } from './ed25519.js';
import { FormError, base64Bytes, parseForm, stringField, toBase64 } from './json-form.js';
import { Domain, signable } from './signable.js';

export interface Certificate {
  readonly id: string;
  readonly publicKey: Uint8Array;
  /** The admin's signature over signable(Domain.Certificate, [id, publicKey]). */
  readonly signature: Uint8Array;
}

export const CERTIFICATE_TYPE = 'murmur-certificate';

/** The same rule as the config's node.name, so every name a device can run under can be certified. */
export const NODE_ID_RULE = 'up to 64 letters, digits, ".", "_" or "-"';
export function nodeIdProblem(id: string): string | undefined {
  return id.length > 0 && id.length <= 64 && /^[A-Za-z0-9._-]+$/.test(id) ? undefined : NODE_ID_RULE;
}

export function signCertificate(id: string, publicKey: Uint8Array, adminSecret: Uint8Array): Certificate {
  const problem = nodeIdProblem(id);
  if (problem) throw new Error(`certificate id: expected ${problem}, got ${JSON.stringify(id)}`);
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new Error(`certificate publicKey: expected ${PUBLIC_KEY_BYTES} bytes, got ${publicKey.length}`);
  return { id, publicKey, signature: signBytes(signable(Domain.Certificate, [id, publicKey]), adminSecret) };
}

/** Never throws: anything malformed is simply not valid. */
export function verifyCertificate(cert: Certificate, adminPublicKey: Uint8Array): boolean {
  if (typeof cert?.id !== 'string' || !(cert.publicKey instanceof Uint8Array) || !(cert.signature instanceof Uint8Array)) return false;
  if (cert.publicKey.length !== PUBLIC_KEY_BYTES) return false;
  return verifyBytes(signable(Domain.Certificate, [cert.id, cert.publicKey]), cert.signature, adminPublicKey);
}

/** One line, so it can be pasted into a shell or a curl command whole. */
export function certificateToJson(cert: Certificate): string {
  return JSON.stringify({ type: CERTIFICATE_TYPE, id: cert.id, publicKey: toBase64(cert.publicKey), signature: toBase64(cert.signature) });
}

/**
 * Parse the JSON file form. Checks shape only, not the signature: the caller knows the admin
 * key. Throws an Error naming `source` and the field, e.g. "cert.json: publicKey: ...".
 */
export function parseCertificate(text: string, source: string): Certificate {
  const o = parseForm(text, source, CERTIFICATE_TYPE);
  return {
    id: stringField(o, 'id', source, nodeIdProblem),
    publicKey: base64Bytes(o.publicKey, `${source}: publicKey`, PUBLIC_KEY_BYTES),
    signature: base64Bytes(o.signature, `${source}: signature`, SIGNATURE_BYTES),
  };
}
