// What a keyring offer from another device may change here. Every member holds the fleet key
// and a passport, so an offer's signature says who sent it, not that the sender may decide for
// the fleet. Without an admin's signature on keyring changes, no single device may take the
// fleet's key away:
//
// - Adding a key is always allowed: a candidate that opens, and seals nothing until promoted.
// - A promotion (a later `used` stamp) takes effect here only after PROMOTION_DELAY_MS since
//   this device first heard of it, and only if no later promotion arrived meanwhile: an
//   unexpected promotion is logged and can be overruled by the operator's own `keys use` (a
//   later stamp, which wins) before it takes effect.
// - Retiring or erasing keys is allowed for keys this device does not seal with, and only
//   while it keeps a working (active) key. The key it seals with changes only by a promotion,
//   so an offer cannot switch the fleet to a key of its choosing at once by taking the primary
//   away. A change that would leave no working key is refused for every key it would take.
// - Stamps are bounded: whole milliseconds, at most STAMP_AHEAD_MS past the later of this
//   device's clock and the newest stamp it already holds, never past MAX_STAMP. An offer with
//   one stamp out of range is refused whole.
//
// In a fleet with an admin key the admin decides instead (vetGrantedOffer): an offer changes
// here only what the admin's grant (its signature over the keyring's stamps and key digests,
// checked by the caller) covers, at once, since the signature is the authority the delay stands
// in for. A change an offer carries beyond its grant is refused, whatever it is. The one rule
// that stays is that nothing leaves this device without a working key.
//
// Pure: the caller (runtime/agent/key-sync.ts) keeps the pending promotions and the clock.

import type { GrantedKey } from '../wire/keyring-offer.js';
import { keyDigest, MAX_STAMP, validStamps, Keyring, type KeyRecord } from './keyring.js';

/** How long a promotion heard from another device waits before this device seals with the key. */
export const PROMOTION_DELAY_MS = 60_000;
/**
 * How far past this device's clock (or its newest stamp, when its clock is behind after a boot
 * without a real-time clock) an offer's stamps may be. A stamp ahead only orders a change
 * earlier than it should; the operator's next change still goes past it.
 */
export const STAMP_AHEAD_MS = 30 * 86_400_000;

export interface Promotion {
  readonly id: number;
  readonly used: number;
}

export type OfferVerdict =
  | { readonly ok: false; readonly reason: 'stamp-out-of-range' }
  | {
      readonly ok: true;
      /** What may be merged now: the offer without its promotions and without changes that would leave no working key. */
      readonly records: KeyRecord[];
      /** Later `used` stamps, to be merged once they have waited PROMOTION_DELAY_MS. */
      readonly promotions: Promotion[];
      /** Keys whose retirement or erasure was refused: the one this device seals with, or its last working key. */
      readonly kept: number[];
    };

export function vetOffer(ring: Keyring, offer: readonly KeyRecord[], wallNow: number): OfferVerdict {
  const bound = stampBound(ring, wallNow);
  for (const r of offer) if (!validStamps(r) || r.installed > bound || r.used > bound || r.removed > bound) return { ok: false, reason: 'stamp-out-of-range' };
  const promotions: Promotion[] = [];
  let records = offer.map((r): KeyRecord => {
    const cur = ring.record(r.id);
    if (r.used <= (cur?.used ?? 0)) return r;
    promotions.push({ id: r.id, used: r.used });
    return { ...r, used: cur?.used ?? 0 };
  });
  const kept: number[] = [];
  const primary = ring.primaryId;
  records = keepKeys(ring, records, kept, (id) => id === primary);
  if (leavesNoWorkingKey(ring, records)) records = keepKeys(ring, records, kept, () => true);
  return { ok: true, records, promotions, kept };
}

