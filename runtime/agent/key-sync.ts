// Keeping the fleet's keyrings in step. `murmur keys install|use|remove` changes this device's
// keyring, which is then offered to the fleet; every device merges offers into its own keyring
// (a CRDT: runtime/crypto/keyring.ts), so repeating an offer, or hearing two in either order,
// gives the same result.
//
// An offer is signed by the device that sends it and carries its passport: the fleet key alone
// would let a revoked device (which still holds it) push a key of its choosing to the fleet.
// A signature is not authority, though: what another device's offer may change here is
// limited by runtime/crypto/offer-policy.ts (keys may be added; promotions wait; nothing may
// leave this device without a working key; stamps are bounded). This device's own operator
// (the local API) is not limited.
//
// In a fleet with an admin key, the admin is the authority: an offer changes here only what the
// admin's grant it carries covers (runtime/trust/keyring-grant.ts), and at once; anything else
// it would change is refused and counted. This device keeps the newest grant it has checked
// (persisted) and sends it with every offer, relay and handoff, so a change reaches devices that
// hear it second-hand, or weeks later. The operator's own change needs a grant too: one made
// without it would stay on this device.
//
// Offers travel as sealed control frames, and key bytes travel only where they tell a listener
// nothing it could not already open:
// - after a local change, to the group and to each member directly, sealed under the primary
//   key only, and repeated a few times against loss. A key installed on every device by hand
//   (node stopped) and then made primary over the network is thus never sent under the old
//   key. A key installed over the network does travel under the primary of the moment: that
//   is what installing over the network means.
// - as a handoff: a datagram that opens under a key other than our primary comes from a device
//   that is behind on a rotation (typically one that was powered off). We answer it, sealed
//   under the key it used (the only one it may have), at most once per HANDOFF_EVERY_MS per
//   address. Under a retired key the answer carries the current keys: that is how a device
//   that slept through a rotation rejoins, and why a key that leaked must be removed with
//   --compromised (no grace, no handoff). Under a key still active it carries no other key's
//   bytes, only the stamps: the device learns which key to seal with if it holds it.
//   Nothing sent under a retired key is believed.
//
// The control frame is bound to its sender like any datagram: the host moves the replay window
// only once the offer's passport names the tag and generation in the nonce.

import type { Address } from '../core/messages.js';
import { MULTICAST } from '../core/effects.js';
import { formatKeyId, grantedKeys, keyId, Keyring, type KeyRecord } from '../crypto/keyring.js';
import { PROMOTION_DELAY_MS, vetGrantedOffer, vetOffer, type Promotion } from '../crypto/offer-policy.js';
import { AdminGrantRequiredError, checkGrant, grantStamp } from '../trust/keyring-grant.js';
import type { GrantedKey, KeyringGrant } from '../wire/keyring-offer.js';
import type { Passport } from '../core/messages.js';
import { signBytes, verifyBytes, type SigningKey } from '../trust/ed25519.js';
import type { Gatekeeper } from '../trust/gatekeeper.js';
import { Domain, signable } from '../trust/signable.js';
import type { NodeHost } from '../host/node-host.js';
import { decodeKeyringOffer, encodeGrantedKeys, encodeKeyringOffer, encodeOfferedKeys } from '../wire/keyring-offer.js';
import type { Logger } from '../log/log.js';

const HANDOFF_EVERY_MS = 10_000;
/** Handoffs per second across all addresses: a flood of old-key datagrams must not become a flood of answers. */
const HANDOFFS_PER_SECOND = 20;
const REPEAT_AFTER_MS = [2000, 6000];

export interface OfferSigner {
  readonly key: SigningKey;
  passport(): Passport;
}

/** A keyring offer as a control frame (runtime/wire/keyring-offer.ts), signed by this device, with the admin's grant when there is one. */
export function encodeOffer(records: readonly KeyRecord[], signer: OfferSigner, grant?: KeyringGrant): Uint8Array {
  const signed = encodeOfferedKeys(records);
  const sig = signBytes(signable(Domain.KeyringOffer, [signed]), signer.key.secretKey);
  return encodeKeyringOffer(signed, signer.passport(), sig, grant);
}

/**
 * Decode an offer and check its signature against the passport it carries, and that every key
 * matches its id; undefined for anything malformed or unsigned (never throws). Whether that
 * passport's holder may speak for the fleet is the caller's question (the gatekeeper's).
 */
export function decodeOffer(plain: Uint8Array): { records: KeyRecord[]; passport: Passport; grant: KeyringGrant | undefined } | undefined {
  const o = decodeKeyringOffer(plain);
  if (!o) return undefined;
  if (!verifyBytes(signable(Domain.KeyringOffer, [o.signed]), o.signature, o.passport.publicKey)) return undefined;
  for (const r of o.records) if (r.key !== undefined && keyId(r.key) !== r.id) return undefined;
  return { records: [...o.records], passport: o.passport, grant: o.grant };
}

