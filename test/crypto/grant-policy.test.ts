// What an offer may change in a fleet with an admin key: exactly what the admin's grant covers,
// at once, and never this device's last working key (runtime/crypto/offer-policy.ts).
import { describe, expect, it } from 'vitest';
import { grantedKeys, keyDigest, keyId, Keyring, type KeyRecord } from '../../runtime/crypto/keyring.js';
import { STAMP_AHEAD_MS, vetGrantedOffer, vetOffer } from '../../runtime/crypto/offer-policy.js';

const WALL = Date.UTC(2026, 11, 4, 12);
const fleetKey = new Uint8Array(32).fill(1);
const newKey = new Uint8Array(32).fill(2);
const FLEET = keyId(fleetKey);
const NEW = keyId(newKey);

const ringOf = (...keys: Uint8Array[]): Keyring => {
  const r = new Keyring(86_400_000, () => WALL - 1000);
  r.use(r.install(keys[0]!));
  for (const k of keys.slice(1)) r.install(k);
  return r;
};
/** The keyring `ring` would be after `change` (what the admin signs). */
const after = (ring: Keyring, change: (r: Keyring) => void): KeyRecord[] => {
  const t = new Keyring(ring.graceMs, () => WALL, ring.records());
  change(t);
  return t.records();
};

describe('offers in a fleet with an admin', () => {
  it('without a grant, adding, promoting or erasing is refused as unsigned and nothing is merged; the no-admin rules would have let the add through', () => {
    const ring = ringOf(fleetKey);
    const theirs = after(ring, (r) => r.use(r.install(newKey)));
    const v = vetGrantedOffer(ring, theirs, undefined, WALL);
    expect(v).toEqual({ ok: true, records: [], unsigned: [NEW], kept: [] });
    const erase = vetGrantedOffer(ring, [{ ...ring.record(FLEET)!, key: undefined, removed: WALL, compromised: true }], undefined, WALL);
    expect(erase.ok && erase.unsigned).toEqual([FLEET]);
    const noAdmin = vetOffer(ring, theirs, WALL);
    expect(noAdmin.ok && noAdmin.records.map((r) => r.id)).toContain(NEW);
  });

  it('with a grant, its stamps are taken at once (a promotion included), with key bytes only where they match its digest', () => {
    const ring = ringOf(fleetKey);
    const theirs = after(ring, (r) => r.use(r.install(newKey)));
    const v = vetGrantedOffer(ring, theirs, grantedKeys(theirs), WALL);
    if (!v.ok) throw new Error('refused');
    expect(v.unsigned).toEqual([]);
    const trial = new Keyring(ring.graceMs, () => WALL, ring.records());
    trial.merge(v.records);
    expect(trial.primaryId).toBe(NEW);
    // Other bytes under the granted id: refused as unsigned, and the key is not installed.
    const forged = theirs.map((r) => (r.id === NEW ? { ...r, key: new Uint8Array(32).fill(66) } : r));
    const f = vetGrantedOffer(ring, forged, grantedKeys(theirs), WALL);
    expect(f.ok && f.unsigned).toEqual([NEW]);
    expect(f.ok && f.records.find((r) => r.id === NEW)).toBeUndefined();
    expect(keyDigest(newKey)).toHaveLength(16);
  });

  it('a grant stamp far in the future is refused whole; a grant erasing the last working key keeps it', () => {
    const ring = ringOf(fleetKey);
    const far = grantedKeys(ring.records()).map((g) => ({ ...g, used: WALL + STAMP_AHEAD_MS + 1 }));
    expect(vetGrantedOffer(ring, [], far, WALL)).toEqual({ ok: false, reason: 'stamp-out-of-range' });
    const erase = [{ id: FLEET, digest: undefined, installed: WALL - 1000, used: WALL - 999, removed: WALL, compromised: true }];
    const v = vetGrantedOffer(ring, [], erase, WALL);
    expect(v.ok && v.kept).toEqual([FLEET]);
  });
});
