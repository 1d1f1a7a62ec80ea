import { describe, expect, it } from 'vitest';
import { KvStore, OwnerCapError, type Applied } from '../../runtime/core/kv-store.js';
import type { KvEntry } from '../../runtime/core/messages.js';

const a1 = { id: 'a', gen: 1 };
const size = (e: KvEntry) => 10 + e.key.length;

function replicaOf(owner: KvStore, id = 'a', gen = 1): { store: KvStore; applied: Applied[] } {
  const store = new KvStore();
  store.ensure({ id, gen });
  const applied: Applied[] = [];
  for (const c of owner.deltaFor(id, 0, 10_000, size, 10)) store.apply({ id, gen }, c, 0, applied);
  return { store, applied };
}

describe('KvStore', () => {
  it('owner writes get increasing versions and replicas converge through deltas', () => {
    const owner = new KvStore();
    owner.write(a1, 'temp', 21.5, 0, 0);
    owner.write(a1, 'state', 'ok', 0, 0);
    owner.write(a1, 'temp', 22, 0, 0);
    const { store } = replicaOf(owner);
    expect(store.maxVersion('a')).toBe(3);
    expect(store.get('a', 'temp', 0)?.value).toBe(22);
    expect(store.get('a', 'state', 0)?.value).toBe('ok');
  });

  it('a stale or replayed version never overwrites a newer one', () => {
    const owner = new KvStore();
    owner.write(a1, 'k', 'old', 0, 0);
    const { store } = replicaOf(owner);
    owner.write(a1, 'k', 'new', 0, 0);
    const [fresh] = owner.deltaFor('a', 1, 10_000, size, 1);
    const applied: Applied[] = [];
    store.apply(a1, fresh!, 0, applied);
    expect(store.get('a', 'k', 0)?.value).toBe('new');
    // Replay the first delta: nothing changes.
    const replay = { fromV: 0, toV: 1, reset: false, entries: [{ key: 'k', version: 1, value: 'old', ttlMs: 0 }] };
    const again: Applied[] = [];
    store.apply(a1, replay, 0, again);
    expect(again).toEqual([]);
    expect(store.get('a', 'k', 0)?.value).toBe('new');
    expect(store.maxVersion('a')).toBe(2);
  });

  it('an entry at the version already held never replaces it, whatever its value or signature; one version higher does', () => {
    const owner = new KvStore();
    const signature = new Uint8Array(64).fill(7);
    owner.write(a1, 'door', 'closed', 0, 0, () => signature);
    const { store } = replicaOf(owner);
    expect(store.heldVersion(a1, 'door')).toBe(1);

    const forged = { key: 'door', version: 1, value: 'open', ttlMs: 0, sig: new Uint8Array(64) };
    const applied: Applied[] = [];
    store.apply(a1, { fromV: 0, toV: 1, reset: false, entries: [forged] }, 5, applied);
    expect(applied).toEqual([]);
    expect(store.get('a', 'door', 5)).toEqual({ version: 1, value: 'closed', ttlMs: 0, at: 0, sig: signature });

    store.apply(a1, { fromV: 1, toV: 2, reset: false, entries: [{ key: 'door', version: 2, value: 'open', ttlMs: 0 }] }, 6, applied);
    expect(applied).toEqual([{ key: 'door', value: 'open', version: 2 }]);
    expect(store.get('a', 'door', 6)?.value).toBe('open');
  });

  it('does not advance the watermark across a gap, but still applies newer entries', () => {
    const store = new KvStore();
    store.ensure(a1);
    const applied: Applied[] = [];
    store.apply(a1, { fromV: 5, toV: 6, reset: false, entries: [{ key: 'x', version: 6, value: 1, ttlMs: 0 }] }, 0, applied);
    expect(store.maxVersion('a')).toBe(0);
    expect(store.get('a', 'x', 0)?.value).toBe(1);
  });

  it('ignores deltas for another generation of the owner', () => {
    const store = new KvStore();
    store.ensure({ id: 'a', gen: 2 });
    const applied: Applied[] = [];
    store.apply(a1, { fromV: 0, toV: 1, reset: false, entries: [{ key: 'x', version: 1, value: 1, ttlMs: 0 }] }, 0, applied);
    expect(applied).toEqual([]);
    expect(store.get('a', 'x', 0)).toBeUndefined();
  });

  it('a newer generation wipes the old state', () => {
    const store = new KvStore();
    store.write(a1, 'x', 1, 0, 0);
    store.ensure({ id: 'a', gen: 2 });
    expect(store.get('a', 'x', 0)).toBeUndefined();
    expect(store.maxVersion('a')).toBe(0);
  });

  it('splits a large delta into chunks that each extend the watermark, never truncating', () => {
    const owner = new KvStore();
    for (let i = 0; i < 50; i++) owner.write(a1, `key-${i}`, i, 0, 0);
    const chunks = owner.deltaFor('a', 0, 100, size, 100);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.entries.reduce((s, e) => s + size(e), 0)).toBeLessThanOrEqual(100);
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.fromV).toBe(chunks[i - 1]!.toV);
    expect(chunks.at(-1)!.toV).toBe(50);
    expect(chunks.flatMap((c) => c.entries).length).toBe(50);
  });

  it('deletes travel as tombstones, and a replica too old for purged tombstones is reset', () => {
    const owner = new KvStore();
    owner.write(a1, 'gone', 1, 0, 0);
    owner.write(a1, 'kept', 2, 0, 0);
    const { store: lagging } = replicaOf(owner);
    owner.write(a1, 'gone', null, 0, 1000);
    owner.write(a1, 'later', 4, 0, 1000);
    const expired: string[] = [];
    owner.sweepOwner('a', true, 1000 + 600_000, 600_000, expired);
    expect(owner.owner('a')!.gcFloor).toBe(3);
    const chunks = owner.deltaFor('a', lagging.maxVersion('a'), 10_000, size, 10);
    expect(chunks[0]!.reset).toBe(true);
    const applied: Applied[] = [];
    for (const c of chunks) lagging.apply(a1, c, 0, applied);
    expect(lagging.get('a', 'gone', 0)).toBeUndefined();
    expect(lagging.get('a', 'kept', 0)?.value).toBe(2);
  });

  it('the newest entry is never purged, even a tombstone, so every delta ends on a version the owner signed', () => {
    const owner = new KvStore();
    owner.write(a1, 'k', 1, 0, 0);
    owner.write(a1, 'k', null, 0, 0);
    owner.sweepOwner('a', true, 10_000_000, 600_000, []);
    expect(owner.owner('a')!.entries.get('k')?.version).toBe(2);
    const [chunk] = owner.deltaFor('a', 0, 10_000, size, 10);
    expect(chunk!.toV).toBe(2);
    expect(chunk!.entries.map((e) => e.version)).toEqual([2]);
  });

  it('a replica never hands out entries above its watermark (they arrived out of order) in a chunk that ends below them', () => {
    const owner = new KvStore();
    for (let v = 1; v <= 4; v++) owner.write(a1, `k${v}`, v, 0, 0);
    const replica = new KvStore();
    replica.ensure(a1);
    const [all] = owner.deltaFor('a', 0, 10_000, size, 10);
    replica.apply(a1, { fromV: 0, toV: 2, reset: false, entries: all!.entries.slice(0, 2) }, 0, []);
    replica.apply(a1, { fromV: 3, toV: 4, reset: false, entries: all!.entries.slice(3) }, 0, []);
    expect(replica.maxVersion('a')).toBe(2);
    // What the gatekeeper checks a relay's watermark against: the entry ahead of it counts.
    expect(replica.highestHeld(a1)).toBe(4);
    expect(replica.heldVersion(a1, 'k4')).toBe(4);
    expect(replica.heldVersion({ ...a1, gen: a1.gen + 1 }, 'k4')).toBeUndefined();
    const [chunk] = replica.deltaFor('a', 0, 10_000, size, 10);
    expect(chunk!.toV).toBe(2);
    expect(chunk!.entries.every((e) => e.version <= chunk!.toV)).toBe(true);
  });

  it('TTL: replicas hide an expired value; the owner turns it into a deletion', () => {
    const owner = new KvStore();
    owner.write(a1, 'blip', 'x', 1000, 0);
    expect(owner.get('a', 'blip', 999)?.value).toBe('x');
    expect(owner.get('a', 'blip', 1000)).toBeUndefined();
    const expired: string[] = [];
    owner.sweepOwner('a', true, 1000, 600_000, expired);
    expect(expired).toEqual(['blip']);
  });
});