/** Where the newest admin grant is kept across restarts (the state directory). */
export interface GrantStore {
  load(): KeyringGrant | undefined;
  save(grant: KeyringGrant): void;
}


export interface KeySyncOptions {
  /** Wall-clock ms, for the bound on stamps. */
  readonly wallClock?: () => number;
  /** How long a promotion heard from another device waits (offer-policy.ts). */
  readonly promotionDelayMs?: number;
  /** The fleet admin's public key: keyring changes then need its grant. */
  readonly adminPublicKey?: Uint8Array | undefined;
  readonly grants?: GrantStore;
}

/** The sender an offer's passport proves, for binding the frame's replay header. */
export type AdmitSender = (sender: { readonly id: string; readonly gen: number }) => boolean;

export class KeySync {
  readonly #lastHandoff = new Map<Address, number>();
  #handoffWindowStart = 0;
  #handoffsInWindow = 0;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Promotions heard from other devices, waiting: key id to the latest `used` stamp heard. */
  readonly #pending = new Map<number, number>();
  /** Retirements refused because they took this device's primary, waiting for the pending promotions (at most one per key). */
  readonly #deferred = new Map<number, KeyRecord>();
  #pendingSince = 0;
  #pendingTimer: NodeJS.Timeout | undefined;
  readonly #wallClock: () => number;
  readonly #delayMs: number;
  readonly #admin: Uint8Array | undefined;
  readonly #grants: GrantStore | undefined;
  /** The newest admin grant checked here, and its newest stamp. */
  #grant: { readonly grant: KeyringGrant; readonly stamp: number } | undefined;
  offersReceived = 0;
  offersRejected = 0;
  handoffsSent = 0;
  /** Offers refused by what they tried, beyond a bad signature or an unknown sender. */
  readonly refused = { stampOutOfRange: 0, keptKey: 0, unsignedChange: 0, badGrant: 0 };

  constructor(
    private readonly signer: OfferSigner,
    private readonly gate: Gatekeeper,
    private readonly ring: Keyring,
    private readonly host: () => NodeHost | undefined,
    private readonly persist: () => void,
    private readonly log: Logger,
    private readonly clock: () => number,
    opts: KeySyncOptions = {},
  ) {
    this.#wallClock = opts.wallClock ?? Date.now;
    this.#delayMs = opts.promotionDelayMs ?? PROMOTION_DELAY_MS;
    this.#admin = opts.adminPublicKey;
    this.#grants = opts.grants;
    const stored = this.#admin ? this.#grants?.load() : undefined;
    const keys = stored && this.#admin ? checkGrant(stored, this.#admin) : undefined;
    if (stored && keys) this.#grant = { grant: stored, stamp: grantStamp(keys) };
  }

  /** Whether keyring changes here need the fleet admin's grant. */
  get needsGrant(): boolean {
    return this.#admin !== undefined;
  }

