// A revocation removes a device from the fleet: the admin's signature over the device's public
// key, when it was issued and why. It names the key, not the node id, so a stolen device is
// shut out even if it comes back under another name. Revocations travel by gossip in a compact
// CBOR form, and live on each device in a list file that survives restarts.

import { copyFileSync, readFileSync } from 'node:fs';
import { Decoder, Encoder } from 'cbor-x';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { scanItem } from '../wire/scan.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, fingerprint, signBytes, verifyBytes } from './ed25519.js';
import { base64Bytes, checkForm, parseForm, show, stringField, toBase64, FormError } from './json-form.js';
import { Domain, signable } from './signable.js';

export interface Revocation {
  readonly publicKey: Uint8Array;
  /** Unix milliseconds when the admin issued it. */
  readonly at: number;
  /** At most MAX_REASON_BYTES of UTF-8. */
  readonly reason: string;
  /** The admin's signature over signable(Domain.Revocation, [publicKey, at, reason]). */
  readonly signature: Uint8Array;
}

export const REVOCATION_TYPE = 'murmur-revocation';
export const REVOCATION_LIST_TYPE = 'murmur-revocation-list';

/**
 * Counted in UTF-8 bytes rather than characters (64 characters of ASCII), so that every valid
 * revocation encodes to at most 176 bytes and fits well under MAX_ENCODED_BYTES.
 */
export const MAX_REASON_BYTES = 64;
/** Decoding refuses anything longer before cbor-x sees it. */
export const MAX_ENCODED_BYTES = 256;
/**
 * Only the admin can sign revocations, so this bounds memory against a mistake rather than an
 * attacker. A fleet that has revoked a thousand devices should rotate its admin key instead.
 */
export const MAX_REVOCATIONS = 1024;

function reasonProblem(reason: string): string | undefined {
  return Buffer.byteLength(reason, 'utf8') <= MAX_REASON_BYTES ? undefined : `at most ${MAX_REASON_BYTES} bytes of UTF-8`;
}

function atProblem(at: unknown): boolean {
  return typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0;
}

export function signRevocation(publicKey: Uint8Array, reason: string, adminSecret: Uint8Array, now = Date.now()): Revocation {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new Error(`revocation publicKey: expected ${PUBLIC_KEY_BYTES} bytes, got ${publicKey.length}`);
  const problem = reasonProblem(reason);
  if (problem) throw new Error(`revocation reason: expected ${problem}, got ${Buffer.byteLength(reason, 'utf8')} bytes`);
  if (atProblem(now)) throw new Error(`revocation time: expected unix milliseconds, got ${now}`);
  return { publicKey, at: now, reason, signature: signBytes(signable(Domain.Revocation, [publicKey, now, reason]), adminSecret) };
}

/** Never throws: anything malformed is simply not valid. */
export function verifyRevocation(r: Revocation, adminPublicKey: Uint8Array): boolean {
  if (!(r?.publicKey instanceof Uint8Array) || !(r.signature instanceof Uint8Array) || typeof r.reason !== 'string') return false;
  if (r.publicKey.length !== PUBLIC_KEY_BYTES || atProblem(r.at) || reasonProblem(r.reason)) return false;
  return verifyBytes(signable(Domain.Revocation, [r.publicKey, r.at, r.reason]), r.signature, adminPublicKey);
}

// ---- Gossip form: the CBOR array [publicKey, at, reason, signature] ----

const encoder = new Encoder({ useRecords: false, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, tagUint8Array: false });

export function encodeRevocation(r: Revocation): Uint8Array {
  // cbor-x reuses its buffer: copy out.
  return Uint8Array.from(encoder.encode([r.publicKey, r.at, r.reason, r.signature]));
}

/**
 * Decode bytes from the network. Never throws, and checks every field's type and length; it
 * does not check the signature. The structural scan runs first so hostile bytes never reach
 * cbor-x's tags, maps or records.
 */
export function decodeRevocation(bytes: Uint8Array): Revocation | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > MAX_ENCODED_BYTES) return undefined;
  let raw: unknown;
  try {
    if (scanItem(bytes, 0) !== bytes.length) return undefined;
    raw = decoder.decode(bytes);
  } catch {
    return undefined;
  }
  if (!Array.isArray(raw) || raw.length !== 4) return undefined;
  const [publicKey, at, reason, signature] = raw as unknown[];
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) return undefined;
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return undefined;
  if (atProblem(at) || typeof reason !== 'string' || reasonProblem(reason)) return undefined;
  // The decoder hands out views of `bytes`; a caller may reuse that buffer.
  return { publicKey: new Uint8Array(publicKey), at: at as number, reason, signature: new Uint8Array(signature) };
}

