// The keyring offer: the one control frame (frames.ts CONTROL_FRAME). A device offers its fleet
// keyring to the others, signed by its device key and carrying its passport:
//
//   [CONTROL_FRAME] CBOR [1, records, passport, signature, grant?]
//   records = CBOR bytes of [[id, key | null, installed, used, removed, compromised], ...]
//   grant   = [granted, admin signature]: in a fleet with an admin, the keyring as the admin
//             signed it, without key bytes: CBOR bytes of
//             [[id, digest | null, installed, used, removed, compromised], ...]
//             (digest: 16 bytes of the key's SHA-512, so the grant names the key, not just its id)
//
// A receiver that predates the grant ignores the fifth element.
//
// The signature covers the records' bytes exactly as sent, so they are kept as bytes inside the
// frame and decoded only after the check. This module owns the layout and the shape checks;
// signing, checking the signature and what a key id means belong to the caller
// (runtime/agent/key-sync.ts), so the wire layer stays free of crypto.

import { Decoder, Encoder } from 'cbor-x';
import { MsgType, type Passport } from '../core/messages.js';
import { toArray } from './encode.js';
import { CONTROL_FRAME } from './frames.js';
import { scanItem } from './scan.js';
import { toMessage } from './validate.js';

/** The kind of control frame, first in its array. */
const OFFER = 1;
/** Records an offer may carry, and so the keys a keyring holds (runtime/crypto/keyring.ts MAX_KEYS). */
export const MAX_OFFER_RECORDS = 8;
/** Bytes of a fleet key. */
const KEY_BYTES = 32;

/** One key as offered; runtime/crypto/keyring.ts holds these as its KeyRecord. */
export interface OfferedKey {
  readonly id: number;
  /** Absent once the key is removed as compromised. */
  readonly key?: Uint8Array | undefined;
  readonly installed: number;
  readonly used: number;
  readonly removed: number;
  readonly compromised: boolean;
}

/** One key as the fleet admin granted it: its stamps, and a digest naming its bytes (absent once erased). */
export interface GrantedKey {
  readonly id: number;
  readonly digest?: Uint8Array | undefined;
  readonly installed: number;
  readonly used: number;
  readonly removed: number;
  readonly compromised: boolean;
}

/** The admin's signature over a keyring (runtime/trust/keyring-grant.ts checks it). */
export interface KeyringGrant {
  /** The granted keys' bytes: what the admin's signature covers. */
  readonly granted: Uint8Array;
  readonly signature: Uint8Array;
}

export interface KeyringOffer {
  /** The records' bytes as sent: what the signature covers. */
  readonly signed: Uint8Array;
  readonly records: readonly OfferedKey[];
  readonly passport: Passport;
  readonly signature: Uint8Array;
  readonly grant?: KeyringGrant | undefined;
}

/** Bytes of a key digest in a grant. */
export const KEY_DIGEST_BYTES = 16;

const encoder = new Encoder({ useRecords: false, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** The bytes an offer's signature covers. */
export function encodeOfferedKeys(records: readonly OfferedKey[]): Uint8Array {
  if (records.length > MAX_OFFER_RECORDS) throw new Error(`keyring offer: ${records.length} keys, at most ${MAX_OFFER_RECORDS} fit`);
  return Uint8Array.from(encoder.encode(records.map((r) => [r.id, r.key ?? null, r.installed, r.used, r.removed, r.compromised])));
}

/** The bytes an admin's grant covers. */
export function encodeGrantedKeys(keys: readonly GrantedKey[]): Uint8Array {
  if (keys.length > MAX_OFFER_RECORDS) throw new Error(`keyring grant: ${keys.length} keys, at most ${MAX_OFFER_RECORDS} fit`);
  return Uint8Array.from(encoder.encode(keys.map((k) => [k.id, k.digest ?? null, k.installed, k.used, k.removed, k.compromised])));
}

/** The granted keys (the admin's signature is the caller's to check); undefined for anything malformed. Never throws. */
export function decodeGrantedKeys(granted: Uint8Array): GrantedKey[] | undefined {
  try {
    scanItem(granted, 0);
    const list = decoder.decode(granted) as unknown;
    if (!Array.isArray(list) || list.length > MAX_OFFER_RECORDS) return undefined;
    const out: GrantedKey[] = [];
    for (const r of list as unknown[]) {
      if (!Array.isArray(r) || r.length < 6) return undefined;
      const [id, digest, installed, used, removed, compromised] = r as unknown[];
      if (!uint(id) || id > 0xffffffff || !uint(installed) || !uint(used) || !uint(removed) || typeof compromised !== 'boolean') return undefined;
      if (digest !== null && !(digest instanceof Uint8Array && digest.length === KEY_DIGEST_BYTES)) return undefined;
      out.push({ id, digest: digest === null ? undefined : Uint8Array.from(digest), installed, used, removed, compromised });
    }
    return out;
  } catch {
    return undefined;
  }
}

/** A whole control frame, CONTROL_FRAME first, from the signed records' bytes, the passport, the signature and the admin's grant. */
export function encodeKeyringOffer(signed: Uint8Array, passport: Passport, signature: Uint8Array, grant?: KeyringGrant): Uint8Array {
  const fields: unknown[] = [OFFER, signed, toArray(passport), signature];
  if (grant) fields.push([grant.granted, grant.signature]);
  const body = encoder.encode(fields);
  const out = new Uint8Array(1 + body.length);
  out[0] = CONTROL_FRAME;
  out.set(body, 1);
  return out;
}

const uint = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/**
 * Decode a control frame as a keyring offer; undefined for anything that is not a well-formed
 * one (never throws). The signature is not checked here.
 */
export function decodeKeyringOffer(plain: Uint8Array): KeyringOffer | undefined {
  try {
    if (plain[0] !== CONTROL_FRAME) return undefined;
    const end = scanItem(plain, 1);
    const v = decoder.decode(plain.subarray(1, end)) as unknown;
    if (!Array.isArray(v) || v[0] !== OFFER || !(v[1] instanceof Uint8Array) || !(v[3] instanceof Uint8Array)) return undefined;
    const passport = toMessage(v[2]);
    if (passport.type !== MsgType.Passport) return undefined;
    const signed = Uint8Array.from(v[1]);
    scanItem(signed, 0);
    const list = decoder.decode(signed) as unknown;
    if (!Array.isArray(list) || list.length > MAX_OFFER_RECORDS) return undefined;
    const records: OfferedKey[] = [];
    for (const r of list as unknown[]) {
      if (!Array.isArray(r) || r.length < 6) return undefined;
      const [id, key, installed, used, removed, compromised] = r as unknown[];
      if (!uint(id) || id > 0xffffffff || !uint(installed) || !uint(used) || !uint(removed) || typeof compromised !== 'boolean') return undefined;
      if (key !== null && !(key instanceof Uint8Array && key.length === KEY_BYTES)) return undefined;
      records.push({ id, key: key === null ? undefined : Uint8Array.from(key), installed, used, removed, compromised });
    }
    const g = v[4] as unknown;
    const grant = Array.isArray(g) && g[0] instanceof Uint8Array && g[1] instanceof Uint8Array ? { granted: Uint8Array.from(g[0]), signature: Uint8Array.from(g[1]) } : undefined;
    return { signed, records, passport, signature: Uint8Array.from(v[3]), grant };
  } catch {
    return undefined;
  }
}
