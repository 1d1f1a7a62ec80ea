import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { FleetChannel } from '../../runtime/crypto/fleet-channel.js';
import { keyId, Keyring } from '../../runtime/crypto/keyring.js';
import { WINDOW } from '../../runtime/crypto/replay-window.js';
import { open, seal, SEAL_OVERHEAD, senderTag } from '../../runtime/crypto/seal.js';
import { SEALED_FRAME } from '../../runtime/wire/frames.js';
import { Prng } from '../../runtime/sim/prng.js';

const k1 = new Uint8Array(32).fill(1);
const k2 = new Uint8Array(32).fill(2);
const text = new TextEncoder().encode('heartbeat from pi-kitchen');
const header = { sender: senderTag('pi-kitchen'), gen: 1_700_000_000, seq: 7 };
const DAY = 86_400_000;

function ring(keys: Uint8Array[], primary?: Uint8Array, clock = (): number => 1_000_000): Keyring {
  const r = new Keyring(7 * DAY, clock);
  for (const k of keys) r.install(k);
  if (primary) r.use(r.install(primary));
  return r;
}

describe('sealing datagrams under the fleet key', () => {
  it('round-trips, adds exactly SEAL_OVERHEAD bytes, carries the replay header, and never repeats a nonce', () => {
    const r = ring([k1]);
    const a = seal(text, r, header);
    const b = seal(text, r, header);
    expect(a.length).toBe(text.length + SEAL_OVERHEAD);
    expect(a[0]).toBe(SEALED_FRAME);
    expect(Buffer.from(a.subarray(5, 29)).equals(Buffer.from(b.subarray(5, 29)))).toBe(false);
    const o = open(a, r);
    expect(o.ok && Buffer.from(o.plain).toString()).toBe('heartbeat from pi-kitchen');
    expect(o.ok && o.header).toEqual(header);
  });

  it('a device without the key learns nothing and injects nothing: unknown key id, or a forged id, fails', () => {
    const sealed = seal(text, ring([k1]), header);
    expect(open(sealed, ring([k2]))).toEqual({ ok: false, reason: 'unknown-key' });
    const forged = seal(text, ring([k2]), header);
    new DataView(forged.buffer).setUint32(1, keyId(k1));
    expect(open(forged, ring([k1]))).toEqual({ ok: false, reason: 'bad-mac' });
  });

  it('any flipped bit, in header, nonce (sender, generation, sequence), MAC or ciphertext, is refused', () => {
    const r = ring([k1]);
    const sealed = seal(text, r, header);
    for (let i = 0; i < sealed.length; i++) {
      const t = sealed.slice();
      t[i]! ^= 0x04;
      expect(open(t, r).ok, `byte ${i}`).toBe(false);
    }
  });

  it('truncated and plaintext datagrams are refused by reason', () => {
    const r = ring([k1]);
    expect(open(seal(text, r, header).subarray(0, SEAL_OVERHEAD - 1), r)).toEqual({ ok: false, reason: 'too-short' });
    expect(open(new Uint8Array(100).fill(1), r)).toEqual({ ok: false, reason: 'not-sealed' });
  });

  it('20,000 random inputs, including ones with a valid frame byte and key id, never throw and never open', () => {
    const r = ring([k1]);
    const rng = new Prng(42);
    for (let i = 0; i < 20_000; i++) {
      const n = Math.floor(rng.next() * 1300);
      const b = new Uint8Array(n);
      for (let j = 0; j < n; j++) b[j] = Math.floor(rng.next() * 256);
      if (n > 5 && i % 2 === 0) {
        b[0] = SEALED_FRAME;
        new DataView(b.buffer).setUint32(1, keyId(k1));
      }
      expect(open(b, r).ok).toBe(false);
    }
  });
});

/** What the host does with a datagram whose messages name `sender`: open, then admit. */
function receive(rx: FleetChannel, frame: Uint8Array, sender: { id: string; gen: number }): boolean {
  const o = rx.open(frame);
  return o !== undefined && rx.admit(o, sender);
}