describe('KvStore: per-owner caps', () => {
  const limits = { maxKeys: 256, maxBytes: 64 * 1024 };
  const big = 'x'.repeat(880);

  it('memory stays bounded under 20,000 entries from one owner: beyond the caps entries are refused and counted', () => {
    const replica = new KvStore(limits);
    replica.ensure(a1);
    const sig = new Uint8Array(64);
    // 900-byte entries, one new key each, as a flood from one device that holds the fleet key.
    for (let v = 1; v <= 20_000; v++) {
      const e = { key: `flood/${String(v).padStart(6, '0')}`, version: v, value: big, ttlMs: 0, sig };
      replica.apply(a1, { fromV: v - 1, toV: v, reset: false, entries: [e] }, 0, []);
    }
    const s = replica.owner('a')!;
    let bytes = 0;
    for (const [k, e] of s.entries) bytes += k.length + (typeof e.value === 'string' ? e.value.length : 8);
    expect(s.entries.size).toBeLessThanOrEqual(limits.maxKeys);
    expect(bytes).toBeLessThanOrEqual(limits.maxBytes);
    expect(s.entries.size).toBe(Math.floor(limits.maxBytes / (12 + 880)));
    expect(replica.ownerCapRefused).toBe(20_000 - s.entries.size);
    // The watermark still moves: the refused entries are not asked for again and again.
    expect(replica.maxVersion('a')).toBe(20_000);
  });

  it('the key cap: small entries stop at maxKeys; replacing a held key and deleting still work', () => {
    const replica = new KvStore(limits);
    replica.ensure(a1);
    for (let v = 1; v <= 1000; v++) replica.apply(a1, { fromV: v - 1, toV: v, reset: false, entries: [{ key: `k${v}`, version: v, value: v, ttlMs: 0 }] }, 0, []);
    expect(replica.owner('a')!.entries.size).toBe(256);
    expect(replica.ownerCapRefused).toBe(744);
    const applied: Applied[] = [];
    replica.apply(a1, { fromV: 1000, toV: 1002, reset: false, entries: [{ key: 'k1', version: 1001, value: 'new', ttlMs: 0 }, { key: 'k2', version: 1002, value: null, ttlMs: 0 }] }, 0, applied);
    expect(applied.map((a) => a.key)).toEqual(['k1', 'k2']);
    expect(replica.get('a', 'k1', 0)?.value).toBe('new');
    // A deletion makes room for one more key.
    replica.apply(a1, { fromV: 1002, toV: 1003, reset: false, entries: [{ key: 'fresh', version: 1003, value: 1, ttlMs: 0 }] }, 0, []);
    expect(replica.get('a', 'fresh', 0)?.value).toBe(1);
  });

  it("the owner's own write past a cap is refused with an error naming the key and the cap, and changes nothing", () => {
    const owner = new KvStore({ maxKeys: 3, maxBytes: 1000 });
    for (let i = 0; i < 3; i++) owner.write(a1, `k${i}`, i, 0, 0);
    expect(() => owner.write(a1, 'k3', 3, 0, 0)).toThrow(OwnerCapError);
    expect(() => owner.write(a1, 'k3', 3, 0, 0)).toThrow(/key "k3": .*holds 3 keys, the cap is 3 per device/);
    expect(() => owner.write(a1, 'k0', 'y'.repeat(1000), 0, 0)).toThrow(/key "k0": 1002 bytes .* cap of 1000 bytes per device/);
    expect(owner.maxVersion('a')).toBe(3);
    // Replacing a held key is within the cap.
    expect(owner.write(a1, 'k0', 'again', 0, 0).version).toBe(4);
    owner.write(a1, 'k1', null, 0, 0);
    expect(owner.write(a1, 'k3', 3, 0, 0).version).toBe(6);
  });

  it('tombstones are held up to the key cap besides; the oldest goes first and raises the floor, the newest never', () => {
    const owner = new KvStore({ maxKeys: 4, maxBytes: 1000 });
    // Create and delete 10 keys: 10 tombstones would pile up without a bound.
    for (let i = 0; i < 10; i++) {
      owner.write(a1, `t${i}`, i, 0, 0);
      owner.write(a1, `t${i}`, null, 0, 0);
    }
    const s = owner.owner('a')!;
    expect(s.entries.size).toBe(4);
    expect(s.entries.get('t9')?.version).toBe(20);
    expect(s.gcFloor).toBe(12);
    // A replica that follows every write holds the same.
    const { store } = replicaOf(owner);
    expect(store.owner('a')!.entries.size).toBeLessThanOrEqual(5);
  });
});
