// The first byte of every datagram says what kind of frame it is. On the wire a fleet sends only
// sealed frames; inside the seal, the plaintext is either protocol messages or a control frame.
//
//   0x81            sealed frame (runtime/crypto/seal.ts): key id, nonce, secretbox
//   WIRE_VERSION    protocol messages (datagram.ts), plaintext or inside a seal; inside a seal
//                   the first item names the recipient (recipient.ts), skipped as an unknown
//                   type by version-1 receivers that predate it, so the version stays 1
//   0x02            control frame, only ever inside a seal: a keyring offer (keyring-offer.ts)
//
// The values never collide: a receiver tells them apart by this byte alone.

export { WIRE_VERSION } from './version.js';

/** First byte of a sealed datagram. */
export const SEALED_FRAME = 0x81;

/** First plaintext byte of a sealed frame that carries no protocol messages (keyring offers). */
export const CONTROL_FRAME = 0x02;