describe('the fleet channel: sealing plus replay protection', () => {
  it('opens each datagram once; a replay, an earlier life of the sender, and one older than the window are refused and counted', () => {
    const r = ring([k1]);
    const rx = new FleetChannel(r, 'rx', 5);
    const tx = new FleetChannel(r, 'tx', 10);
    const me = { id: 'tx', gen: 10 };
    const frames = Array.from({ length: WINDOW + 52 }, (_, i) => tx.seal(new Uint8Array([i % 256])));
    expect(receive(rx, frames[0]!, me)).toBe(true);
    expect(receive(rx, frames[0]!, me)).toBe(false);
    // Reordering inside the window is accepted, once.
    expect(receive(rx, frames[200]!, me)).toBe(true);
    expect(receive(rx, frames[100]!, me)).toBe(true);
    expect(receive(rx, frames[100]!, me)).toBe(false);
    expect(receive(rx, frames[WINDOW + 51]!, me)).toBe(true);
    expect(receive(rx, frames[1]!, me)).toBe(false); // WINDOW + 50 behind: older than the window
    const earlierLife = new FleetChannel(r, 'tx', 9).seal(new Uint8Array([1]));
    expect(receive(rx, earlierLife, { id: 'tx', gen: 9 })).toBe(false);
    // A restart (higher generation) starts a fresh window even though its counter starts again.
    expect(receive(rx, new FleetChannel(r, 'tx', 11).seal(new Uint8Array([1])), { id: 'tx', gen: 11 })).toBe(true);
    expect(Object.fromEntries(rx.dropped)).toEqual({ replayed: 2, 'too-old': 1, 'stale-generation': 1 });
  });

  it('the window boundary: exactly WINDOW behind the newest is refused, WINDOW - 1 behind and unseen is accepted, once', () => {
    const r = ring([k1]);
    const rx = new FleetChannel(r, 'rx', 5);
    const tx = new FleetChannel(r, 'tx', 10);
    const me = { id: 'tx', gen: 10 };
    const frames = Array.from({ length: WINDOW + 2 }, (_, i) => tx.seal(new Uint8Array([i % 256]))); // sequences 1..WINDOW+2
    expect(receive(rx, frames[0]!, me)).toBe(true); // seq 1
    expect(receive(rx, frames[WINDOW + 1]!, me)).toBe(true); // seq WINDOW + 2: seq 2 is now exactly WINDOW behind
    expect(receive(rx, frames[1]!, me)).toBe(false);
    expect(rx.dropped.get('too-old')).toBe(1);
    expect(receive(rx, frames[2]!, me)).toBe(true); // seq 3: WINDOW - 1 behind, never seen
    expect(receive(rx, frames[2]!, me)).toBe(false);
    expect(rx.dropped.get('replayed')).toBe(1);
  });

  it('opening looks at the window without moving it: only admit, for the sender the header names, moves it', () => {
    const r = ring([k1]);
    const rx = new FleetChannel(r, 'rx', 5);
    const frame = new FleetChannel(r, 'tx', 10).seal(new Uint8Array([1]));
    // Opened twice without an admit: nothing recorded, both open.
    expect(rx.open(frame)).toBeDefined();
    const o = rx.open(frame)!;
    // Admitted for another sender, or another generation of this one: dropped, window untouched.
    expect(rx.admit(o, { id: 'someone-else', gen: 10 })).toBe(false);
    expect(rx.admit(o, { id: 'tx', gen: 11 })).toBe(false);
    expect(rx.admit(o, 'mixed')).toBe(false);
    expect(rx.dropped.get('sender-mismatch')).toBe(3);
    expect(rx.trackedSenders).toBe(0);
    // No sender named (passports or forwarded messages only): delivered, nothing recorded.
    expect(rx.admit(o, undefined)).toBe(true);
    expect(rx.trackedSenders).toBe(0);
    expect(rx.admit(o, { id: 'tx', gen: 10 })).toBe(true);
    expect(rx.open(frame)).toBeUndefined();
    expect(rx.dropped.get('replayed')).toBe(1);
  });

  it('a forged header with a huge generation, dropped as a mismatch, leaves the real sender accepted', () => {
    const r = ring([k1]);
    const rx = new FleetChannel(r, 'rx', 5);
    const tx = new FleetChannel(r, 'tx', 10);
    const me = { id: 'tx', gen: 10 };
    expect(receive(rx, tx.seal(new Uint8Array([1])), me)).toBe(true);
    const forged = seal(new Uint8Array([1]), r, { sender: senderTag('tx'), gen: 2 ** 48 - 1, seq: 2 ** 48 - 1 });
    expect(receive(rx, forged, { id: 'insider', gen: 3 })).toBe(false);
    expect(receive(rx, forged, me)).toBe(false);
    expect(receive(rx, tx.seal(new Uint8Array([2])), me)).toBe(true);
    expect(rx.dropped.get('sender-mismatch')).toBe(2);
  });

  it('the replay table is bounded and least recently heard senders go first: thousands of senders do not grow it past its cap', () => {
    const r = ring([k1]);
    const rx = new FleetChannel(r, 'rx', 1);
    const steady = new FleetChannel(r, 'steady', 1);
    for (let i = 0; i < 5000; i++) {
      expect(receive(rx, new FleetChannel(r, `spoof-${i}`, 1).seal(new Uint8Array([0])), { id: `spoof-${i}`, gen: 1 })).toBe(true);
      if (i % 1000 === 0) expect(receive(rx, steady.seal(new Uint8Array([0])), { id: 'steady', gen: 1 })).toBe(true);
    }
    expect(rx.trackedSenders).toBe(2048);
    // The steady sender was heard within the last 2,048 and is still tracked: its replays are refused.
    const again = steady.seal(new Uint8Array([0]));
    expect(receive(rx, again, { id: 'steady', gen: 1 })).toBe(true);
    expect(receive(rx, again, { id: 'steady', gen: 1 })).toBe(false);
  });

  it('a forgotten or evicted sender starts again at its next datagram, and its earlier datagrams do not replay into the new window', () => {
    const r = ring([k1]);
    const rx = new FleetChannel(r, 'rx', 1);
    const tx = new FleetChannel(r, 'tx', 10);
    const me = { id: 'tx', gen: 10 };
    const old = [tx.seal(new Uint8Array([0])), tx.seal(new Uint8Array([1]))];
    for (const f of old) expect(receive(rx, f, me)).toBe(true);
    rx.forget('tx');
    expect(rx.trackedSenders).toBe(0);
    expect(receive(rx, tx.seal(new Uint8Array([2])), me)).toBe(true);
    for (const f of old) expect(receive(rx, f, me)).toBe(false);
  });
});

