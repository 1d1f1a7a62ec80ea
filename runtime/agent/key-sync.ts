// Keeping the fleet's keyrings in step. `murmur keys install|use|remove` changes this device's
// keyring, which is then offered to the fleet; every device merges offers into its own keyring
// (a CRDT: runtime/crypto/keyring.ts), so repeating an offer, or hearing two in either order,
// gives the same result.
//
// An offer is signed by the device that sends it and carries its passport: the fleet key alone
// would let a revoked device (which still holds it) push a key of its choosing to the fleet.
//
// Offers travel as sealed control frames:
// - after a local change, to the group and to each member directly, once under every active key
//   (a member that has not yet heard of a brand-new primary must still be able to open it), and
//   repeated a few times against loss;
// - as a handoff: a datagram that opens under a key other than our primary comes from a device
//   that is behind on a rotation (typically one that was powered off). We answer it, sealed
//   under the key it used, at most once per HANDOFF_EVERY_MS per address. If that key is retired,
//   this is how the device learns the new one; nothing it sent under the retired key is believed.

import type { Address } from '../core/messages.js';
import { MULTICAST } from '../core/effects.js';
import { formatKeyId, keyId, type Keyring, type KeyRecord } from '../crypto/keyring.js';
import type { Passport } from '../core/messages.js';
import { signBytes, verifyBytes, type SigningKey } from '../trust/ed25519.js';
import type { Gatekeeper } from '../trust/gatekeeper.js';
import { Domain, signable } from '../trust/signable.js';
import type { NodeHost } from '../host/node-host.js';
import { decodeKeyringOffer, encodeKeyringOffer, encodeOfferedKeys } from '../wire/keyring-offer.js';
import type { Logger } from './log.js';

const HANDOFF_EVERY_MS = 10_000;
/** Handoffs per second across all addresses: a flood of old-key datagrams must not become a flood of answers. */
const HANDOFFS_PER_SECOND = 20;
const REPEAT_AFTER_MS = [2000, 6000];

export interface OfferSigner {
  readonly key: SigningKey;
  passport(): Passport;
}

/** A keyring offer as a control frame (runtime/wire/keyring-offer.ts), signed by this device. */
export function encodeOffer(records: readonly KeyRecord[], signer: OfferSigner): Uint8Array {
  const signed = encodeOfferedKeys(records);
  const sig = signBytes(signable(Domain.KeyringOffer, [signed]), signer.key.secretKey);
  return encodeKeyringOffer(signed, signer.passport(), sig);
}

/**
 * Decode an offer and check its signature against the passport it carries, and that every key
 * matches its id; undefined for anything malformed or unsigned (never throws). Whether that
 * passport's holder may speak for the fleet is the caller's question (the gatekeeper's).
 */
export function decodeOffer(plain: Uint8Array): { records: KeyRecord[]; passport: Passport } | undefined {
  const o = decodeKeyringOffer(plain);
  if (!o) return undefined;
  if (!verifyBytes(signable(Domain.KeyringOffer, [o.signed]), o.signature, o.passport.publicKey)) return undefined;
  for (const r of o.records) if (r.key !== undefined && keyId(r.key) !== r.id) return undefined;
  return { records: [...o.records], passport: o.passport };
}

export class KeySync {
  readonly #lastHandoff = new Map<Address, number>();
  #handoffWindowStart = 0;
  #handoffsInWindow = 0;
  readonly #timers = new Set<NodeJS.Timeout>();
  offersReceived = 0;
  offersRejected = 0;
  handoffsSent = 0;

  constructor(
    private readonly signer: OfferSigner,
    private readonly gate: Gatekeeper,
    private readonly ring: Keyring,
    private readonly host: () => NodeHost | undefined,
    private readonly persist: () => void,
    private readonly log: Logger,
    private readonly clock: () => number,
  ) {}

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

  #offerToFleet(): void {
    const host = this.host();
    if (!host) return;
    const offer = encodeOffer(this.ring.records(), this.signer);
    const targets: Address[] = [MULTICAST];
    for (const m of host.node.members()) if (m.status === 'alive' || m.status === 'suspect') targets.push(m.addr);
    for (const r of this.ring.records()) {
      if (this.ring.state(r.id) !== 'active') continue;
      for (const to of targets) host.sendControl(to, offer, r.id);
    }
  }

  /** A sealed control frame arrived (from a fleet member: it opened under an active key). */
  control(plain: Uint8Array, from: Address): void {
    const offer = decodeOffer(plain);
    if (!offer || !this.gate.vouch(offer.passport)) {
      this.offersRejected++;
      return;
    }
    const records = offer.records;
    this.offersReceived++;
    const before = this.ring.primaryId;
    if (!this.ring.merge(records)) return;
    this.persist();
    const primary = this.ring.primaryId;
    this.log.log('info', 'keyring-updated', {
      from,
      by: offer.passport.id,
      primary: primary === undefined ? undefined : formatKeyId(primary),
      previous_primary: before !== primary && before !== undefined ? formatKeyId(before) : undefined,
      keys: this.ring.records().map((r) => `${formatKeyId(r.id)}:${this.ring.state(r.id)}`).join(','),
    });
    // Pass it on once: a member that missed the originator's offers hears it from us.
    const host = this.host();
    if (host && primary !== undefined) host.sendControl(MULTICAST, encodeOffer(this.ring.records(), this.signer));
  }

  /** A datagram opened under `keyId`, which is not our primary. */
  oldKey(id: number, state: 'active' | 'retired', from: Address): void {
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
    this.host()?.sendControl(from, encodeOffer(this.ring.records(), this.signer), id);
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
