import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { keyId, Keyring, open, seal, SEAL_OVERHEAD, SEALED_FRAME } from '../../runtime/crypto/seal.js';
import { Prng } from '../../runtime/sim/prng.js';

const k1 = new Uint8Array(32).fill(1);
const k2 = new Uint8Array(32).fill(2);
const text = new TextEncoder().encode('heartbeat from pi-kitchen');

describe('sealing datagrams under the fleet key', () => {
  it('round-trips, adds exactly SEAL_OVERHEAD bytes, and never repeats a nonce', () => {
    const ring = new Keyring([k1]);
    const a = seal(text, ring);
    const b = seal(text, ring);
    expect(a.length).toBe(text.length + SEAL_OVERHEAD);
    expect(a[0]).toBe(SEALED_FRAME);
    expect(Buffer.from(a.subarray(5, 29)).equals(Buffer.from(b.subarray(5, 29)))).toBe(false);
    const o = open(a, ring);
    expect(o.ok && Buffer.from(o.plain).toString()).toBe('heartbeat from pi-kitchen');
  });

  it('a device without the key learns nothing and injects nothing: unknown key id, or a forged id, fails', () => {
    const sealed = seal(text, new Keyring([k1]));
    expect(open(sealed, new Keyring([k2]))).toEqual({ ok: false, reason: 'unknown-key' });
    // An outsider copying a real key id onto its own box still fails the MAC.
    const forged = seal(text, new Keyring([k2]));
    new DataView(forged.buffer).setUint32(1, keyId(k1));
    expect(open(forged, new Keyring([k1]))).toEqual({ ok: false, reason: 'bad-mac' });
  });

  it('any flipped bit, in header, nonce, MAC or ciphertext, is refused', () => {
    const ring = new Keyring([k1]);
    const sealed = seal(text, ring);
    for (let i = 0; i < sealed.length; i++) {
      const t = sealed.slice();
      t[i]! ^= 0x04;
      expect(open(t, ring).ok, `byte ${i}`).toBe(false);
    }
  });

  it('truncated and plaintext datagrams are refused by reason', () => {
    const ring = new Keyring([k1]);
    expect(open(seal(text, ring).subarray(0, SEAL_OVERHEAD - 1), ring)).toEqual({ ok: false, reason: 'too-short' });
    expect(open(new Uint8Array(100).fill(1), ring)).toEqual({ ok: false, reason: 'not-sealed' });
  });

  it('rotation: with old and new keys installed and the new one primary, both old and new datagrams open', () => {
    const old = seal(text, new Keyring([k1]));
    const ring = new Keyring([k1], k2);
    expect(ring.primaryId).toBe(keyId(k2));
    expect(open(old, ring).ok).toBe(true);
    expect(open(seal(text, ring), new Keyring([k2])).ok).toBe(true);
    expect(() => ring.remove(keyId(k2))).toThrow(/is the primary/);
    ring.remove(keyId(k1));
    expect(open(old, ring)).toEqual({ ok: false, reason: 'unknown-key' });
  });

  it('keys of the wrong size are refused by length', () => {
    expect(() => new Keyring([new Uint8Array(16)])).toThrow(/expected 32 bytes, got 16/);
  });

  it('20,000 random inputs, including ones with a valid frame byte and key id, never throw and never open', () => {
    const ring = new Keyring([k1]);
    const rng = new Prng(42);
    for (let i = 0; i < 20_000; i++) {
      const n = Math.floor(rng.next() * 1300);
      const b = new Uint8Array(n);
      for (let j = 0; j < n; j++) b[j] = Math.floor(rng.next() * 256);
      if (n > 5 && i % 2 === 0) {
        b[0] = SEALED_FRAME;
        new DataView(b.buffer).setUint32(1, keyId(k1));
      }
      expect(open(b, ring).ok).toBe(false);
    }
  });

  it('key ids are the same on every device for the same key', () => {
    expect(keyId(k1)).toBe(keyId(new Uint8Array(32).fill(1)));
    expect(keyId(k1)).not.toBe(keyId(k2));
    expect(keyId(nacl.randomBytes(32))).toBeGreaterThanOrEqual(0);
  });
});