describe('the keyring', () => {
  it('rotation: install, use, then remove the old key; old datagrams open as retired during the grace period only', () => {
    let now = 1_000_000;
    const clock = (): number => now;
    const old = seal(text, ring([k1]), header);
    const r = ring([k1], k2, clock);
    expect(r.primaryId).toBe(keyId(k2));
    expect(open(old, r)).toMatchObject({ ok: true, keyState: 'active' });
    expect(() => r.remove(keyId(k2))).toThrow(/is the primary/);
    r.remove(keyId(k1));
    expect(open(old, r)).toMatchObject({ ok: true, keyState: 'retired' });
    now += 8 * DAY;
    expect(open(old, r)).toEqual({ ok: false, reason: 'unknown-key' });
  });

  it('a key removed as compromised gets no grace, loses its bytes, and cannot be installed again', () => {
    const r = ring([k1], k2);
    r.remove(keyId(k1), true);
    expect(r.lookup(keyId(k1))).toBeUndefined();
    expect(r.records().find((x) => x.id === keyId(k1))?.key).toBeUndefined();
    expect(() => r.install(k1)).toThrow(/compromised/);
  });

  it('merging converges whatever the order, and a device that missed a rotation catches up from any peer', () => {
    let t = 1_000_000;
    const a = new Keyring(7 * DAY, () => t);
    a.install(k1);
    const b = new Keyring(7 * DAY, () => t, a.records());
    const asleep = new Keyring(7 * DAY, () => t, a.records());
    t += 1000;
    a.install(k2);
    b.merge(a.records());
    t += 1000;
    b.use(keyId(k2));
    t += 1000;
    b.remove(keyId(k1));
    a.merge(b.records());
    expect(a.primaryId).toBe(keyId(k2));
    expect(a.state(keyId(k1))).toBe('retired');
    expect(asleep.primaryId).toBe(keyId(k1));
    expect(asleep.merge(b.records())).toBe(true);
    expect(asleep.merge(b.records())).toBe(false);
    expect(asleep.primaryId).toBe(keyId(k2));
    expect(asleep.records()).toEqual(b.records());
  });

  it('stamps order a change after everything seen, even when the local clock is years behind', () => {
    const ahead = new Keyring(7 * DAY, () => 2_000_000_000_000);
    ahead.install(k1);
    ahead.use(ahead.install(k2));
    const behind = new Keyring(7 * DAY, () => 0, ahead.records());
    behind.use(keyId(k1));
    ahead.merge(behind.records());
    expect(ahead.primaryId).toBe(keyId(k1));
  });

  it('refuses wrong-sized keys and garbage records', () => {
    expect(() => ring([new Uint8Array(16)])).toThrow(/expected 32 bytes, got 16/);
    const r = ring([k1]);
    expect(r.merge([{ id: 1234, key: k2, installed: 9e12, used: 9e12, removed: 0, compromised: false }])).toBe(false);
    expect(r.primaryId).toBe(keyId(k1));
    expect(keyId(nacl.randomBytes(32))).toBeGreaterThanOrEqual(0);
  });
});
