// Per-owner versioned key/value state (scuttlebutt). Each device is the only authority for its
// own keys: only the owner assigns versions, and a replica accepts an entry only when its
// version is higher than what it holds for that key, within the owner's current generation.
// Gossip state is soft state: a replica may be behind, never ahead of, its owner.

import type { KvEntry, NodeRef, Value } from './messages.js';
import { utf8Length } from './packing.js';

/**
 * What one owner may hold in every replica (see Profile.ownerMaxKeys). Replicas enforce the same
 * caps as the owner, so an honest owner never writes what its replicas would refuse, and a
 * device that holds the fleet key cannot make every other device hold without limit.
 */
export interface OwnerLimits {
  /** Live (not deleted) keys per owner. Tombstones are held up to the same count besides. */
  readonly maxKeys: number;
  /** Bytes of keys and values per owner, as UTF-8 (numbers, booleans: 8). */
  readonly maxBytes: number;
}

/** An owner's own write refused by its caps: the message names the key and the cap. */
export class OwnerCapError extends Error {}

/** The cost of one live entry against OwnerLimits.maxBytes: its key and its value, signature aside. */
export function entryBytes(key: string, value: Value | null): number {
  const v = typeof value === 'string' ? utf8Length(value) : value instanceof Uint8Array ? value.length : 8;
  return utf8Length(key) + v;
}

export interface StoredEntry {
  readonly version: number;
  readonly value: Value | null;
  readonly ttlMs: number;
  /** Local time this replica learned the entry (or the owner wrote it). TTL and tombstone age count from here. */
  readonly at: number;
  /** The owner's signature, kept to pass on (see KvEntry.sig). */
  readonly sig?: Uint8Array | undefined;
}

export interface OwnerState {
  gen: number;
  /** Every entry with version <= max is held (or was superseded): the scuttlebutt watermark. */
  max: number;
  /** Highest version of a tombstone purged from this copy; a peer below it must be reset. */
  gcFloor: number;
  readonly entries: Map<string, StoredEntry>;
  /** Live entries, their entryBytes, and tombstones: kept in step with `entries` for the caps. */
  live: number;
  bytes: number;
  tombstones: number;
}

/** A live value as the world outside the core sees it. */
export interface LiveValue {
  readonly value: Value;
  readonly version: number;
  /** 0 for no expiry. */
  readonly ttlMs: number;
  /** Local time this node learned it (or wrote it, for its own keys); the TTL counts from here. */
  readonly at: number;
}

export interface Applied {
  readonly key: string;
  readonly value: Value | null;
  readonly version: number;
}

export interface DeltaChunk {
  readonly fromV: number;
  readonly toV: number;
  readonly reset: boolean;
  readonly entries: readonly KvEntry[];
}

function newOwner(gen: number): OwnerState {
  return { gen, max: 0, gcFloor: 0, entries: new Map(), live: 0, bytes: 0, tombstones: 0 };
}

export class KvStore {
  readonly #owners = new Map<string, OwnerState>();
  readonly #limits: OwnerLimits;
  /** Entries from peers refused because their owner was at its cap (counted as `owner-cap`). */
  ownerCapRefused = 0;

  constructor(limits: OwnerLimits = { maxKeys: 256, maxBytes: 64 * 1024 }) {
    this.#limits = limits;
  }

  owner(id: string): OwnerState | undefined {
    return this.#owners.get(id);
  }

  maxVersion(id: string): number {
    return this.#owners.get(id)?.max ?? 0;
  }

  /** Start (or restart) tracking an owner's generation. A newer generation wipes the old state. */
  ensure(ref: NodeRef): OwnerState {
    let s = this.#owners.get(ref.id);
    if (!s || s.gen < ref.gen) {
      s = newOwner(ref.gen);
      this.#owners.set(ref.id, s);
    }
    return s;
  }

  drop(id: string): void {
    this.#owners.delete(id);
  }

