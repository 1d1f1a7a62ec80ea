// The exact bytes a signature covers. Every signed record is the CBOR array
// [domain, ...fields], so a signature made for one purpose (a certificate, a key/value entry,
// an accusation) can never be replayed as another: the domain string differs. Fields are only
// strings, integers, byte strings, booleans and null, which cbor-x encodes one way.

import { Encoder } from 'cbor-x';

export const Domain = {
  Certificate: 'murmur/cert/v1',
  Revocation: 'murmur/revoke/v1',
  Passport: 'murmur/passport/v1',
  KvEntry: 'murmur/kv/v1',
  Accusation: 'murmur/accuse/v1',
  KeyringOffer: 'murmur/keyring/v1',
  KeyringGrant: 'murmur/keyring-grant/v1',
  Query: 'murmur/query/v1',
  QueryReply: 'murmur/query-reply/v1',
} as const;
export type Domain = (typeof Domain)[keyof typeof Domain];

const encoder = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: true, variableMapSize: true });

export function signable(domain: Domain, fields: readonly (string | number | boolean | null | Uint8Array)[]): Uint8Array {
  // cbor-x reuses its buffer: copy out.
  return Uint8Array.from(encoder.encode([domain, ...fields]));
}
