// One device's end of the fleet's sealed channel: seals what it sends under the primary key
// with its replay header, and opens what it receives, refusing (and counting) anything that
// is not sealed under a fleet key or was seen before. The protocol never sees those datagrams.
//
// Receiving is two steps. `open` checks the MAC and asks the replay window for a verdict
// without moving it. `admit` moves it, once the host knows who really sent the datagram (the
// sender its admitted messages prove): the header must name that sender's tag and generation,
// or the datagram is dropped as `sender-mismatch`. One member forging another's header can
// thus not push that member's window out of reach of its real datagrams.
//
// A protocol datagram also names its recipient inside the seal (runtime/wire/recipient.ts):
// `seal` writes nothing of it (the host encodes the mark with the messages), `addressing`
// checks it against this device and the socket the datagram came through, and says whether its
// source address may be believed (runtime/crypto/addressing.ts).

import nacl from './nacl.js';
import { readRecipient, recipientMark } from '../wire/recipient.js';
import { addressingOf, sourceIsSenderAddress, type Addressing } from './addressing.js';
import type { Keyring } from './keyring.js';
import { ReplayWindow } from './replay-window.js';
import { open, seal, senderTag, type FrameHeader, type Opened, type OpenFailure, type SealKeys } from './seal.js';

export type ChannelDrop = OpenFailure | 'replayed' | 'stale-generation' | 'too-old' | 'sender-mismatch' | 'wrong-recipient';

/** Who a datagram's messages say sent it (runtime/trust/datagram-sender.ts). */
export interface ProvenSender {
  readonly id: string;
  readonly gen: number;
}

export interface OpenedFrame {
  readonly plain: Uint8Array;
  readonly keyId: number;
  /** 'retired': the sender missed a rotation. Answer it; do not believe it. */
  readonly keyState: 'active' | 'retired';
  readonly header: FrameHeader;
}

/** Authenticates and decrypts one frame (seal.ts `open`); a pure function of the frame and the keys. */
export type FrameOpener = (frame: Uint8Array, keys: SealKeys) => Opened;

const GROUP_MARK = recipientMark({ kind: 'group' });
const UNADDRESSED_MARK = recipientMark({ kind: 'unaddressed' });

export class FleetChannel {
  readonly dropped = new Map<ChannelDrop, number>();
  readonly #replay = new ReplayWindow();
  readonly #sender: number;
  /** senderTag hashes the id; a cache keeps that off the per-datagram path. */
  readonly #tags = new Map<string, number>();
  readonly #marks = new Map<string, Uint8Array>();
  #seq = 0;

  constructor(
    readonly keyring: Keyring,
    selfId: string,
    readonly gen: number,
    readonly randomBytes: (n: number) => Uint8Array = pooledRandom(),
    private readonly opener: FrameOpener = open,
  ) {
    this.#sender = senderTag(selfId);
  }

  /** Seal under the primary key (or `keyId`, for a handoff to a device still using an old one). */
  seal(plain: Uint8Array, keyId?: number): Uint8Array {
    return seal(plain, this.keyring, { sender: this.#sender, gen: this.gen, seq: ++this.#seq }, this.randomBytes, keyId);
  }

  /**
   * Authenticate under a fleet key and check the replay window (without moving it). A datagram
   * the window refuses as too old or from an earlier life is counted and comes back only through
   * `onRefused`, for the passports it may carry: a member whose window was pushed ahead by a
   * forgery proves its way back with a newly signed incarnation (see `forget`), and that
   * passport arrives in a datagram the pushed window refuses.
   */
  open(frame: Uint8Array, onRefused?: (o: OpenedFrame) => void): OpenedFrame | undefined {
    const o = this.opener(frame, this.keyring);
    if (!o.ok) return this.#drop(o.reason);
    const verdict = this.#replay.verdict(o.header.sender, o.header.gen, o.header.seq);
    if (verdict === 'fresh') return o;
    this.#drop(verdict);
    // A plain replay ('replayed') cannot hide a device: its real datagrams are ahead of it.
    if (verdict !== 'replayed') onRefused?.(o);
    return undefined;
  }

  /**
   * The datagram's messages were admitted and name `sender`: accept it if its header is that
   * sender's, and move the window. Without a named sender nothing moves (the datagram carries
   * only records signed by their authors). False (counted) when the datagram must be dropped.
   */
  admit(frame: OpenedFrame, sender: ProvenSender | undefined | 'mixed'): boolean {
    if (sender === undefined) return true;
    const h = frame.header;
    if (sender === 'mixed' || h.sender !== this.#tagOf(sender.id) || h.gen !== sender.gen) return this.#drop('sender-mismatch') ?? false;
    const verdict = this.#replay.record(h.sender, h.gen, h.seq);
    return verdict === 'fresh' || (this.#drop(verdict) ?? false);
  }

  /**
   * How an opened protocol datagram was addressed (its recipient mark and the socket it came
   * through, `viaGroup`), and whether its source is its sender's address. Undefined (counted as
   * `wrong-recipient`) when it was sealed for another device, or arrived the other way than it
   * was sent. Call before `admit`: whether it is the newest from its sender is read from the
   * window before the datagram moves it.
   */
  addressing(frame: OpenedFrame, viaGroup: boolean): { readonly how: Addressing; readonly sourceIsAddress: boolean } | undefined {
    const how = addressingOf(readRecipient(frame.plain), this.#sender, viaGroup);
    if (how === undefined) return this.#drop('wrong-recipient');
    const h = frame.header;
    return { how, sourceIsAddress: sourceIsSenderAddress(how, how === 'group' && this.#replay.isNewest(h.sender, h.gen, h.seq)) };
  }

  /**
   * The recipient mark (runtime/wire/recipient.ts) for a datagram to member `to`, to the group,
   * or (undefined) to an address whose device is not known.
   */
  mark(to: string | 'group' | undefined): Uint8Array {
    if (to === 'group') return GROUP_MARK;
    if (to === undefined) return UNADDRESSED_MARK;
    let m = this.#marks.get(to);
    if (!m) {
      if (this.#marks.size >= 4096) this.#marks.clear();
      this.#marks.set(to, (m = recipientMark({ kind: 'member', tag: this.#tagOf(to) })));
    }
    return m;
  }

  /** Forget a sender's window (it proved a new life or incarnation by signature). */
  forget(id: string): void {
    this.#replay.forget(this.#tagOf(id));
  }

  #tagOf(id: string): number {
    let t = this.#tags.get(id);
    if (t === undefined) {
      if (this.#tags.size >= 4096) this.#tags.clear();
      this.#tags.set(id, (t = senderTag(id)));
    }
    return t;
  }

  #drop(reason: ChannelDrop): undefined {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
    return undefined;
  }

  /** Senders tracked by the replay window (bounded). */
  get trackedSenders(): number {
    return this.#replay.size;
  }
}

/**
 * Random bytes drawn from a pool refilled 4 KiB at a time. A nonce needs 6 random bytes per
 * datagram; asking the OS for each cost more than the seal itself in a 128-node benchmark.
 */
export function pooledRandom(): (n: number) => Uint8Array {
  let pool: Uint8Array = new Uint8Array(0);
  let at = 0;
  return (n: number): Uint8Array => {
    if (at + n > pool.length) {
      pool = nacl.randomBytes(Math.max(4096, n));
      at = 0;
    }
    const out = pool.subarray(at, at + n);
    at += n;
    return out;
  };
}
