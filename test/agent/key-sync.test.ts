// Keyring offers from other devices: what one device, holding the fleet key and a passport but
// no authority over the fleet's keys, can and cannot change on another; and under which key
// the keyring travels.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeOffer, encodeOffer, KeySync, type KeySyncOptions, type OfferSigner } from '../../runtime/agent/key-sync.js';
import { nullLogger } from '../../runtime/log/log.js';
import type { NodeHost } from '../../runtime/host/node-host.js';
import type { NodeRef } from '../../runtime/core/messages.js';
import { grantedKeys, keyId, Keyring, type KeyRecord } from '../../runtime/crypto/keyring.js';
import { AdminGrantRequiredError, grantKeys, signGrant } from '../../runtime/trust/keyring-grant.js';
import type { KeyringGrant } from '../../runtime/wire/keyring-offer.js';
import { PROMOTION_DELAY_MS, STAMP_AHEAD_MS } from '../../runtime/crypto/offer-policy.js';
import { generateSigningKey, type SigningKey } from '../../runtime/trust/ed25519.js';
import { Gatekeeper } from '../../runtime/trust/gatekeeper.js';
import { signPassport } from '../../runtime/trust/records.js';

const DAY = 86_400_000;
const WALL = Date.UTC(2026, 11, 4, 12);
const fleetKey = new Uint8Array(32).fill(1);
const attackerKey = new Uint8Array(32).fill(66);
const newKey = new Uint8Array(32).fill(2);
const FLEET = keyId(fleetKey);
const ATTACKER = keyId(attackerKey);
const NEW = keyId(newKey);

const self: NodeRef = { id: 'pi-rx', gen: 1 };
const insider: NodeRef = { id: 'pi-insider', gen: 9 };
const keys = { rx: generateSigningKey(), insider: generateSigningKey() };
const signerOf = (key: SigningKey, ref: NodeRef): OfferSigner => ({ key, passport: () => signPassport(key, ref, 0, false, null) });

interface Sent {
  readonly to: string;
  readonly plain: Uint8Array;
  readonly keyId: number | undefined;
}

const running: KeySync[] = [];
afterEach(() => {
  for (const k of running.splice(0)) k.stop();
});

/** A device whose keyring holds `installed` (the first one primary), with a monotonic clock the test moves; `more` adds to its KeySync options. */
function device(installed: Uint8Array[] = [fleetKey], more: KeySyncOptions = {}): { ring: Keyring; sync: KeySync; sent: Sent[]; clock: { now: number } } {
  const clock = { now: 1_000 };
  const ring = new Keyring(30 * DAY, () => WALL - DAY);
  ring.use(ring.install(installed[0]!));
  for (const k of installed.slice(1)) ring.install(k);
  const gate = new Gatekeeper({ self, key: keys.rx, held: { version: () => undefined, max: () => 0 }, isMember: () => true });
  const sent: Sent[] = [];
  const host = { node: { members: () => [] }, sendControl: (to: string, plain: Uint8Array, k?: number) => sent.push({ to, plain, keyId: k }) } as unknown as NodeHost;
  const sync = new KeySync(signerOf(keys.rx, self), gate, ring, () => host, () => {}, nullLogger, () => clock.now, { wallClock: () => WALL, promotionDelayMs: PROMOTION_DELAY_MS, ...more });
  running.push(sync);
  return { ring, sync, sent, clock };
}

/** What the insider sends: any records, signed with its own (valid) passport. */
const offer = (records: KeyRecord[]): Uint8Array => encodeOffer(records, signerOf(keys.insider, insider));
const stamped = (r: Partial<KeyRecord> & { id: number }): KeyRecord => ({ installed: WALL - DAY, used: 0, removed: 0, compromised: false, ...r });