  /**
   * One change by this device's operator (`murmur keys`). `prepare`: make it on a copy and
   * answer, with what `change` says, the keyring it gives as the fleet admin signs it
   * (`granted`, base64); `applyGrant` then makes it. Without: make it here and offer it to the
   * fleet, unless the fleet has an admin, whose grant it then needs.
   */
  change(prepare: boolean, change: (ring: Keyring) => Record<string, unknown>): Record<string, unknown> {
    if (prepare) {
      const trial = new Keyring(this.ring.graceMs, this.ring.wallClock, this.ring.records());
      trial.witness(this.ring.lastStamp);
      const answer = change(trial);
      return { ...answer, granted: Buffer.from(encodeGrantedKeys(grantedKeys(trial.records()))).toString('base64') };
    }
    if (this.#admin) throw new AdminGrantRequiredError('this fleet has an admin key: a keyring change needs its signature (murmur keys ... --admin-key FILE)');
    const answer = change(this.ring);
    this.changed();
    return answer;
  }

  /**
   * The operator's change, signed by the fleet admin: check the grant, apply what it covers at
   * once (`key`: the bytes of a key it installs), keep it, and offer it to the fleet. Throws
   * AdminGrantRequiredError when the admin did not sign it, an Error when it would leave this
   * device without a working key or carries a stamp out of range.
   */
  applyGrant(grant: KeyringGrant, key?: Uint8Array): void {
    const keys = this.#admin ? checkGrant(grant, this.#admin) : undefined;
    if (!keys) throw new AdminGrantRequiredError(this.#admin ? 'keyring grant: not signed by the fleet admin key (security.adminPublicKey)' : 'keyring grant: this fleet has no admin key (security.adminPublicKey)');
    const offered = key ? [{ id: keyId(key), key, installed: 0, used: 0, removed: 0, compromised: false }] : [];
    const verdict = vetGrantedOffer(this.ring, offered, keys, this.#wallClock());
    if (!verdict.ok) throw new Error('keyring grant: a stamp out of range (not a date within 30 days of now)');
    if (verdict.kept.length > 0) throw new Error(`keyring grant: would leave this device without a working key (${verdict.kept.map(formatKeyId).join(',')})`);
    this.#adopt(grant, keys);
    this.ring.merge(verdict.records);
    this.changed();
  }

  #adopt(grant: KeyringGrant, keys: readonly GrantedKey[]): void {
    const stamp = grantStamp(keys);
    if (this.#grant && stamp <= this.#grant.stamp) return;
    this.#grant = { grant, stamp };
    try {
      this.#grants?.save(grant);
    } catch (e) {
      this.log.log('error', 'keyring-grant-not-saved', { error: (e as Error).message });
    }
  }

  /** After a local `keys` command: persist, then offer the keyring to the whole fleet. */
  changed(): void {
    this.persist();
    this.#offerToFleet();
    for (const after of REPEAT_AFTER_MS) {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        this.#offerToFleet();
      }, after);
      t.unref();
      this.#timers.add(t);
    }
  }

  /** Promotions waiting here, with when each takes effect (monotonic ms). */
  pendingPromotions(): { id: number; used: number; effectiveAt: number }[] {
    return [...this.#pending].map(([id, used]) => ({ id, used, effectiveAt: this.#pendingSince + this.#delayMs }));
  }

  #offerToFleet(): void {
    const host = this.host();
    const primary = this.ring.primaryId;
    if (!host || primary === undefined) return;
    const offer = encodeOffer(this.ring.records(), this.signer, this.#grant?.grant);
    const targets: Address[] = [MULTICAST];
    for (const m of host.node.members()) if (m.status === 'alive' || m.status === 'suspect') targets.push(m.addr);
    for (const to of targets) host.sendControl(to, offer, primary);
  }

  /** A sealed control frame arrived (from a fleet member: it opened under an active key). */
  control(plain: Uint8Array, from: Address, admit?: AdmitSender): void {
    const offer = decodeOffer(plain);
    if (!offer || !this.gate.vouch(offer.passport) || (admit && !admit({ id: offer.passport.id, gen: offer.passport.gen }))) {
      this.offersRejected++;
      return;
    }
    if (this.#admin) return this.#granted(offer, from);
    const verdict = vetOffer(this.ring, offer.records, this.#wallClock());
    if (!verdict.ok) {
      this.offersRejected++;
      this.refused.stampOutOfRange++;
      this.log.log('warn', 'keyring-offer-refused', { from, by: offer.passport.id, reason: 'a stamp out of range (not a date within 30 days of now)' });
      return;
    }
    this.offersReceived++;
    this.#await(verdict.promotions, from, offer.passport.id);
    if (verdict.kept.length > 0) {
      this.refused.keptKey++;
      // Retiring the old key usually follows its successor's promotion: while one waits here,
      // the retirement waits with it and is judged again once the promotion took effect.
      const deferred = this.#pending.size > 0;
      if (deferred) for (const id of verdict.kept) this.#deferred.set(id, offer.records.find((r) => r.id === id)!);
      this.log.log('warn', 'keyring-offer-refused', {
        from,
        by: offer.passport.id,
        reason: 'would take the key this device seals with, or its last working key',
        kept: verdict.kept.map(formatKeyId).join(','),
        deferred: deferred || undefined,
      });
    }
    this.#apply(verdict.records, from, offer.passport.id);
  }

  /** An offer in a fleet with an admin: only what its grant covers, at once. */
  #granted(offer: { records: KeyRecord[]; passport: Passport; grant: KeyringGrant | undefined }, from: Address): void {
    const by = offer.passport.id;
    const keys = offer.grant ? checkGrant(offer.grant, this.#admin!) : undefined;
    if (offer.grant && !keys) {
      this.offersRejected++;
      this.refused.badGrant++;
      this.log.log('warn', 'keyring-offer-refused', { from, by, reason: 'a grant the fleet admin did not sign' });
      return;
    }
    const verdict = vetGrantedOffer(this.ring, offer.records, keys, this.#wallClock());
    if (!verdict.ok) {
      this.offersRejected++;
      this.refused.stampOutOfRange++;
      this.log.log('warn', 'keyring-offer-refused', { from, by, reason: 'a stamp out of range (not a date within 30 days of now)' });
      return;
    }
    if (verdict.unsigned.length > 0) {
      this.offersRejected++;
      this.refused.unsignedChange++;
      this.log.log('warn', 'keyring-offer-refused', { from, by, reason: "a change without the fleet admin's signature", keys: verdict.unsigned.map(formatKeyId).join(',') });
    } else this.offersReceived++;
    if (verdict.kept.length > 0) {
      this.refused.keptKey++;
      this.log.log('warn', 'keyring-offer-refused', { from, by, reason: 'would take its last working key', kept: verdict.kept.map(formatKeyId).join(',') });
    }
    if (offer.grant && keys) this.#adopt(offer.grant, keys);
    this.#apply(verdict.records, from, by);
  }

  #apply(records: readonly KeyRecord[], from: Address | undefined, by: string | undefined): void {
    const before = this.ring.primaryId;
    if (!this.ring.merge(records)) return;
    this.persist();
    const primary = this.ring.primaryId;
    this.log.log('info', 'keyring-updated', {
      from,
      by,
      primary: primary === undefined ? undefined : formatKeyId(primary),
      previous_primary: before !== primary && before !== undefined ? formatKeyId(before) : undefined,
      keys: this.ring.records().map((r) => `${formatKeyId(r.id)}:${this.ring.state(r.id)}`).join(','),
    });
    // Pass it on once: a member that missed the originator's offers hears it from us.
    const host = this.host();
    if (host && primary !== undefined) host.sendControl(MULTICAST, encodeOffer(this.ring.records(), this.signer, this.#grant?.grant), primary);
  }

  /** Hold promotions for the delay; a newer one restarts it for all. */
  #await(promotions: readonly Promotion[], from: Address, by: string): void {
    let news = false;
    for (const p of promotions) {
      if (p.used <= (this.#pending.get(p.id) ?? 0)) continue;
      this.#pending.set(p.id, p.used);
      // The operator's own "keys use" here must be able to overrule it before it takes effect.
      this.ring.witness(p.used);
      news = true;
    }
    if (!news) return;
    this.#pendingSince = this.clock();
    this.log.log('warn', 'key-promotion-pending', {
      from,
      by,
      keys: [...this.#pending.keys()].map(formatKeyId).join(','),
      takes_effect_in_s: Math.round(this.#delayMs / 1000),
      meaning: 'another device made a key primary; "murmur keys use ID" here overrules it',
    });
    this.#arm(this.#delayMs);
  }

  #arm(ms: number): void {
    if (this.#pendingTimer) clearTimeout(this.#pendingTimer);
    this.#pendingTimer = setTimeout(() => this.promote(), ms);
    this.#pendingTimer.unref();
  }

  /** Apply the waiting promotions once the latest has waited the delay (called by a timer; tests call it). */
  promote(): void {
    if (this.#pending.size === 0) return;
    const left = this.#pendingSince + this.#delayMs - this.clock();
    // A timer may fire a little early by our clock: wait out the rest.
    if (left > 0) return this.#arm(left);
    const records: KeyRecord[] = [];
    for (const [id, used] of this.#pending) {
      const cur = this.ring.record(id);
      if (cur && used > cur.used) records.push({ ...cur, used });
    }
    this.#pending.clear();
    this.#apply(records, undefined, undefined);
    const deferred = [...this.#deferred.values()];
    this.#deferred.clear();
    const verdict = vetOffer(this.ring, deferred, this.#wallClock());
    if (verdict.ok) this.#apply(verdict.records, undefined, undefined);
  }

  /** A datagram opened under `keyId`, which is not our primary. */
  oldKey(id: number, state: 'active' | 'retired', from: Address): void {
    // A key whose promotion is waiting here: the sender is ahead of us, not behind.
    if (this.#pending.has(id)) return;
    const now = this.clock();
    if (now - (this.#lastHandoff.get(from) ?? -Infinity) < HANDOFF_EVERY_MS) return;
    if (now - this.#handoffWindowStart >= 1000) {
      this.#handoffWindowStart = now;
      this.#handoffsInWindow = 0;
    }
    if (this.#handoffsInWindow >= HANDOFFS_PER_SECOND) return;
    this.#handoffsInWindow++;
    if (this.#lastHandoff.size > 4096) this.#lastHandoff.clear();
    this.#lastHandoff.set(from, now);
    this.handoffsSent++;
    if (state === 'retired') this.log.log('info', 'key-handoff', { to: from, retired_key: formatKeyId(id) });
    // Under a retired key, the current keys; under one still active, no other key's bytes.
    const records = state === 'retired' ? this.ring.records() : this.ring.records().map((r) => (r.id === id ? r : { ...r, key: undefined }));
    this.host()?.sendControl(from, encodeOffer(records, this.signer, this.#grant?.grant), id);
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (this.#pendingTimer) clearTimeout(this.#pendingTimer);
  }
}