  /** The owner writes its own key, signed by `sign` when given. Returns the entry to disseminate. */
  write(self: NodeRef, key: string, value: Value | null, ttlMs: number, now: number, sign?: (e: KvEntry) => Uint8Array | undefined): KvEntry {
    const s = this.ensure(self);
    const over = this.#overCap(s, key, value);
    if (over === 'keys') {
      throw new OwnerCapError(`key "${key}": this device already holds ${s.live} keys, the cap is ${this.#limits.maxKeys} per device; delete one first`);
    }
    if (over === 'bytes') {
      throw new OwnerCapError(
        `key "${key}": ${entryBytes(key, value)} bytes would take this device's keys and values past the cap of ${this.#limits.maxBytes} bytes per device (${s.bytes} held)`,
      );
    }
    const version = s.max + 1;
    s.max = version;
    const e: KvEntry = { key, version, value, ttlMs };
    const sig = sign?.(e);
    this.#put(s, key, { version, value, ttlMs, at: now, sig });
    return sig ? { ...e, sig } : e;
  }

  /** Which cap holding `value` under `key` would break, if any. A deletion only frees room. */
  #overCap(s: OwnerState, key: string, value: Value | null): 'keys' | 'bytes' | undefined {
    if (value === null) return undefined;
    const cur = s.entries.get(key);
    const curLive = cur !== undefined && cur.value !== null;
    if (!curLive && s.live + 1 > this.#limits.maxKeys) return 'keys';
    const bytes = s.bytes - (curLive ? entryBytes(key, cur.value) : 0) + entryBytes(key, value);
    return bytes > this.#limits.maxBytes ? 'bytes' : undefined;
  }

  /** Hold `e` for `key`, keeping the counters in step. Tombstones past the cap go oldest first. */
  #put(s: OwnerState, key: string, e: StoredEntry): void {
    this.#unhold(s, key);
    s.entries.set(key, e);
    if (e.value === null) s.tombstones++;
    else {
      s.live++;
      s.bytes += entryBytes(key, e.value);
    }
    while (s.tombstones > this.#limits.maxKeys && this.#purgeOldestTombstone(s));
  }

