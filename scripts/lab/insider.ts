// An insider: a process that holds the fleet key and a device key of its own, and no admin
// certificate (what anyone who copied one device's SD card has, in a fleet without an admin).
// It builds, with the runtime's own seal, codec and signatures, what such a process can put on
// the wire: its own passport and heartbeats, datagrams under a replay header of its choosing,
// and keyring offers signed by its key. It sends nothing itself; a lab test hands the bytes to
// Lab.inject, which sends them from a host on the lab's LAN.

import { encodeOffer } from '../../runtime/agent/key-sync.js';
import { MsgType, type Message, type NodeRef, type Passport } from '../../runtime/core/messages.js';
import { FleetChannel } from '../../runtime/crypto/fleet-channel.js';
import { Keyring, type KeyRecord } from '../../runtime/crypto/keyring.js';
import { seal, senderTag } from '../../runtime/crypto/seal.js';
import { generateSigningKey, type SigningKey } from '../../runtime/trust/ed25519.js';
import { signPassport } from '../../runtime/trust/records.js';
import { encodeDatagram } from '../../runtime/wire/index.js';
import { recipientMark } from '../../runtime/wire/recipient.js';
import { DEFAULT_DATAGRAM_BUDGET } from '../../runtime/wire/version.js';
import { SEAL_OVERHEAD } from '../../runtime/crypto/seal.js';

export class Insider {
  readonly self: NodeRef;
  readonly keyring = new Keyring(0);
  readonly channel: FleetChannel;
  readonly #key: SigningKey = generateSigningKey();
  #heartbeats = 0;

  constructor(fleetKey: Uint8Array, id: string, gen = 1) {
    this.self = { id, gen };
    this.keyring.use(this.keyring.install(fleetKey));
    this.channel = new FleetChannel(this.keyring, id, gen);
  }

  /** Its passport, self-signed: all a fleet without an admin asks of a member. */
  passport(): Passport {
    return signPassport(this.#key, this.self, 0, false, null);
  }

  /** Its passport and a heartbeat, sealed under its own header: how it joins the fleet. */
  hello(): Uint8Array {
    const hb: Message = { type: MsgType.Heartbeat, from: this.self, inc: 0, seq: ++this.#heartbeats, intervalMs: 250, kvMax: 0, view: 0 };
    return this.channel.seal(encodeDatagram([this.passport(), hb]));
  }

  /**
   * `msgs` sealed under a replay header naming someone else: `as`'s sender tag, any generation
   * and sequence. The fleet key is all it takes to seal it; whether anyone believes the header
   * is the receiver's question.
   */
  forge(msgs: readonly Message[], as: { readonly id: string; readonly gen: number; readonly seq: number }): Uint8Array {
    return seal(encodeDatagram(msgs), this.keyring, { sender: senderTag(as.id), gen: as.gen, seq: as.seq });
  }

  /**
   * The datagram `as`'s host seals for member `to`: its header, its recipient mark. It stands
   * for one captured on its way there (a lab's switch does not show a third port unicast
   * traffic); replaying it elsewhere needs no key, only the bytes.
   */
  sealedFor(msgs: readonly Message[], as: { readonly id: string; readonly gen: number; readonly seq: number }, to: string): Uint8Array {
    const plain = encodeDatagram(msgs, DEFAULT_DATAGRAM_BUDGET - SEAL_OVERHEAD, recipientMark({ kind: 'member', tag: senderTag(to) }));
    return seal(plain, this.keyring, { sender: senderTag(as.id), gen: as.gen, seq: as.seq });
  }

  /** A keyring offer of `records`, signed with its device key and sealed under its own header. */
  offer(records: readonly KeyRecord[]): Uint8Array {
    return this.channel.seal(encodeOffer(records, { key: this.#key, passport: () => this.passport() }));
  }
}
