// One device's end of the fleet's sealed channel: seals what it sends under the primary key
// with its replay header, and opens what it receives, refusing (and counting) anything that
// is not sealed under a fleet key or was seen before. The protocol never sees those datagrams.

import nacl from 'tweetnacl';
import type { Keyring } from './keyring.js';
import { ReplayWindow } from './replay-window.js';
import { open, seal, senderTag, type FrameHeader, type Opened, type OpenFailure, type SealKeys } from './seal.js';

export type ChannelDrop = OpenFailure | 'replayed' | 'stale-generation' | 'too-old';

export interface OpenedFrame {
  readonly plain: Uint8Array;
  readonly keyId: number;
  /** 'retired': the sender missed a rotation. Answer it; do not believe it. */
  readonly keyState: 'active' | 'retired';
  readonly header: FrameHeader;
}

/** Authenticates and decrypts one frame (seal.ts `open`); a pure function of the frame and the keys. */
export type FrameOpener = (frame: Uint8Array, keys: SealKeys) => Opened;

export class FleetChannel {
  readonly dropped = new Map<ChannelDrop, number>();
  readonly #replay = new ReplayWindow();
  readonly #sender: number;
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

  open(frame: Uint8Array): OpenedFrame | undefined {
    const o = this.opener(frame, this.keyring);
    if (!o.ok) return this.#drop(o.reason);
    const verdict = this.#replay.check(o.header.sender, o.header.gen, o.header.seq);
    if (verdict !== 'fresh') return this.#drop(verdict);
    return o;
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
