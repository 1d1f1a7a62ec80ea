// Who a datagram is for, written inside the seal so it is authenticated with everything else.
// A datagram sealed for one device cannot be replayed to another: the other reads a recipient
// that is not itself and drops it before decoding (runtime/crypto/addressing.ts).
//
// The mark is the first item after the wire version byte, a two-element array whose type
// number no message uses:
//
//   [RECIPIENT_ITEM, tag]   a device: the 6 bytes of its node-id hash (seal.ts senderTag), 9 bytes
//   [RECIPIENT_ITEM, 0]     the group (multicast), 3 bytes
//   [RECIPIENT_ITEM, 1]     a unicast address whose device the sender does not know yet (a seed)
//
// Wire version 1 receivers that predate the mark skip it as an unknown message type and keep
// the rest of the datagram, so a fleet can be upgraded one device at a time. A datagram without
// a mark comes from such a device.

import { WIRE_VERSION } from './version.js';

/** The mark's type number, above every message type (runtime/core/messages.ts MsgType). */
export const RECIPIENT_ITEM = 23;
/** The largest mark: what a sealed datagram's plaintext budget sets aside for it. */
export const RECIPIENT_MARK_BYTES = 9;

export type Recipient =
  | { readonly kind: 'member'; readonly tag: number }
  | { readonly kind: 'group' }
  | { readonly kind: 'unaddressed' };

const ARRAY_2 = 0x82;
const BYTES_6 = 0x46;
const GROUP = 0;
const UNADDRESSED = 1;

const groupMark = Uint8Array.of(ARRAY_2, RECIPIENT_ITEM, GROUP);
const unaddressedMark = Uint8Array.of(ARRAY_2, RECIPIENT_ITEM, UNADDRESSED);

/** The mark's bytes. */
export function recipientMark(r: Recipient): Uint8Array {
  if (r.kind === 'group') return groupMark;
  if (r.kind === 'unaddressed') return unaddressedMark;
  const out = new Uint8Array(RECIPIENT_MARK_BYTES);
  out[0] = ARRAY_2;
  out[1] = RECIPIENT_ITEM;
  out[2] = BYTES_6;
  let v = r.tag;
  for (let i = 8; i >= 3; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** Bytes of a well-formed mark at the start of a plaintext datagram (after the version byte); 0 without one. */
export function markLength(plain: Uint8Array): number {
  if (plain[0] !== WIRE_VERSION || plain[1] !== ARRAY_2 || plain[2] !== RECIPIENT_ITEM) return 0;
  if (plain[3] === BYTES_6) return plain.length >= 1 + RECIPIENT_MARK_BYTES ? RECIPIENT_MARK_BYTES : 0;
  return plain[3] === GROUP || plain[3] === UNADDRESSED ? 3 : 0;
}

/**
 * The recipient a plaintext datagram names: undefined when it carries no mark (a sender that
 * predates it), 'invalid' for a mark no sender writes.
 */
export function readRecipient(plain: Uint8Array): Recipient | 'invalid' | undefined {
  const n = markLength(plain);
  if (n === 0) return plain[0] === WIRE_VERSION && plain[1] === ARRAY_2 && plain[2] === RECIPIENT_ITEM ? 'invalid' : undefined;
  if (n === 3) return plain[3] === GROUP ? { kind: 'group' } : { kind: 'unaddressed' };
  let tag = 0;
  for (let i = 4; i < 10; i++) tag = tag * 256 + plain[i]!;
  return { kind: 'member', tag };
}