// ---- File form ----

function revocationObject(r: Revocation): Record<string, unknown> {
  return { type: REVOCATION_TYPE, publicKey: toBase64(r.publicKey), at: r.at, reason: r.reason, signature: toBase64(r.signature) };
}

/** One line, so it can be pasted into a shell or a curl command whole. */
export function revocationToJson(r: Revocation): string {
  return JSON.stringify(revocationObject(r));
}

function revocationFrom(o: Record<string, unknown>, source: string): Revocation {
  const publicKey = base64Bytes(o.publicKey, `${source}: publicKey`, PUBLIC_KEY_BYTES);
  if (atProblem(o.at)) throw new FormError(`${source}: at: expected unix milliseconds (a non-negative integer), got ${show(o.at)}`);
  return {
    publicKey,
    at: o.at as number,
    reason: stringField(o, 'reason', source, reasonProblem),
    signature: base64Bytes(o.signature, `${source}: signature`, SIGNATURE_BYTES),
  };
}

/** Parse the JSON file form (shape only, not the signature). Errors name `source` and the field. */
export function parseRevocation(text: string, source: string): Revocation {
  return revocationFrom(parseForm(text, source, REVOCATION_TYPE), source);
}

// ---- The list a node keeps ----

const keyId = (publicKey: Uint8Array): string => toBase64(publicKey);

/** Verified revocations, one per public key. Every entry has been checked against the admin key. */
export class RevocationList {
  readonly #byKey = new Map<string, Revocation>();

  constructor(readonly adminPublicKey: Uint8Array) {}

  /**
   * True if this revokes a key that was not revoked before. False, and nothing changes, when
   * the signature does not verify, the key is already revoked (the first revocation stays),
   * or the list is full.
   */
  add(r: Revocation): boolean {
    if (!verifyRevocation(r, this.adminPublicKey)) return false;
    const id = keyId(r.publicKey);
    if (this.#byKey.has(id) || this.#byKey.size >= MAX_REVOCATIONS) return false;
    this.#byKey.set(id, r);
    return true;
  }

  isRevoked(publicKey: Uint8Array): boolean {
    return this.#byKey.has(keyId(publicKey));
  }

  all(): Revocation[] {
    return [...this.#byKey.values()];
  }

  get size(): number {
    return this.#byKey.size;
  }

  /**
   * Read the list a previous run saved. A missing file is an empty list. Nothing here is
   * fatal: a damaged file, or an entry that does not verify, is reported through `log` and
   * skipped. A damaged file is copied to FILE.corrupt first, because the next save replaces
   * it, and the revocations in it may still matter.
   */
  static load(file: string, adminPublicKey: Uint8Array, log?: (problem: string) => void): RevocationList {
    const list = new RevocationList(adminPublicKey);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log?.(`${file}: cannot read (${(e as Error).message}); starting with no revocations`);
      return list;
    }
    let entries: unknown;
    try {
      entries = parseForm(text, file, REVOCATION_LIST_TYPE).revocations;
      if (!Array.isArray(entries)) throw new FormError(`${file}: revocations: expected an array, got ${show(entries)}`);
    } catch (e) {
      let kept = '';
      try {
        copyFileSync(file, `${file}.corrupt`);
        kept = `; the file is kept as ${file}.corrupt`;
      } catch {
        // Best effort only.
      }
      log?.(`${(e as Error).message}; starting with no revocations${kept}`);
      return list;
    }
    entries.forEach((entry: unknown, i: number) => {
      const where = `${file}: revocations[${i}]`;
      let r: Revocation;
      try {
        r = revocationFrom(checkForm(entry, where, REVOCATION_TYPE), where);
      } catch (e) {
        log?.(`${(e as Error).message}; skipped`);
        return;
      }
      if (!verifyRevocation(r, adminPublicKey)) {
        log?.(`${where}: signature does not verify under the admin key ${fingerprint(adminPublicKey)}; skipped`);
      } else if (!list.add(r) && !list.isRevoked(r.publicKey)) {
        log?.(`${where}: the list is full (${MAX_REVOCATIONS} revocations); skipped`);
      }
    });
    return list;
  }

  /** Write the whole list atomically, mode 0600. Throws (naming the file) on a full disk; the old file stays intact. */
  save(file: string): void {
    const doc = { type: REVOCATION_LIST_TYPE, revocations: this.all().map(revocationObject) };
    writeFileAtomic(file, JSON.stringify(doc, null, 1) + '\n', 0o600);
  }
}
