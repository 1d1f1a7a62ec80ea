// The fleet keyring: the secretbox keys this device may seal and open with, and what the fleet
// has decided about each. Serf's model (several installed keys, one primary, install/use/remove
// acting on the whole fleet) with two changes for devices that are powered off for weeks:
//
// - The keyring is a state-based CRDT, not a stream of commands. Each key carries the stamps of
//   its last install, use and removal; merging two keyrings takes the later stamp of each, so
//   devices converge whatever order they hear about changes in, and a device that missed a
//   rotation catches up from any peer's keyring.
// - A removed key is retired, not forgotten: for a grace period a datagram sealed under it is
//   still opened, never handed to the protocol, only answered with the current keyring sealed
//   under that same key (see the agent's key handoff). A device that slept through a rotation
//   thus learns the new key from the first peer it talks to. A key removed as compromised gets
//   no grace: its bytes are erased and anything sealed under it is unknown.
//
// Stamps are Lamport clocks seeded from the wall clock, so a device whose clock is wrong after
// boot still orders its own change after every change it has seen.

import { KEY_DIGEST_BYTES, MAX_OFFER_RECORDS, type GrantedKey, type OfferedKey } from '../wire/keyring-offer.js';
import nacl from './nacl.js';

export const FLEET_KEY_BYTES = nacl.secretbox.keyLength;
/**
 * Stamps are milliseconds since 1970 (Lamport-adjusted). None may pass 1 January 2200: far
 * beyond any real clock, far below 2^53, so `stamp + 1` stays exact and every stamp is a date.
 */
export const MAX_STAMP = Date.UTC(2200, 0, 1);
/** More keys than a rotation ever needs; bounds the keyring's gossip and memory. */
export const MAX_KEYS = MAX_OFFER_RECORDS;

/** One key and what the fleet decided about it: the record offers carry, as it travels. */
export type KeyRecord = OfferedKey;

export type KeyState = 'active' | 'retired' | 'gone';

