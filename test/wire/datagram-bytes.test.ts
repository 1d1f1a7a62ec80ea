// Datagram buffers come from shared slabs, so each must still behave as an array of its own:
// zero-filled, independent of every other one handed out, across slab boundaries too. The
// opener's plaintexts are such arrays.
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { secretboxOpen } from '../../runtime/crypto/secretbox.js';
import { datagramBytes } from '../../runtime/wire/datagram-bytes.js';

describe('datagramBytes', () => {
  it('hands out zero-filled arrays of the size asked that never share a byte, across many slabs', () => {
    const held: Uint8Array[] = [];
    // Enough to fill several 16 KiB slabs, with sizes that leave ragged tails.
    for (let i = 0; i < 400; i++) {
      const b = datagramBytes(1 + ((i * 97) % 300));
      expect(b.length).toBe(1 + ((i * 97) % 300));
      expect(b.every((x) => x === 0), `array ${i} is not zero-filled`).toBe(true);
      b.fill(i % 255 + 1);
      held.push(b);
    }
    held.forEach((b, i) => expect(b.every((x) => x === i % 255 + 1), `array ${i} was written by another`).toBe(true));
  });

  it('gives a large request an array of its own', () => {
    const big = datagramBytes(5000);
    expect(big.length).toBe(5000);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(5000);
  });

  it('gives every opened datagram its own plaintext: opening the next ones leaves it as it was', () => {
    const key = nacl.randomBytes(32);
    const opened: { msg: Uint8Array; plain: Uint8Array }[] = [];
    for (let i = 0; i < 300; i++) {
      const msg = nacl.randomBytes(100 + i);
      const nonce = nacl.randomBytes(24);
      opened.push({ msg, plain: secretboxOpen(nacl.secretbox(msg, nonce, key), nonce, key)! });
    }
    opened.forEach(({ msg, plain }, i) => expect(Buffer.from(plain).equals(Buffer.from(msg)), `datagram ${i}`).toBe(true));
  });
});