describe('keyring offers from another device', () => {
  it('cannot mark the only fleet key compromised, nor retire it: the device keeps sealing with it', () => {
    const { ring, sync } = device();
    const before = ring.records();
    sync.control(offer([stamped({ id: FLEET, removed: WALL, compromised: true })]), '10.0.0.66:7478');
    sync.control(offer([stamped({ id: FLEET, key: fleetKey, removed: WALL })]), '10.0.0.66:7478');
    expect(ring.primaryId).toBe(FLEET);
    expect(ring.state(FLEET)).toBe('active');
    expect(ring.records()).toEqual(before);
    expect(sync.refused.keptKey).toBe(2);
  });

  it('cannot change the primary at once: the key it adds is a candidate, its promotion waits, and the operator\'s own "keys use" in the meantime wins', () => {
    const { ring, sync, clock } = device();
    // Its key, promoted, and ours retired in the same offer.
    sync.control(offer([stamped({ id: ATTACKER, key: attackerKey, installed: WALL, used: WALL + 1 }), stamped({ id: FLEET, key: fleetKey, removed: WALL + 2 })]), '10.0.0.66:7478');
    expect(ring.state(ATTACKER)).toBe('active'); // it opens
    expect(ring.state(FLEET)).toBe('active');
    expect(ring.primaryId).toBe(FLEET); // it does not seal
    expect(sync.pendingPromotions().map((p) => p.id)).toEqual([ATTACKER]);
    // Datagrams under the key being promoted come from devices ahead of this one: no handoff.
    sync.oldKey(ATTACKER, 'active', '10.0.0.66:7478');
    expect(sync.handoffsSent).toBe(0);
    clock.now += PROMOTION_DELAY_MS - 1;
    sync.promote();
    expect(ring.primaryId).toBe(FLEET);
    // The operator sees the pending promotion and overrules it here: a later stamp wins.
    ring.use(FLEET);
    clock.now += 1;
    sync.promote();
    expect(ring.primaryId).toBe(FLEET);
    expect(ring.state(FLEET)).toBe('active');
    expect(sync.pendingPromotions()).toEqual([]);
  });

  it('the promotion\'s timer applies it on its own, and waits out the rest when it fires early by the monotonic clock', () => {
    vi.useFakeTimers();
    try {
      const { ring, sync, clock } = device([fleetKey, newKey]);
      sync.control(offer([stamped({ id: NEW, key: newKey, used: WALL })]), '10.0.0.66:7478');
      clock.now += PROMOTION_DELAY_MS - 5;
      vi.advanceTimersByTime(PROMOTION_DELAY_MS);
      expect(ring.primaryId).toBe(FLEET);
      clock.now += 5;
      vi.advanceTimersByTime(5);
      expect(ring.primaryId).toBe(NEW);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a promotion nobody overrules takes effect after the delay, and a newer one restarts the wait', () => {
    const { ring, sync, clock } = device([fleetKey, newKey]);
    sync.control(offer([stamped({ id: NEW, key: newKey, used: WALL })]), '10.0.0.66:7478');
    clock.now += PROMOTION_DELAY_MS / 2;
    sync.control(offer([stamped({ id: ATTACKER, key: attackerKey, used: WALL + 5 })]), '10.0.0.66:7478');
    clock.now += PROMOTION_DELAY_MS / 2;
    sync.promote();
    expect(ring.primaryId).toBe(FLEET);
    clock.now += PROMOTION_DELAY_MS / 2;
    sync.promote();
    expect(ring.primaryId).toBe(ATTACKER);
    expect(ring.record(NEW)!.used).toBe(WALL);
  });

  it('stamps out of range are refused whole: 2^53, past year 2200, more than 30 days ahead of the clock', () => {
    const { ring, sync } = device();
    const before = ring.records();
    const bad = [2 ** 53, 2 ** 53 - 1, Date.UTC(2200, 0, 2), WALL + STAMP_AHEAD_MS + DAY];
    for (const t of bad) {
      sync.control(offer([stamped({ id: ATTACKER, key: attackerKey, installed: t })]), '10.0.0.66:7478');
      sync.control(offer([stamped({ id: FLEET, key: fleetKey, used: t })]), '10.0.0.66:7478');
    }
    expect(ring.records()).toEqual(before);
    expect(sync.offersRejected).toBe(bad.length * 2);
    // Within the bound, a stamp ahead of the clock is taken.
    sync.control(offer([stamped({ id: ATTACKER, key: attackerKey, installed: WALL + DAY })]), '10.0.0.66:7478');
    expect(ring.record(ATTACKER)?.installed).toBe(WALL + DAY);
  });

  it('cannot take the key the device seals with even when another works (that would be a promotion without the wait); a key it does not seal with may be erased', () => {
    const { ring, sync } = device([fleetKey, attackerKey]);
    sync.control(offer([stamped({ id: FLEET, removed: WALL, compromised: true })]), '10.0.0.66:7478');
    sync.control(offer([stamped({ id: FLEET, key: fleetKey, removed: WALL })]), '10.0.0.66:7478');
    expect(ring.state(FLEET)).toBe('active');
    expect(ring.primaryId).toBe(FLEET);
    expect(sync.refused.keptKey).toBe(2);
    sync.control(offer([stamped({ id: ATTACKER, removed: WALL, compromised: true })]), '10.0.0.66:7478');
    expect(ring.state(ATTACKER)).toBe('gone');
    expect(ring.primaryId).toBe(FLEET);
  });

  it('a device that slept through a rotation falls back to the key that still works: handed the keyring under its retired key, it takes the new key once the promotion has waited', () => {
    const { ring, sync, clock } = device();
    // What an up-to-date device hands it: NEW installed and primary, the old key retired.
    const current = new Keyring(30 * DAY, () => WALL, ring.records());
    current.use(current.install(newKey));
    current.remove(FLEET);
    sync.control(offer(current.records()), '10.0.0.66:7478');
    expect(ring.state(NEW)).toBe('active');
    expect(ring.primaryId).toBe(FLEET);
    clock.now += PROMOTION_DELAY_MS;
    sync.promote();
    // The retirement waited for the promotion and took effect with it.
    expect(ring.primaryId).toBe(NEW);
    expect(ring.state(FLEET)).toBe('retired');
  });

  it('filling the keyring with candidates does not stop the operator installing a key: the oldest never-used candidate makes room', () => {
    const { ring, sync } = device();
    const junk = Array.from({ length: 7 }, (_, i) => new Uint8Array(32).fill(100 + i));
    sync.control(offer(junk.map((k, i) => stamped({ id: keyId(k), key: k, installed: WALL + i }))), '10.0.0.66:7478');
    expect(ring.size).toBe(8);
    expect(() => ring.install(newKey)).not.toThrow();
    expect(ring.state(NEW)).toBe('active');
    expect(ring.record(keyId(junk[0]!))).toBeUndefined();
    expect(ring.primaryId).toBe(FLEET);
  });

  it('an offer whose replay header does not name its signer is dropped before it changes anything', () => {
    const { ring, sync } = device();
    const before = ring.records();
    const asked: { id: string; gen: number }[] = [];
    sync.control(offer([stamped({ id: ATTACKER, key: attackerKey, installed: WALL })]), '10.0.0.66:7478', (s) => (asked.push(s), false));
    expect(asked).toEqual([{ id: insider.id, gen: insider.gen }]);
    expect(ring.records()).toEqual(before);
    expect(sync.offersRejected).toBe(1);
  });
});

describe('under which key the keyring travels', () => {
  it('after "keys use", the offer with the new key goes out sealed under the new key only, never under the old one', () => {
    const { ring, sync, sent } = device([fleetKey, newKey]);
    ring.use(NEW);
    sync.changed();
    expect(sent.length).toBeGreaterThan(0);
    expect(new Set(sent.map((s) => s.keyId))).toEqual(new Set([NEW]));
  });

  it('a device on a retired key is handed the keyring sealed under that retired key; one on a still-active old key gets no other key\'s bytes', () => {
    const { ring, sync, sent } = device([fleetKey, newKey]);
    ring.use(NEW);
    sync.oldKey(FLEET, 'active', '10.0.0.5:7478');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.keyId).toBe(FLEET);
    const early = decodeOffer(sent[0]!.plain)!.records;
    expect(early.find((r) => r.id === NEW)?.key).toBeUndefined();
    expect(early.find((r) => r.id === FLEET)?.key).toEqual(fleetKey);

    ring.remove(FLEET);
    sync.oldKey(FLEET, 'retired', '10.0.0.6:7478');
    expect(sent).toHaveLength(2);
    expect(sent[1]!.keyId).toBe(FLEET);
    expect(decodeOffer(sent[1]!.plain)!.records.find((r) => r.id === NEW)?.key).toEqual(newKey);
  });
});