export type GrantVerdict =
  | { readonly ok: false; readonly reason: 'stamp-out-of-range' }
  | {
      readonly ok: true;
      /** What may be merged now: the granted stamps, with key bytes that match the grant's digests. */
      readonly records: KeyRecord[];
      /** Keys the offer changed beyond what the grant covers (or offered other bytes for): refused. */
      readonly unsigned: number[];
      /** Keys whose retirement or erasure was refused: this device's last working key. */
      readonly kept: number[];
    };

/**
 * What an offer may change in a fleet with an admin: what `granted` (the admin's signed keyring,
 * already checked; undefined when the offer carries none) covers. Each granted key is taken with
 * the grant's stamps, and with bytes this device holds or the offer carries, if they match the
 * grant's digest.
 */
export function vetGrantedOffer(ring: Keyring, offer: readonly KeyRecord[], granted: readonly GrantedKey[] | undefined, wallNow: number): GrantVerdict {
  const bound = stampBound(ring, wallNow);
  for (const r of [...offer, ...(granted ?? [])]) if (!validStamps(r) || r.installed > bound || r.used > bound || r.removed > bound) return { ok: false, reason: 'stamp-out-of-range' };
  const grants = new Map((granted ?? []).map((g) => [g.id, g]));
  const unsigned: number[] = [];
  const matches = (key: Uint8Array | undefined, g: GrantedKey): boolean => key !== undefined && g.digest !== undefined && sameBytes(keyDigest(key), g.digest);
  for (const r of offer) {
    const cur = ring.record(r.id);
    const g = grants.get(r.id);
    const beyond = (t: 'installed' | 'used' | 'removed'): boolean => r[t] > Math.max(cur?.[t] ?? 0, g?.[t] ?? 0);
    const otherBytes = r.key !== undefined && !(cur?.key !== undefined ? sameBytes(cur.key, r.key) : g !== undefined && matches(r.key, g));
    if (beyond('installed') || beyond('used') || beyond('removed') || (r.compromised && !cur?.compromised && !g?.compromised) || otherBytes) unsigned.push(r.id);
  }
  let records: KeyRecord[] = [];
  for (const g of grants.values()) {
    const cur = ring.record(g.id);
    const offered = offer.find((r) => r.id === g.id)?.key;
    const key = g.compromised ? undefined : matches(cur?.key, g) ? cur!.key : matches(offered, g) ? offered : undefined;
    // The grant names other bytes than this device holds under that id: not the key it means.
    if (cur?.key !== undefined && !g.compromised && g.digest !== undefined && !matches(cur.key, g)) continue;
    if (key === undefined && !g.compromised && cur === undefined) continue;
    records.push({ id: g.id, key: key ?? (g.compromised ? undefined : cur?.key), installed: g.installed, used: g.used, removed: g.removed, compromised: g.compromised });
  }
  const kept: number[] = [];
  if (leavesNoWorkingKey(ring, records)) records = keepKeys(ring, records, kept, () => true);
  return { ok: true, records, unsigned, kept };
}

function stampBound(ring: Keyring, wallNow: number): number {
  return Math.min(MAX_STAMP, Math.max(Number.isFinite(wallNow) ? wallNow : 0, ring.lastStamp) + STAMP_AHEAD_MS);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** `records` without the retirements and erasures they carry of active keys `which` picks (noted in `kept`). */
function keepKeys(ring: Keyring, records: readonly KeyRecord[], kept: number[], which: (id: number) => boolean): KeyRecord[] {
  return records.map((r) => {
    const cur = ring.record(r.id);
    if (!cur || ring.state(r.id) !== 'active' || !which(r.id)) return r;
    const takesIt = r.compromised || Math.max(r.removed, cur.removed) >= Math.max(r.installed, cur.installed);
    if (!takesIt) return r;
    if (!kept.includes(r.id)) kept.push(r.id);
    return { ...r, removed: cur.removed, compromised: false, key: r.key ?? cur.key };
  });
}

function leavesNoWorkingKey(ring: Keyring, records: readonly KeyRecord[]): boolean {
  const trial = new Keyring(ring.graceMs, ring.wallClock, ring.records());
  trial.merge(records);
  return trial.primaryId === undefined;
}
