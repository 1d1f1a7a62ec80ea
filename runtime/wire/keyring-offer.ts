// The keyring offer: the one control frame (frames.ts CONTROL_FRAME). A device offers its fleet
// keyring to the others, signed by its device key and carrying its passport:
//
//   [CONTROL_FRAME] CBOR [1, records, passport, signature]
//   records = CBOR bytes of [[id, key | null, installed, used, removed, compromised], ...]
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

export interface KeyringOffer {
  /** The records' bytes as sent: what the signature covers. */
  readonly signed: Uint8Array;
  readonly records: readonly OfferedKey[];
  readonly passport: Passport;
  readonly signature: Uint8Array;
}

const encoder = new Encoder({ useRecords: false, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** The bytes an offer's signature covers. */
export function encodeOfferedKeys(records: readonly OfferedKey[]): Uint8Array {
  if (records.length > MAX_OFFER_RECORDS) throw new Error(`keyring offer: ${records.length} keys, at most ${MAX_OFFER_RECORDS} fit`);
  return Uint8Array.from(encoder.encode(records.map((r) => [r.id, r.key ?? null, r.installed, r.used, r.removed, r.compromised])));
}

/** A whole control frame, CONTROL_FRAME first, from the signed records' bytes, the passport and the signature. */
export function encodeKeyringOffer(signed: Uint8Array, passport: Passport, signature: Uint8Array): Uint8Array {
  const body = encoder.encode([OFFER, signed, toArray(passport), signature]);
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
    return { signed, records, passport, signature: Uint8Array.from(v[3]) };
  } catch {
    return undefined;
  }
}