  #unhold(s: OwnerState, key: string): void {
    const cur = s.entries.get(key);
    if (!cur) return;
    s.entries.delete(key);
    if (cur.value === null) s.tombstones--;
    else {
      s.live--;
      s.bytes -= entryBytes(key, cur.value);
    }
  }

  /**
   * Replicas follow the same rule as the owner, and a peer left behind a purged tombstone is
   * reset through gcFloor (deltaFor), as after sweepOwner. Never the newest entry: see sweepOwner.
   */
  #purgeOldestTombstone(s: OwnerState): boolean {
    let oldest: [string, StoredEntry] | undefined;
    for (const kv of s.entries) {
      if (kv[1].value === null && kv[1].version !== s.max && (!oldest || kv[1].version < oldest[1].version)) oldest = kv;
    }
    if (!oldest) return false;
    this.#unhold(s, oldest[0]);
    if (oldest[1].version > s.gcFloor) s.gcFloor = oldest[1].version;
    return true;
  }

  /**
   * Apply part of an owner's state received from a peer. Entries are accepted one by one when
   * newer than ours (always safe: per-key versions only grow within a generation); the
   * watermark advances only when the chunk starts at or below it, so no gap is ever papered over.
   */
  apply(owner: NodeRef, chunk: DeltaChunk, now: number, out: Applied[]): void {
    const s = this.#owners.get(owner.id);
    if (!s || s.gen !== owner.gen) return;
    if (chunk.reset && chunk.fromV === 0 && s.max < chunk.toV) {
      for (const [key, e] of s.entries) {
        if (e.value !== null) out.push({ key, value: null, version: e.version });
      }
      s.entries.clear();
      s.max = 0;
      s.gcFloor = 0;
      s.live = 0;
      s.bytes = 0;
      s.tombstones = 0;
    }
    for (const e of chunk.entries) {
      const cur = s.entries.get(e.key);
      if (cur && cur.version >= e.version) continue;
      // Past its cap the owner is either not honest or runs other caps: refuse what would not
      // fit, and still move the watermark, so the entry is not asked for again and again.
      if (this.#overCap(s, e.key, e.value) !== undefined) {
        this.ownerCapRefused++;
        continue;
      }
      this.#put(s, e.key, { version: e.version, value: e.value, ttlMs: e.ttlMs, at: now, sig: e.sig });
      out.push({ key: e.key, value: e.value, version: e.version });
    }
    if (s.max >= chunk.fromV && chunk.toV > s.max) s.max = chunk.toV;
  }

  /** The version held for `key` of this owner's life, if any. */
  heldVersion(owner: NodeRef, key: string): number | undefined {
    const s = this.#owners.get(owner.id);
    return s && s.gen === owner.gen ? s.entries.get(key)?.version : undefined;
  }

  /** The highest version held of this owner's life: the watermark, or an entry that arrived ahead of it. */
  highestHeld(owner: NodeRef): number {
    const s = this.#owners.get(owner.id);
    if (!s || s.gen !== owner.gen) return 0;
    let m = s.max;
    for (const e of s.entries.values()) if (e.version > m) m = e.version;
    return m;
  }

  /** A live (not deleted, not expired) value. */
  get(ownerId: string, key: string, now: number): StoredEntry | undefined {
    const e = this.#owners.get(ownerId)?.entries.get(key);
    if (!e || e.value === null) return undefined;
    if (e.ttlMs > 0 && now - e.at >= e.ttlMs) return undefined;
    return e;
  }

  /**
   * Entries a peer holding everything up to `fromV` lacks, packed into chunks of at most
   * `budget` bytes of entries as measured by `size`. Chunks are in version order, so each one
   * extends the receiver's watermark. Returns at most `maxChunks`; the rest waits for the next round.
   */
  deltaFor(
    ownerId: string,
    fromV: number,
    budget: number,
    size: (e: KvEntry) => number,
    maxChunks: number,
  ): DeltaChunk[] {
    const s = this.#owners.get(ownerId);
    if (!s || s.max <= fromV) return [];
    const reset = fromV < s.gcFloor;
    const start = reset ? 0 : fromV;
    const pending: KvEntry[] = [];
    for (const [key, e] of s.entries) {
      // Entries above the watermark arrived out of order; they belong to a later chunk, and a
      // receiver refuses a chunk whose entries lie outside (fromV, toV].
      if (e.version > start && e.version <= s.max) pending.push(e.sig ? { key, version: e.version, value: e.value, ttlMs: e.ttlMs, sig: e.sig } : { key, version: e.version, value: e.value, ttlMs: e.ttlMs });
    }
    pending.sort((a, b) => a.version - b.version);
    const chunks: DeltaChunk[] = [];
    let i = 0;
    let from = start;
    while (chunks.length < maxChunks) {
      const entries: KvEntry[] = [];
      let used = 0;
      while (i < pending.length) {
        const e = pending[i]!;
        const n = size(e);
        if (entries.length > 0 && used + n > budget) break;
        if (entries.length === 0 && n > budget) {
          // Cannot happen for entries within the wire limits; skip rather than loop forever.
          i++;
          continue;
        }
        entries.push(e);
        used += n;
        i++;
      }
      const done = i >= pending.length;
      const toV = done ? s.max : entries[entries.length - 1]!.version;
      chunks.push({ fromV: from, toV, reset: reset && from === 0, entries });
      from = toV;
      if (done) break;
    }
    return chunks;
  }

  /**
   * Housekeeping on one owner's copy: expired TTL values on the owner become tombstones (the
   * owner is the authority; replicas just hide them), and tombstones older than `tombstoneMs`
   * are purged, raising gcFloor so lagging peers get a reset instead of a stale value forever.
   */
  sweepOwner(ownerId: string, isSelf: boolean, now: number, tombstoneMs: number, expiredOut: string[]): void {
    const s = this.#owners.get(ownerId);
    if (!s) return;
    for (const [key, e] of s.entries) {
      if (e.value === null) {
        // The newest entry is never purged, tombstone or not: a delta's last version is then
        // always an entry the owner signed, which is how a receiver checks that a relay did
        // not inflate it (runtime/trust/gatekeeper.ts). One tombstone per owner at most.
        if (now - e.at >= tombstoneMs && e.version !== s.max) {
          this.#unhold(s, key);
          if (e.version > s.gcFloor) s.gcFloor = e.version;
        }
      } else if (isSelf && e.ttlMs > 0 && now - e.at >= e.ttlMs) {
        expiredOut.push(key);
      }
    }
  }

  owners(): IterableIterator<[string, OwnerState]> {
    return this.#owners.entries();
  }
}