/** A key's id: the first 4 bytes of its SHA-512, so every device derives the same id from the same key. */
export function keyId(key: Uint8Array): number {
  const h = nacl.hash(key);
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

/** What a fleet admin's grant names a key by: more of its SHA-512 than the id, so no other key can be made to match. */
export function keyDigest(key: Uint8Array): Uint8Array {
  return nacl.hash(key).slice(0, KEY_DIGEST_BYTES);
}

/** Keyring records as an admin grants them: stamps and digests, no key bytes. */
export function grantedKeys(records: readonly KeyRecord[]): GrantedKey[] {
  return records.map((r) => ({ id: r.id, digest: r.key ? keyDigest(r.key) : undefined, installed: r.installed, used: r.used, removed: r.removed, compromised: r.compromised }));
}

export function formatKeyId(id: number): string {
  return id.toString(16).padStart(8, '0');
}

/** The key named is not in the keyring (or is gone): a caller's "not found". */
export class KeyNotInstalledError extends Error {}

export class Keyring {
  readonly #records = new Map<number, KeyRecord>();
  #stamp = 0;

  /** `graceMs`: how long a removed key still gets a handoff. `wallClock` seeds the stamps. */
  constructor(
    readonly graceMs: number,
    readonly wallClock: () => number = Date.now,
    records: readonly KeyRecord[] = [],
  ) {
    this.merge(records);
  }

  #next(): number {
    const next = Math.max(this.#stamp + 1, Math.floor(this.wallClock()));
    if (!(next <= MAX_STAMP)) throw new Error(`fleet keyring: stamp ${next} is past ${MAX_STAMP} (year 2200); the keyring or the clock is wrong (murmur keys install --force resets the keyring)`);
    this.#stamp = next;
    return next;
  }

  /** The highest stamp seen: the Lamport clock every local change goes past. */
  get lastStamp(): number {
    return this.#stamp;
  }

  /** A stamp seen elsewhere (a promotion still waiting): local changes from now on go past it. */
  witness(stamp: number): void {
    if (Number.isSafeInteger(stamp) && stamp <= MAX_STAMP) this.#stamp = Math.max(this.#stamp, stamp);
  }

  record(id: number): KeyRecord | undefined {
    return this.#records.get(id);
  }

  /** Add a key (idempotent while it is installed). Returns its id. Throws naming the length for a wrong-sized key. */
  install(key: Uint8Array): number {
    if (key.length !== FLEET_KEY_BYTES) throw new Error(`fleet key: expected ${FLEET_KEY_BYTES} bytes, got ${key.length}`);
    const id = keyId(key);
    const cur = this.#records.get(id);
    if (cur?.compromised) throw new Error(`fleet key ${formatKeyId(id)}: was removed as compromised and cannot be installed again`);
    if (cur && this.state(id) === 'active') return id;
    if (!cur && this.#records.size >= MAX_KEYS) this.#purgeOne();
    // Candidates another device added and nobody ever sealed with must not block the operator.
    if (!cur && this.#records.size >= MAX_KEYS) this.#dropUnusedCandidate();
    if (!cur && this.#records.size >= MAX_KEYS) throw new Error(`fleet keyring: already holds ${MAX_KEYS} keys; remove one first`);
    this.#records.set(id, { id, key, installed: this.#next(), used: cur?.used ?? 0, removed: cur?.removed ?? 0, compromised: false });
    return id;
  }

  /** Make an installed key the one this device (and, once gossiped, the fleet) seals with. */
  use(id: number): void {
    const cur = this.#records.get(id);
    if (!cur || this.state(id) !== 'active') throw new KeyNotInstalledError(`fleet key ${formatKeyId(id)}: not installed`);
    this.#records.set(id, { ...cur, used: this.#next() });
  }

  /**
   * Retire a key (or, `compromised`, erase it at once). The primary cannot be removed: install
   * and use another key first, or the fleet would be left with nothing to seal with.
   */
  remove(id: number, compromised = false): void {
    const cur = this.#records.get(id);
    if (!cur || (this.state(id) === 'gone' && !compromised) || (cur.compromised && compromised)) {
      throw new KeyNotInstalledError(`fleet key ${formatKeyId(id)}: not installed`);
    }
    if (id === this.primaryId) throw new Error(`fleet key ${formatKeyId(id)}: is the primary; install and use another key first`);
    this.#records.set(id, compromised ? { id, installed: cur.installed, used: cur.used, removed: this.#next(), compromised } : { ...cur, removed: this.#next() });
  }

  /** Take in another keyring's records. Returns true when anything here changed. */
  merge(records: readonly KeyRecord[]): boolean {
    let changed = false;
    for (const r of records) {
      if (!validStamps(r)) continue; // unordered garbage; offers and the keyring file refuse it by name before this
      this.#stamp = Math.max(this.#stamp, r.installed, r.used, r.removed);
      const cur = this.#records.get(r.id);
      if (r.key && keyId(r.key) !== r.id) continue; // a record whose key does not match its id is garbage
      if (!cur) {
        if (!r.key && !r.compromised) continue;
        if (this.#records.size >= MAX_KEYS) this.#purgeOne();
        if (this.#records.size >= MAX_KEYS) continue;
        this.#records.set(r.id, r.compromised ? { ...r, key: undefined } : r);
        changed = true;
        continue;
      }
      const compromised = cur.compromised || r.compromised;
      const next: KeyRecord = {
        id: r.id,
        key: compromised ? undefined : (cur.key ?? r.key),
        installed: Math.max(cur.installed, r.installed),
        used: Math.max(cur.used, r.used),
        removed: Math.max(cur.removed, r.removed),
        compromised,
      };
      if (next.installed !== cur.installed || next.used !== cur.used || next.removed !== cur.removed || next.compromised !== cur.compromised || next.key !== cur.key) {
        this.#records.set(r.id, next);
        changed = true;
      }
    }
    return changed;
  }

  /** The oldest record that no longer matters (retired past its grace, or compromised long ago). */
  #purgeOne(): void {
    let victim: KeyRecord | undefined;
    for (const r of this.#records.values()) {
      if (this.state(r.id) === 'gone' && (!victim || r.removed < victim.removed)) victim = r;
    }
    if (victim) this.#records.delete(victim.id);
  }

  /** The earliest-installed active key that was never used and is not the primary. */
  #dropUnusedCandidate(): void {
    const primary = this.primaryId;
    let victim: KeyRecord | undefined;
    for (const r of this.#records.values()) {
      if (r.used === 0 && r.id !== primary && this.state(r.id) === 'active' && (!victim || r.installed < victim.installed)) victim = r;
    }
    if (victim) this.#records.delete(victim.id);
  }

  state(id: number): KeyState | undefined {
    const r = this.#records.get(id);
    if (!r) return undefined;
    if (r.compromised || !r.key) return 'gone';
    if (r.installed > r.removed) return 'active';
    return this.wallClock() - r.removed < this.graceMs ? 'retired' : 'gone';
  }

  /** The active key used most recently; a freshly provisioned ring's only key. */
  get primaryId(): number | undefined {
    let best: KeyRecord | undefined;
    for (const r of this.#records.values()) {
      if (this.state(r.id) !== 'active') continue;
      if (!best || r.used > best.used || (r.used === best.used && (r.installed > best.installed || (r.installed === best.installed && r.id > best.id)))) best = r;
    }
    return best?.id;
  }

  /** The key bytes for opening a frame, with whether its contents may be trusted (active) or only answered (retired). */
  lookup(id: number): { readonly key: Uint8Array; readonly state: 'active' | 'retired' } | undefined {
    const s = this.state(id);
    if (s !== 'active' && s !== 'retired') return undefined;
    return { key: this.#records.get(id)!.key!, state: s };
  }

  records(): KeyRecord[] {
    return [...this.#records.values()];
  }

  get size(): number {
    return this.#records.size;
  }
}

/** Whether a record's stamps are whole milliseconds between 0 and MAX_STAMP. */
export function validStamps(r: Pick<KeyRecord, 'installed' | 'used' | 'removed'>): boolean {
  const ok = (t: number): boolean => Number.isSafeInteger(t) && t >= 0 && t <= MAX_STAMP;
  return ok(r.installed) && ok(r.used) && ok(r.removed);
}
