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
// Pure: the caller (runtime/agent/key-sync.ts) keeps the pending promotions and the clock.

import { MAX_STAMP, validStamps, Keyring, type KeyRecord } from './keyring.js';

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
  const bound = Math.min(MAX_STAMP, Math.max(Number.isFinite(wallNow) ? wallNow : 0, ring.lastStamp) + STAMP_AHEAD_MS);
  for (const r of offer) if (!validStamps(r) || r.installed > bound || r.used > bound || r.removed > bound) return { ok: false, reason: 'stamp-out-of-range' };
  const promotions: Promotion[] = [];
  let records = offer.map((r): KeyRecord => {
    const cur = ring.record(r.id);
    if (r.used <= (cur?.used ?? 0)) return r;
    promotions.push({ id: r.id, used: r.used });
    return { ...r, used: cur?.used ?? 0 };
  });
  const kept: number[] = [];
  const keep = (which: (id: number) => boolean): void => {
    records = records.map((r) => {
      const cur = ring.record(r.id);
      if (!cur || ring.state(r.id) !== 'active' || !which(r.id)) return r;
      const takesIt = r.compromised || Math.max(r.removed, cur.removed) >= Math.max(r.installed, cur.installed);
      if (!takesIt) return r;
      if (!kept.includes(r.id)) kept.push(r.id);
      return { ...r, removed: cur.removed, compromised: false };
    });
  };
  const primary = ring.primaryId;
  keep((id) => id === primary);
  if (leavesNoWorkingKey(ring, records)) keep(() => true);
  return { ok: true, records, promotions, kept };
}

function leavesNoWorkingKey(ring: Keyring, records: readonly KeyRecord[]): boolean {
  const trial = new Keyring(ring.graceMs, ring.wallClock, ring.records());
  trial.merge(records);
  return trial.primaryId === undefined;
}
