// Per-owner versioned key/value state (scuttlebutt). Each device is the only authority for its
// own keys: only the owner assigns versions, and a replica accepts an entry only when its
// version is higher than what it holds for that key, within the owner's current generation.
// Gossip state is soft state: a replica may be behind, never ahead of, its owner.

import type { KvEntry, NodeRef, Value } from './messages.js';

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

export class KvStore {
  readonly #owners = new Map<string, OwnerState>();

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
      s = { gen: ref.gen, max: 0, gcFloor: 0, entries: new Map() };
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
    const version = s.max + 1;
    s.max = version;
    const e: KvEntry = { key, version, value, ttlMs };
    const sig = sign?.(e);
    s.entries.set(key, { version, value, ttlMs, at: now, sig });
    return sig ? { ...e, sig } : e;
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
    }
    for (const e of chunk.entries) {
      const cur = s.entries.get(e.key);
      if (cur && cur.version >= e.version) continue;
      s.entries.set(e.key, { version: e.version, value: e.value, ttlMs: e.ttlMs, at: now, sig: e.sig });
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
          s.entries.delete(key);
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