describe('keyring offers in a fleet with an admin key', () => {
  const admin = generateSigningKey();
  const notAdmin = generateSigningKey();

  /** A device of a fleet with an admin: like `device`, with the admin's public key and a grant store. */
  function adminDevice(installed: Uint8Array[] = [fleetKey]) {
    const stored: { grant: KeyringGrant | undefined } = { grant: undefined };
    const d = device(installed, { adminPublicKey: admin.publicKey, grants: { load: () => stored.grant, save: (g) => (stored.grant = g) } });
    return { ...d, stored };
  }

  /** The fleet's keyring after `change`, as the admin would sign it on the operator's device. */
  const granted = (by: SigningKey, change: (r: Keyring) => void, base: Uint8Array[] = [fleetKey]): { grant: KeyringGrant; ring: Keyring } => {
    const r = new Keyring(30 * DAY, () => WALL);
    r.use(r.install(base[0]!));
    for (const k of base.slice(1)) r.install(k);
    change(r);
    return { grant: grantKeys(by, grantedKeys(r.records())), ring: r };
  };
  const signedOffer = (records: KeyRecord[], grant: KeyringGrant | undefined): Uint8Array => encodeOffer(records, signerOf(keys.insider, insider), grant);
  const bytesOf = (g: KeyringGrant | undefined): string[] => (g ? [Buffer.from(g.granted).toString('hex'), Buffer.from(g.signature).toString('hex')] : []);

  it('an offer without the admin\'s grant that adds, promotes or marks a key compromised changes nothing, and each is refused and counted', () => {
    const { ring, sync } = adminDevice([fleetKey, newKey]);
    const before = ring.records();
    sync.control(offer([stamped({ id: ATTACKER, key: attackerKey })]), '10.0.0.66:7478');
    sync.control(offer([stamped({ id: NEW, key: newKey, used: WALL })]), '10.0.0.66:7478');
    sync.control(offer([stamped({ id: NEW, removed: WALL, compromised: true })]), '10.0.0.66:7478');
    expect(ring.records()).toEqual(before);
    expect(sync.pendingPromotions()).toEqual([]);
    expect(sync.refused.unsignedChange).toBe(3);
    expect(sync.offersRejected).toBe(3);
  });

  it('a grant signed by any key but the admin\'s is refused whole', () => {
    const { ring, sync } = adminDevice([fleetKey, newKey]);
    const before = ring.records();
    const { grant, ring: theirs } = granted(notAdmin, (r) => r.use(r.install(newKey)));
    sync.control(signedOffer(theirs.records(), grant), '10.0.0.66:7478');
    expect(ring.records()).toEqual(before);
    expect(sync.refused.badGrant).toBe(1);
  });

  it("the admin's grant installs and promotes a key at once, with no delay, and the device keeps the grant and sends it on", () => {
    const { ring, sync, sent, stored } = adminDevice();
    const { grant, ring: theirs } = granted(admin, (r) => r.use(r.install(newKey)));
    sync.control(signedOffer(theirs.records(), grant), '10.0.0.2:7478');
    expect(ring.primaryId).toBe(NEW);
    expect(sync.pendingPromotions()).toEqual([]);
    expect(sync.offersReceived).toBe(1);
    expect(bytesOf(stored.grant)).toEqual(bytesOf(grant));
    // Its relay carries the grant: a device that hears it second-hand applies it too.
    const relay = decodeOffer(sent.at(-1)!.plain)!;
    expect(bytesOf(relay.grant)).toEqual(bytesOf(grant));
    // (Passed on again by another member: this test's devices share one id.)
    const other = adminDevice();
    other.sync.control(signedOffer(relay.records, relay.grant), '10.0.0.1:7478');
    expect(other.ring.primaryId).toBe(NEW);
  });

  it('a grant naming other bytes under an id is not installed: an insider\'s key with the same id does not ride on it', () => {
    const { ring, sync } = adminDevice();
    const { grant } = granted(admin, (r) => r.install(newKey));
    // The insider offers its own bytes under the granted id (as if it had found a key with that id).
    sync.control(signedOffer([stamped({ id: NEW, key: attackerKey })], grant), '10.0.0.66:7478');
    expect(ring.record(NEW)).toBeUndefined();
    expect(ring.record(ATTACKER)).toBeUndefined();
  });

  it("the admin's grant marking the only working key compromised is refused for that key: the device keeps sealing", () => {
    const { ring, sync } = adminDevice();
    const grant = grantKeys(admin, [{ id: FLEET, digest: undefined, installed: WALL - DAY, used: WALL - DAY, removed: WALL, compromised: true }]);
    sync.control(signedOffer([stamped({ id: FLEET, removed: WALL, compromised: true })], grant), '10.0.0.2:7478');
    expect(ring.primaryId).toBe(FLEET);
    expect(ring.state(FLEET)).toBe('active');
    expect(sync.refused.keptKey).toBe(1);
  });

  it("the operator's own change needs the grant: without it the API's change is refused; prepared, signed and applied, it is made and offered with the grant", () => {
    const { ring, sync, sent } = adminDevice([fleetKey, newKey]);
    expect(() => sync.change(false, (r) => ({ id: r.use(NEW) }))).toThrow(AdminGrantRequiredError);
    expect(ring.primaryId).toBe(FLEET);
    const prepared = sync.change(true, (r) => {
      r.use(NEW);
      return {};
    });
    expect(ring.primaryId).toBe(FLEET);
    const grant = signGrant(admin, new Uint8Array(Buffer.from(String(prepared.granted), 'base64')));
    expect(() => sync.applyGrant(signGrant(notAdmin, grant.granted))).toThrow(AdminGrantRequiredError);
    sync.applyGrant(grant);
    expect(ring.primaryId).toBe(NEW);
    expect(bytesOf(decodeOffer(sent.at(-1)!.plain)!.grant)).toEqual(bytesOf(grant));
  });

  it('a device restarted keeps the newest grant it checked, and offers it', () => {
    const first = adminDevice();
    const { grant, ring: theirs } = granted(admin, (r) => r.use(r.install(newKey)));
    first.sync.control(signedOffer(theirs.records(), grant), '10.0.0.2:7478');
    const ring = new Keyring(30 * DAY, () => WALL);
    ring.merge(first.ring.records());
    const gate = new Gatekeeper({ self, key: keys.rx, held: { version: () => undefined, max: () => 0 }, isMember: () => true });
    const sent: Sent[] = [];
    const host = { node: { members: () => [] }, sendControl: (to: string, plain: Uint8Array, k?: number) => sent.push({ to, plain, keyId: k }) } as unknown as NodeHost;
    const again = new KeySync(signerOf(keys.rx, self), gate, ring, () => host, () => {}, nullLogger, () => 0, { wallClock: () => WALL, adminPublicKey: admin.publicKey, grants: { load: () => first.stored.grant, save: () => {} } });
    running.push(again);
    again.oldKey(FLEET, 'retired', '10.0.0.9:7478');
    expect(bytesOf(decodeOffer(sent[0]!.plain)!.grant)).toEqual(bytesOf(grant));
  });
});
