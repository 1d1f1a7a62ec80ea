// KeySync with fake hosts and no network: each fake host seals what KeySync asks it to send
// with a real FleetChannel, so a test can check which key a frame went out under by opening it
// at a device that holds only that key.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeySync, type OfferSigner } from '../../runtime/agent/key-sync.js';
import { nullLogger } from '../../runtime/log/log.js';
import { MULTICAST } from '../../runtime/core/effects.js';
import type { Address, NodeRef } from '../../runtime/core/messages.js';
import { FleetChannel } from '../../runtime/crypto/fleet-channel.js';
import { keyId, Keyring, type KeyRecord } from '../../runtime/crypto/keyring.js';
import { Prng } from '../../runtime/sim/prng.js';
import { publicKeyOf, type SigningKey } from '../../runtime/trust/ed25519.js';
import { Gatekeeper } from '../../runtime/trust/gatekeeper.js';

const WALL = Date.UTC(2026, 10, 23, 9);
const GRACE_MS = 7 * 86_400_000;
const rng = new Prng(41);
const material = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => rng.int(256));

const OLD_KEY = material(32);
const NEW_KEY = material(32);
const OLD_ID = keyId(OLD_KEY);
const NEW_ID = keyId(NEW_KEY);

/** The keyring after a rotation: NEW primary, OLD retired (within its grace, so it still opens for a handoff). */
function rotatedRecords(): KeyRecord[] {
  const ring = new Keyring(GRACE_MS, () => WALL);
  ring.use(ring.install(OLD_KEY));
  ring.use(ring.install(NEW_KEY));
  ring.remove(OLD_ID);
  return ring.records();
}
/** A device that was off during the rotation: it knows only OLD, as its primary. */
function asleepRecords(): KeyRecord[] {
  const ring = new Keyring(GRACE_MS, () => WALL - 60_000);
  ring.use(ring.install(OLD_KEY));
  return ring.records();
}

type HostOf = NonNullable<ReturnType<ConstructorParameters<typeof KeySync>[3]>>;

interface Sent {
  readonly to: Address;
  readonly frame: Uint8Array;
}

interface Device {
  readonly ref: NodeRef;
  readonly ring: Keyring;
  readonly channel: FleetChannel;
  readonly sync: KeySync;
  readonly sent: Sent[];
  persisted: number;
  now: number;
  members: { addr: Address; status: string }[];
}

function device(id: string, records: KeyRecord[]): Device {
  const ref = { id, gen: 1_795_000_000 + id.length };
  const secretKey = material(32);
  const key: SigningKey = { secretKey, publicKey: publicKeyOf(secretKey) };
  const ring = new Keyring(GRACE_MS, () => WALL, records);
  const channel = new FleetChannel(ring, id, ref.gen, material);
  const gate = new Gatekeeper({ self: ref, key, held: { version: () => undefined, max: () => 0 }, isMember: () => false });
  const signer: OfferSigner = { key, passport: () => gate.ownPassport(0, false) };
  const d: Device = { ref, ring, channel, sent: [], persisted: 0, now: 0, members: [], sync: undefined as unknown as KeySync };
  const host = {
    node: { members: () => d.members.values() },
    sendControl: (to: Address, plain: Uint8Array, id?: number) => d.sent.push({ to, frame: channel.seal(plain, id) }),
  } as unknown as HostOf;
  const persist = (): void => {
    d.persisted++;
  };
  return Object.assign(d, { sync: new KeySync(signer, gate, ring, () => host, persist, nullLogger, () => d.now) });
}

/** The 32-bit key id a sealed frame names (bytes 1-4). */
const sealedUnder = (frame: Uint8Array): number => ((frame[1]! << 24) | (frame[2]! << 16) | (frame[3]! << 8) | frame[4]!) >>> 0;

describe('the rotation handoff', () => {
  it('a datagram under an active key other than the primary is answered under that key', () => {
    const ring = new Keyring(GRACE_MS, () => WALL);
    ring.use(ring.install(OLD_KEY));
    ring.use(ring.install(NEW_KEY));
    const current = device('pi-hall', ring.records());
    expect(current.ring.state(OLD_ID)).toBe('active');
    current.sync.oldKey(OLD_ID, 'active', '10.0.0.9:7478');
    expect(current.sent.map((s) => sealedUnder(s.frame))).toEqual([OLD_ID]);
  });

  it('at most one handoff per address per 10 s, however many old-key datagrams arrive', () => {
    const current = device('pi-hall', rotatedRecords());
    current.now = 50_000;
    for (let i = 0; i < 5; i++) current.sync.oldKey(OLD_ID, 'retired', '10.0.0.9:7478');
    current.sync.oldKey(OLD_ID, 'retired', '10.0.0.8:7478');
    current.now += 9_999;
    current.sync.oldKey(OLD_ID, 'retired', '10.0.0.9:7478');
    expect(current.sent.map((s) => s.to)).toEqual(['10.0.0.9:7478', '10.0.0.8:7478']);
    current.now += 1;
    current.sync.oldKey(OLD_ID, 'retired', '10.0.0.9:7478');
    expect(current.sent.map((s) => s.to)).toEqual(['10.0.0.9:7478', '10.0.0.8:7478', '10.0.0.9:7478']);
    expect(current.sync.handoffsSent).toBe(3);
  });

  it('at most 20 handoffs a second across all addresses', () => {
    const current = device('pi-hall', rotatedRecords());
    current.now = 50_000;
    for (let i = 0; i < 30; i++) current.sync.oldKey(OLD_ID, 'retired', `10.0.1.${i}:7478`);
    expect(current.sent).toHaveLength(20);
    current.now += 1_000;
    current.sync.oldKey(OLD_ID, 'retired', '10.0.1.29:7478');
    expect(current.sent).toHaveLength(21);
  });
});

describe('offering a changed keyring to the fleet', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stop() cancels the repeats', () => {
    const d = device('pi-hall', rotatedRecords());
    d.sync.changed();
    const first = d.sent.length;
    expect(first).toBe(1);
    d.sync.stop();
    vi.advanceTimersByTime(60_000);
    expect(d.sent).toHaveLength(first);
  });
});
