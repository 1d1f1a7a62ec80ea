// Property-based fuzzing of everything a received datagram goes through on a device: the seal
// (key id, MAC), the replay window, the wire decoder, the gatekeeper, the key handoff and the
// protocol core, wired the way `murmur start` wires them (runtime/agent/agent.ts). Sends are
// captured in memory and timers are frozen (vi fake timers): between two datagrams nothing
// happens, so any change to the device is the datagram's doing.
//
// The device first meets a small fleet through genuine sealed traffic. Then each property feeds
// it one kind of hostile input and checks, after every datagram: receive() did not throw, no
// exception was caught inside the host, the member view (ids, generations, statuses) is what
// the genuine traffic made it, no membership event fired, the member count and the replay
// window's senders stay bounded, and the refusal landed in the counter it belongs in.
//
// Seeds are fixed, so a failure replays: fast-check prints the seed and the path of the
// shrunk counterexample. For a longer hunt: MURMUR_FUZZ_SEED=$RANDOM MURMUR_FUZZ_RUNS=20
// npx vitest run test/security (RUNS multiplies every property's run count).

import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeOffer, KeySync, type OfferSigner } from '../../runtime/agent/key-sync.js';
import { nullLogger } from '../../runtime/log/log.js';
import { assembleNode } from '../../runtime/host/assembly.js';
import type { NodeHost } from '../../runtime/host/node-host.js';
import type { TimerScheduler } from '../../runtime/host/scheduler.js';
import type { Transport } from '../../runtime/net/transport.js';
import { newCounters } from '../../runtime/net/transport.js';
import type { CoreEvent } from '../../runtime/core/effects.js';
import { MsgType, type Address, type DigestEntry, type KvEntry, type Message, type NodeRef } from '../../runtime/core/messages.js';
import type { Node } from '../../runtime/core/node.js';
import { profileByName } from '../../runtime/core/profiles.js';
import { FleetChannel } from '../../runtime/crypto/fleet-channel.js';
import { Keyring } from '../../runtime/crypto/keyring.js';
import { SEAL_OVERHEAD, seal, senderTag, type SealKeys } from '../../runtime/crypto/seal.js';
import { SEALED_FRAME } from '../../runtime/wire/frames.js';
import { ReplayWindow, WINDOW } from '../../runtime/crypto/replay-window.js';
import { bytesFrom, Prng } from '../../runtime/sim/prng.js';
import { publicKeyOf, type SigningKey } from '../../runtime/trust/ed25519.js';
import { datagramSender } from '../../runtime/trust/datagram-sender.js';
import { signKv, signPassport } from '../../runtime/trust/records.js';
import { decodeDatagram, encodeDatagram, encodeMessage } from '../../runtime/wire/index.js';

const SEED = Number(process.env['MURMUR_FUZZ_SEED'] ?? 20261123);
const SCALE = Number(process.env['MURMUR_FUZZ_RUNS'] ?? 1);
const runs = (n: number): { seed: number; numRuns: number } => ({ seed: SEED, numRuns: Math.max(1, Math.round(n * SCALE)) });

const WIRE = profileByName('lan');
/** Bytes per datagram on the wire, seal included (what the host is given). */
const BUDGET = WIRE.datagramBudget;
/** What the wire layer may fill inside the seal. */
const PLAIN_BUDGET = BUDGET - SEAL_OVERHEAD;
const WALL = Date.UTC(2026, 10, 23, 9);
const GRACE_MS = 7 * 86_400_000;

// ------------------------------------------------------------------ deterministic material

/** Every key, nonce and signature in this file comes from here, so every run replays. */
const material = bytesFrom(new Prng(SEED));

function signingKey(): SigningKey {
  const secretKey = material(32);
  return { secretKey, publicKey: publicKeyOf(secretKey) };
}

/**
 * The fleet's keyring as every device holds it after one rotation: the current key (primary)
 * and the previous one, retired within its grace period (it still opens, for a handoff only).
 */
const FLEET_KEY = material(32);
const RETIRED_KEY = material(32);
const fleetRecords = (() => {
  const ring = new Keyring(GRACE_MS, () => WALL);
  const old = ring.install(RETIRED_KEY);
  ring.use(old);
  ring.use(ring.install(FLEET_KEY));
  ring.remove(old);
  return ring.records();
})();
const keyringOfADevice = (): Keyring => new Keyring(GRACE_MS, () => WALL, fleetRecords);
const FLEET_ID = keyringOfADevice().primaryId!;
const RETIRED_ID = fleetRecords.find((r) => r.id !== FLEET_ID)!.id;

const be32 = (id: number): number[] => [id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff];
const concat = (...parts: ArrayLike<number>[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

// ------------------------------------------------------------------ the legitimate fleet

/** A fleet member as seen from outside: its identity, its own end of the sealed channel, its signing key. */
interface Device {
  readonly ref: NodeRef;
  readonly addr: Address;
  readonly channel: FleetChannel;
  readonly key: SigningKey;
  seq: number;
}

function device(id: string, gen: number, addr: Address, ring: Keyring = keyringOfADevice()): Device {
  return { ref: { id, gen }, addr, channel: new FleetChannel(ring, id, gen, material), key: signingKey(), seq: 0 };
}

/**
 * Legitimate traffic, built the way a device sends it (NodeHost): its messages encoded against
 * the budget less the seal, then sealed by the sender's own channel. Whatever the receive path
 * comes to require of genuine traffic, this and `introduce` are the places to teach it.
 */
function genuine(d: Device, msgs: readonly Message[]): Uint8Array {
  return d.channel.seal(encodeDatagram(msgs, PLAIN_BUDGET));
}

/** A heartbeat as a device's first ones go out: its signed passport ahead of it. */
function introduce(d: Device, kvMax = 0): Message[] {
  return [
    signPassport(d.key, d.ref, 0, false, null),
    { type: MsgType.Heartbeat, from: d.ref, inc: 0, seq: ++d.seq, intervalMs: 250, kvMax, view: 0 },
  ];
}

const SELF: NodeRef = { id: 'pi-under-test', gen: 1_795_424_497 };
const SELF_ADDR = '10.77.0.10:7478';

/** Everything legitimate the device heard while meeting the fleet, as plaintext and as sealed on the wire. */
interface Meeting {
  readonly peers: Device[];
  readonly plain: Message[][];
  readonly sealed: { readonly bytes: Uint8Array; readonly from: Address }[];
}

function fleetTraffic(): Meeting {
  const peers = [device('pi-hall', 1_795_000_001, '10.77.0.11:7478'), device('pi-kitchen', 1_795_000_002, '10.77.0.12:7478'), device('pi-porch', 1_795_000_003, '10.77.0.13:7478')];
  const plain: Message[][] = [];
  const sealed: Meeting['sealed'][number][] = [];
  const say = (d: Device, msgs: Message[]): void => {
    plain.push(msgs);
    sealed.push({ bytes: genuine(d, msgs), from: d.addr });
  };
  for (const d of peers) say(d, introduce(d));
  const entries: DigestEntry[] = [
    ...peers.map((p) => ({ id: p.ref.id, gen: p.ref.gen, inc: 0, status: 'alive' as const, hb: p.seq, kvMax: 0, addr: p.addr })),
    { id: SELF.id, gen: SELF.gen, inc: 0, status: 'alive' as const, hb: 1, kvMax: 0, addr: SELF_ADDR },
  ].sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const d of peers) {
    const e: Omit<KvEntry, 'sig'> = { key: 'sensor/temp', version: 1, value: 21.5, ttlMs: 0 };
    const signed: KvEntry = { ...e, sig: signKv(d.key, d.ref, e) };
    say(d, [{ type: MsgType.Delta, from: d.ref, owner: d.ref, fromV: 0, toV: 1, reset: false, entries: [signed] }]);
    say(d, [...introduce(d, 1), { type: MsgType.Digest, from: d.ref, lo: entries[0]!.id, hi: entries[entries.length - 1]!.id, reply: false, entries }]);
    say(d, [{ type: MsgType.Ping, from: d.ref, target: SELF, probe: d.seq }]);
    say(d, [{ type: MsgType.WhoIs, from: d.ref, ids: peers.filter((p) => p !== d).map((p) => p.ref.id) }]);
  }
  return { peers, plain, sealed };
}

// ------------------------------------------------------------------ the device under test

interface Target {
  readonly host: NodeHost;
  readonly node: Node;
  readonly channel: FleetChannel;
  readonly keyring: Keyring;
  readonly keySync: KeySync;
  readonly sent: { readonly to: Address; readonly bytes: Uint8Array }[];
  readonly events: CoreEvent[];
  readonly errors: string[];
  readonly meeting: Meeting;
  /** The member view after meeting the fleet: "id gen status", sorted. */
  readonly view: readonly string[];
  /** Sends and events already checked by `feed`. */
  checked: { sent: number; events: number };
}

const viewOf = (node: Node): string[] => [...node.members()].map((m) => `${m.id} ${m.gen} ${m.status}`).sort();
const MEMBERSHIP_EVENTS = new Set<CoreEvent['type']>(['member-joined', 'member-restarted', 'member-status', 'member-removed']);

/** A device as `murmur start` builds one (agent.ts), fed the fleet's genuine traffic. */
function meetFleet(): Target {
  const now = 60_000;
  const clock = (): number => now;
  const keyring = keyringOfADevice();
  const deviceKey = signingKey();
  const sent: Target['sent'][number][] = [];
  const events: CoreEvent[] = [];
  const errors: string[] = [];
  // Sends are captured; timers never fire (between two datagrams nothing happens).
  const transport: Transport = {
    localAddress: SELF_ADDR,
    multicastReady: true,
    counters: newCounters(),
    send: (to, bytes) => sent.push({ to, bytes }),
    listen: () => {},
    close: async () => {},
  };
  const frozen: TimerScheduler = { at: () => {}, cancelAll: () => {}, late: 0 };
  let keySync: KeySync | undefined;
  const { host, node, channel, gate } = assembleNode({
    ...SELF,
    profile: WIRE,
    transport,
    clock,
    scheduler: frozen,
    rng: new Prng(SEED),
    multicast: true,
    security: { keyring, deviceKey, nonces: material },
    onOldKey: (k, state, from) => keySync!.oldKey(k, state, from),
    onControl: (plain, from, admit) => keySync!.control(plain, from, admit),
    onEvent: (e) => events.push(e),
    onError: (where, e) => errors.push(`${where}: ${e.stack ?? e.message}`),
  });
  const signer: OfferSigner = { key: deviceKey, passport: () => gate!.ownPassport(node.incarnation, false) };
  keySync = new KeySync(signer, gate!, keyring, () => host, () => {}, nullLogger, clock);
  host.start();
  const meeting = fleetTraffic();
  for (const d of meeting.sealed) host.receive(d.bytes, d.from, true);
  const view = viewOf(node);
  expect(view).toEqual(meeting.peers.map((p) => `${p.ref.id} ${p.ref.gen} alive`).sort());
  // Genuine traffic is refused nowhere.
  expect(host.refusals()).toEqual({});
  expect(host.internalErrors).toBe(0);
  events.length = 0;
  return { host, node, channel: channel!, keyring, keySync, sent, events, errors, meeting, view, checked: { sent: sent.length, events: 0 } };
}

/** Refusal counters that changed between two snapshots, and by how much. */
function grew(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}

const WIRE_REASONS = ['oversize', 'empty', 'bad-version', 'malformed-cbor', 'unknown-type', 'invalid-field', 'too-many-messages'];
const CHANNEL_REASONS = ['too-short', 'not-sealed', 'unknown-key', 'bad-mac', 'replayed', 'stale-generation', 'too-old'];

/**
 * Feed one datagram and check every invariant. Returns the refusal counters it moved.
 * `maxSenders`: senders the replay window may track (the fleet plus the test's own insiders).
 */
function feed(t: Target, bytes: Uint8Array, from: Address, viaMulticast: boolean, maxSenders: number): Record<string, number> {
  const before = t.host.refusals();
  expect(() => t.host.receive(bytes, from, viaMulticast)).not.toThrow();
  expect(t.errors).toEqual([]);
  expect(t.host.internalErrors).toBe(0);
  expect(viewOf(t.node)).toEqual(t.view);
  expect(t.events.slice(t.checked.events).filter((e) => MEMBERSHIP_EVENTS.has(e.type))).toEqual([]);
  t.checked.events = t.events.length;
  expect(t.node.presentCount).toBe(t.meeting.peers.length);
  expect(t.channel.trackedSenders).toBeLessThanOrEqual(maxSenders);
  expect(t.keyring.primaryId).toBe(FLEET_ID);
  expect(t.keyring.records()).toEqual(fleetRecords);
  // Whatever it answers fits a datagram.
  for (const s of t.sent.slice(t.checked.sent)) expect(s.bytes.length).toBeLessThanOrEqual(BUDGET);
  t.checked.sent = t.sent.length;
  return grew(before, t.host.refusals());
}

/** The refusal an outsider's frame must get from the seal: decided by its length, first byte and key id alone. */
function sealVerdict(frame: Uint8Array): string {
  if (frame.length < SEAL_OVERHEAD) return 'too-short';
  if (frame[0] !== SEALED_FRAME) return 'not-sealed';
  const id = ((frame[1]! << 24) | (frame[2]! << 16) | (frame[3]! << 8) | frame[4]!) >>> 0;
  return id === FLEET_ID || id === RETIRED_ID ? 'bad-mac' : 'unknown-key';
}

/**
 * After the abuse, the fleet's own traffic still gets through: a genuine heartbeat and ping from
 * each peer are refused nowhere, and the ping is answered with an Ack the peer can open.
 */
function stillServesTheFleet(t: Target, maxSenders: number): void {
  for (const p of t.meeting.peers) {
    const probe = 1_000_000 + p.seq;
    const sent = t.sent.length;
    expect(feed(t, genuine(p, [...introduce(p, 1), { type: MsgType.Ping, from: p.ref, target: SELF, probe }]), p.addr, false, maxSenders)).toEqual({});
    const answers = t.sent.slice(sent).filter((s) => s.to === p.addr).map((s) => p.channel.open(s.bytes));
    const acks = answers.flatMap((o) => (o ? decodeDatagram(o.plain, PLAIN_BUDGET).messages : [])).filter((m) => m.type === MsgType.Ack);
    expect(acks).toContainEqual({ type: MsgType.Ack, from: SELF, probe, inc: t.node.incarnation });
  }
}

// ------------------------------------------------------------------ generators

const rawCbor = new Encoder({ useRecords: false, tagUint8Array: false });
/** cbor-x as it comes: records, tags, maps, typed arrays. What an attacker's encoder might emit. */
const anyCbor = new Encoder();

const addresses = ['10.77.0.11:7478', '10.77.0.99:7478', '[fe80::99%eth0]:7478', '10.77.0.13:40000', 'not an address'];
const fromArb = fc.constantFrom(...addresses);
const peerIds = ['pi-hall', 'pi-kitchen', 'pi-porch'];
const idArb = fc.oneof(fc.constantFrom(SELF.id, ...peerIds), fc.string({ maxLength: 70 }), fc.string({ unit: 'binary', maxLength: 20 }));
const genArb = fc.oneof(fc.constantFrom(SELF.gen, 1_795_000_001, 1_795_000_002, 1_795_000_003, 1_795_000_004, 0, 1), fc.integer(), fc.double(), fc.constant(2 ** 53));
const numArb = fc.oneof(fc.nat(300), fc.integer(), fc.double(), fc.constant(-1), fc.constant(2 ** 32), fc.constant(Number.MAX_SAFE_INTEGER));

/** A plaintext murmur heartbeat (with a valid self-signed passport) from a made-up or stolen id. */
const fakeHeartbeat = fc.record({ id: idArb.filter((s) => s.length > 0 && Buffer.byteLength(s) <= 64), gen: fc.integer({ min: 1, max: 2 ** 40 }), seq: fc.nat(), inc: fc.nat(5) }).map(({ id, gen, seq, inc }) => {
  const ref = { id, gen };
  return encodeDatagram([signPassport(signingKey(), ref, inc, false, null), { type: MsgType.Heartbeat, from: ref, inc, seq, intervalMs: 250, kvMax: 0, view: 0 }], PLAIN_BUDGET);
});

/** CBOR heads that murmur's scanner must refuse wherever they are reached. */
const BAD_HEADS: number[][] = [
  [0xa1], [0xbf], [0x9f], [0x5f], [0x7f], // maps, indefinite lengths
  [0xc0], [0xc1], [0xc6], [0xd8, 0x1b], [0xd8, 0x1c], [0xd8, 0x1d], [0xd8, 0x40], [0xd8, 0x69], [0xd9, 0x01, 0x02], [0xd9, 0xdf, 0xff], [0xdb, 0, 0, 0, 1, 0, 0, 0, 0], // tags
  [0x9b, 0, 0, 0, 1, 0, 0, 0, 0], [0x9a, 0xff, 0xff, 0xff, 0xff], [0x5a, 0xff, 0xff, 0xff, 0xff], [0x7b, 0, 0, 0, 1, 0, 0, 0, 0], // lengths past the end
  [0x1c], [0x3d], [0xf7], [0xf8, 0x20], [0xfc], // reserved, undefined, simple values
];
/** Arrays whose first element is the next head (of one, of two, of one with a 1-byte length). */
const ARRAY_HEADS: number[][] = [[0x81], [0x82], [0x98, 0x01]];
/**
 * Deeply nested arrays, maps and tags: a chain of heads where each one's first element is the
 * next. Five nested arrays, or any bad head among the first five, make it malformed.
 */
const hostileCbor = fc
  .record({
    heads: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ARRAY_HEADS) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_HEADS) }), { minLength: 1, maxLength: 400 }),
    deep: fc.oneof({ weight: 3, arbitrary: fc.nat(4) }, { weight: 1, arbitrary: fc.integer({ min: 5, max: 1100 }) }),
    tail: fc.uint8Array({ maxLength: 16 }),
  })
  .filter(({ heads, deep }) => deep >= 5 || heads.length >= 5 || heads.some((h) => BAD_HEADS.includes(h)))
  .map(({ heads, deep, tail }) => concat([1], new Array<number>(Math.min(deep, 1100)).fill(0x81), ...heads, tail).subarray(0, PLAIN_BUDGET));

/** Arrays shaped like messages ([type, fields...]) with fields of every CBOR type murmur uses, in the wrong places. */
const fieldArb: fc.Arbitrary<unknown> = fc.oneof(
  numArb,
  fc.boolean(),
  fc.constant(null),
  idArb,
  fc.uint8Array({ maxLength: 80 }),
  fc.tuple(idArb, genArb),
  fc.array(fc.oneof(numArb, idArb, fc.tuple(idArb, genArb), fc.array(fc.oneof(numArb, idArb, fc.boolean(), fc.uint8Array({ maxLength: 70 })), { maxLength: 8 })), { maxLength: 8 }),
);
const messageShaped = fc
  .array(fc.tuple(fc.integer({ min: -1, max: 13 }), fc.array(fieldArb, { maxLength: 9 })), { minLength: 1, maxLength: 6 })
  .map((ms) => concat([1], ...ms.map(([type, fields]) => Uint8Array.from(rawCbor.encode([type, ...fields])))).subarray(0, PLAIN_BUDGET));

/** Well-formed messages of every type with made-up contents: what only a fleet-key holder could send. */
function wellFormed(): fc.Arbitrary<Message> {
  const ref = fc.record({ id: idArb.filter((s) => Buffer.byteLength(s) <= 64), gen: fc.constantFrom(SELF.gen, 1_795_000_001, 1_795_000_002, 1_795_000_003, 1_795_000_004, 1) });
  const inc = fc.nat(3);
  const sig = fc.option(fc.uint8Array({ minLength: 64, maxLength: 64 }), { nil: undefined });
  const entry = fc.record({ id: idArb.filter((s) => Buffer.byteLength(s) <= 64), gen: fc.nat(), inc, status: fc.constantFrom('alive', 'suspect', 'dead', 'left'), hb: fc.nat(), kvMax: fc.nat(9), addr: fromArb });
  const noSig = <T extends { sig?: Uint8Array | undefined }>(m: T): T => {
    if (m.sig !== undefined) return m;
    const { sig: _drop, ...rest } = m;
    return rest as T;
  };
  return fc.oneof(
    fc.record({ type: fc.constant(MsgType.Heartbeat), from: ref, inc, seq: fc.nat(), intervalMs: fc.nat(60_000), kvMax: fc.nat(9), view: fc.nat() }),
    fc.record({ type: fc.constant(MsgType.Ping), from: ref, target: ref, probe: fc.nat() }),
    fc.record({ type: fc.constant(MsgType.Ack), from: ref, probe: fc.nat(), inc }),
    fc.record({ type: fc.constant(MsgType.PingReq), from: ref, target: ref, targetAddr: fromArb, probe: fc.nat() }),
    fc.record({ type: fc.constantFrom(MsgType.Suspect, MsgType.Dead), from: ref, target: ref, inc, sig }).map(noSig),
    fc.record({ type: fc.constant(MsgType.Leave), from: ref, inc }),
    fc.record({ type: fc.constant(MsgType.Digest), from: ref, lo: fc.constant(''), hi: fc.constant('\uffff'), reply: fc.boolean(), entries: fc.array(entry, { maxLength: 6 }) }),
    fc.record({
      type: fc.constant(MsgType.Delta),
      from: ref,
      owner: ref,
      fromV: fc.nat(3),
      toV: fc.nat(9),
      reset: fc.boolean(),
      entries: fc.array(fc.record({ key: fc.constantFrom('sensor/temp', 'alarm'), version: fc.nat(9), value: fc.oneof(fc.double({ noNaN: true }), fc.string({ maxLength: 20 }), fc.constant(null)), ttlMs: fc.constant(0), sig }).map(noSig), { maxLength: 3 }),
    }),
    fc.record({ type: fc.constant(MsgType.Passport), id: idArb.filter((s) => Buffer.byteLength(s) <= 64), gen: fc.nat(), inc, left: fc.boolean(), publicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }), cert: fc.constant(null), sig: fc.uint8Array({ minLength: 64, maxLength: 64 }) }),
    fc.record({ type: fc.constant(MsgType.WhoIs), from: ref, ids: fc.array(idArb.filter((s) => Buffer.byteLength(s) <= 64), { maxLength: 8 }) }),
  ) as fc.Arbitrary<Message>;
}
const wellFormedDatagram = fc.array(wellFormed(), { minLength: 1, maxLength: 6 }).map((msgs) => {
  const parts = msgs.map(encodeMessage);
  return concat([1], ...parts).subarray(0, PLAIN_BUDGET);
});

/** Byte edits applied to genuine plaintext: set, insert, delete. */
const edits = fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), op: fc.constantFrom('set', 'insert', 'delete') }), { minLength: 1, maxLength: 6 });
function mutate(b: Uint8Array, es: readonly { at: number; byte: number; op: string }[]): Uint8Array {
  const out = [...b];
  for (const e of es) {
    const at = 1 + (e.at % Math.max(1, out.length - 1));
    if (e.op === 'set') out[at] = e.byte;
    else if (e.op === 'insert') out.splice(at, 0, e.byte);
    else out.splice(at, 1);
  }
  return Uint8Array.from(out.slice(0, PLAIN_BUDGET));
}

// ------------------------------------------------------------------ properties

describe('receive path under hostile input (fast-check, seed ' + SEED + ')', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('outsiders without the fleet key: random bytes up to 1,500, frames under a wrong key, the right key id over garbage, plaintext murmur; each refused by the seal for its reason, never answered', () => {
    const t = meetFleet();
    const senders = t.channel.trackedSenders;
    const sentBefore = t.sent.length;
    const wrongKey = material(32);
    const wrongRing: SealKeys = { primaryId: 0x0badc0de, lookup: (id) => (id === 0x0badc0de ? { key: wrongKey, state: 'active' } : undefined) };
    const spoofedRightId: SealKeys = { primaryId: FLEET_ID, lookup: (id) => (id === FLEET_ID ? { key: wrongKey, state: 'active' } : undefined) };
    const header = fc.record({ sender: fc.nat({ max: 2 ** 48 - 1 }), gen: fc.nat({ max: 2 ** 48 - 1 }), seq: fc.nat({ max: 2 ** 48 - 1 }) });
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 1500 }),
      fc.uint8Array({ minLength: 41, maxLength: 1495 }).map((b) => concat([SEALED_FRAME], b)),
      fc.tuple(fc.constantFrom(FLEET_ID, RETIRED_ID), fc.uint8Array({ maxLength: 1495 })).map(([id, b]) => concat([SEALED_FRAME], be32(id), b)),
      fakeHeartbeat,
      fc.tuple(fakeHeartbeat, header).map(([plain, h]) => seal(plain, wrongRing, h, material)),
      fc.tuple(fakeHeartbeat, header).map(([plain, h]) => seal(plain, spoofedRightId, h, material)),
    );
    fc.assert(
      fc.property(frame, fromArb, fc.boolean(), (bytes, from, via) => {
        expect(feed(t, bytes, from, via, senders)).toEqual({ [sealVerdict(bytes)]: 1 });
        expect(t.sent.length).toBe(sentBefore);
      }),
      runs(6000),
    );
    expect(t.channel.trackedSenders).toBe(senders);
    stillServesTheFleet(t, senders);
  });

  it('replays of genuine datagrams are refused as replayed; a genuine datagram with any byte altered or cut short does not open', () => {
    const t = meetFleet();
    const senders = t.channel.trackedSenders;
    const sentBefore = t.sent.length;
    const genuineArb = fc.constantFrom(...t.meeting.sealed);
    fc.assert(
      fc.property(genuineArb, fromArb, fc.boolean(), (d, from, via) => {
        expect(feed(t, d.bytes, from, via, senders)).toEqual({ replayed: 1 });
      }),
      runs(1000),
    );
    // The nonce carries the replay header (sender, generation, sequence) under the MAC: no byte
    // of it can be changed to make an old datagram look new.
    fc.assert(
      fc.property(genuineArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (d, at, xor) => {
        const b = Uint8Array.from(d.bytes);
        b[at % b.length]! ^= xor;
        expect(feed(t, b, d.from, true, senders)).toEqual({ [sealVerdict(b)]: 1 });
      }),
      runs(2000),
    );
    fc.assert(
      fc.property(genuineArb, fc.nat(), (d, cut) => {
        const b = d.bytes.subarray(0, cut % d.bytes.length);
        expect(feed(t, b, d.from, true, senders)).toEqual({ [sealVerdict(b)]: 1 });
      }),
      runs(500),
    );
    expect(t.sent.length).toBe(sentBefore);
    stillServesTheFleet(t, senders);
  });

  it('an insider sealing garbage under the fleet key: empty, oversize, wrong version, nested/tagged/truncated CBOR, misshapen and made-up messages; each refusal is the wire\'s or the gatekeeper\'s and nothing unproven reaches the core', () => {
    const t = meetFleet();
    const insider = device('insider', 7, '10.77.0.66:7478');
    const senders = t.channel.trackedSenders + 1;
    const corpus = t.meeting.plain.map((msgs) => encodeDatagram(msgs, PLAIN_BUDGET));
    /** Offsets just past each whole message: a cut there leaves nothing malformed behind. */
    const ends = t.meeting.plain.map((msgs) => {
      const out = new Set<number>();
      let at = 1;
      for (const m of msgs) out.add((at += encodeMessage(m).length));
      return out;
    });
    type Case = { readonly kind: string; readonly plain: Uint8Array; readonly expected?: Record<string, number> };
    const cases: fc.Arbitrary<Case> = fc.oneof(
      fc.uint8Array({ maxLength: 1 }).filter((b) => b[0] !== 2).map((plain) => ({ kind: 'empty', plain, expected: { empty: 1 } })),
      fc.uint8Array({ minLength: PLAIN_BUDGET + 1, maxLength: 9000 }).filter((b) => b[0] !== 2).map((plain) => ({ kind: 'oversize', plain, expected: { oversize: 1 } })),
      fc.uint8Array({ minLength: 2, maxLength: PLAIN_BUDGET }).filter((b) => b[0] !== 1 && b[0] !== 2).map((plain) => ({ kind: 'bad version', plain, expected: { 'bad-version': 1 } })),
      hostileCbor.map((plain) => ({ kind: 'nested, tagged or lying CBOR', plain, expected: { 'malformed-cbor': 1 } })),
      fc.tuple(fc.nat(corpus.length - 1), fc.nat()).map(([i, c]) => {
        const cut = 2 + (c % (corpus[i]!.length - 2));
        // The whole messages before the cut are genuine, but they name their real sender while
        // the insider's header names the insider: the datagram is dropped as a mismatch. The
        // rest is malformed.
        const plain = corpus[i]!.subarray(0, cut);
        const named = datagramSender(decodeDatagram(plain, PLAIN_BUDGET).messages) !== undefined ? { 'sender-mismatch': 1 } : {};
        return { kind: 'truncated', plain, expected: ends[i]!.has(cut) ? named : { 'malformed-cbor': 1, ...named } };
      }),
      fc.uint8Array({ minLength: 1, maxLength: PLAIN_BUDGET - 1 }).map((b) => ({ kind: 'random after the version byte', plain: concat([1], b) })),
      fc.anything().map((v) => ({ kind: 'any CBOR', plain: concat([1], Uint8Array.from(anyCbor.encode(v))).subarray(0, PLAIN_BUDGET) })),
      messageShaped.map((plain) => ({ kind: 'message-shaped', plain })),
      wellFormedDatagram.map((plain) => ({ kind: 'well-formed, made up', plain })),
      fc.tuple(fc.nat(corpus.length - 1), edits).map(([i, es]) => ({ kind: 'genuine, edited', plain: mutate(corpus[i]!, es) })),
      fc.tuple(fc.nat(corpus.length - 1), fc.nat(corpus.length - 1), fc.nat(), fc.nat()).map(([i, j, a, b]) => {
        const x = corpus[i]!;
        const y = corpus[j]!;
        return { kind: 'genuine, spliced', plain: concat(x.subarray(0, 1 + (a % x.length)), y.subarray(1 + (b % (y.length - 1)))).subarray(0, PLAIN_BUDGET) };
      }),
    );
    const kinds = new Map<string, number>();
    fc.assert(
      fc.property(cases, fromArb, fc.boolean(), (c, from, via) => {
        kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
        const moved = feed(t, insider.channel.seal(c.plain), from, via, senders);
        if (c.expected) expect(moved).toEqual(c.expected);
        // It opened: whatever was refused, the wire layer or the gatekeeper refused it.
        for (const k of Object.keys(moved)) expect(CHANNEL_REASONS).not.toContain(k);
      }),
      runs(5000),
    );
    // Every kind was tried, and the insider's messages were refused where they claimed anything.
    expect(kinds.size).toBe(11);
    const r = t.host.refusals();
    for (const k of ['empty', 'oversize', 'bad-version', 'malformed-cbor', 'unknown-type', 'invalid-field', 'unknown-member', 'bad-signature']) expect(r[k], k).toBeGreaterThan(0);
    stillServesTheFleet(t, senders);
  });

  it('keyring offers (control frames) under the fleet key: malformed, tampered, or signed over a forged key record, they are rejected whole and the keyring does not change', () => {
    const t = meetFleet();
    const insider = device('insider', 7, '10.77.0.66:7478');
    const senders = t.channel.trackedSenders + 1;
    const signerOf = (d: Device): OfferSigner => ({ key: d.key, passport: () => signPassport(d.key, d.ref, 0, false, null) });
    const stamp = fc.oneof(fc.nat(WALL), fc.constant(WALL + 1_000_000), fc.constant(Number.MAX_SAFE_INTEGER));
    const record = fc.record({ id: fc.constantFrom(FLEET_ID, RETIRED_ID), key: fc.constantFrom(undefined, FLEET_KEY, RETIRED_KEY), installed: stamp, used: stamp, removed: stamp, compromised: fc.boolean() });
    /** Key bytes that do not belong to the id (a forged or corrupted record): one poisons the whole offer. */
    const forged = fc.record({ id: fc.constantFrom(FLEET_ID, RETIRED_ID), key: fc.uint8Array({ minLength: 32, maxLength: 32 }), installed: stamp, used: stamp, removed: stamp, compromised: fc.boolean() });
    const poisoned = fc.tuple(fc.array(record, { maxLength: 6 }), forged, fc.nat()).map(([rs, bad, at]) => {
      rs.splice(at % (rs.length + 1), 0, bad);
      return rs;
    });
    const signers = [...t.meeting.peers, insider];
    type Offer = { readonly plain: Uint8Array; readonly rejected: boolean };
    const offer = fc.oneof(
      fc.uint8Array({ maxLength: 1100 }).map((b) => ({ plain: concat([2], b), rejected: true })),
      hostileCbor.map((b) => ({ plain: concat([2], b.subarray(1)), rejected: true })),
      fc.tuple(fc.oneof(fc.constant(1), numArb), fc.array(fieldArb, { maxLength: 5 })).map((v) => ({ plain: concat([2], Uint8Array.from(rawCbor.encode(v))), rejected: true })),
      // Signed properly by a fleet member (or a self-made identity), over a record it forged.
      fc.tuple(fc.constantFrom(...signers), poisoned).map(([d, rs]) => ({ plain: encodeOffer(rs, signerOf(d)), rejected: true })),
      // A genuine offer of the fleet's own keyring with bytes changed: either rejected, or still the same records.
      fc.tuple(fc.constantFrom(...signers), edits).map(([d, es]) => ({ plain: mutate(encodeOffer(fleetRecords, signerOf(d)), es), rejected: false })),
    );
    const before = { received: t.keySync.offersReceived, rejected: t.keySync.offersRejected };
    let n = 0;
    fc.assert(
      fc.property(offer, fromArb, (o, from) => {
        n++;
        const rejected = t.keySync.offersRejected;
        const moved = feed(t, insider.channel.seal(o.plain.subarray(0, PLAIN_BUDGET)), from, true, senders);
        // Nothing was decoded as protocol messages: only the gatekeeper may have refused a passport.
        for (const k of Object.keys(moved)) expect([...CHANNEL_REASONS, ...WIRE_REASONS]).not.toContain(k);
        // Each offer is looked at once; the keyring is unchanged (feed checks it) either way.
        expect(t.keySync.offersReceived - before.received + t.keySync.offersRejected - before.rejected).toBe(n);
        if (o.rejected) expect(t.keySync.offersRejected).toBe(rejected + 1);
      }),
      runs(1500),
    );
    stillServesTheFleet(t, senders);
  });

  it('a device still on the retired key is answered (rate-limited), never believed: nothing it seals reaches the decoder', () => {
    const t = meetFleet();
    const asleep = fleetRecords.find((r) => r.id === RETIRED_ID)!;
    const retiredRing = new Keyring(GRACE_MS, () => WALL, [{ ...asleep, removed: 0 }]);
    expect(retiredRing.primaryId).toBe(RETIRED_ID);
    const behind = device('pi-asleep', 9, '10.77.0.77:7478', retiredRing);
    const senders = t.channel.trackedSenders + 1;
    const plain = fc.oneof(fakeHeartbeat, wellFormedDatagram, messageShaped, hostileCbor, fc.uint8Array({ maxLength: PLAIN_BUDGET }));
    const handoffs = t.keySync.handoffsSent;
    fc.assert(
      fc.property(plain, fromArb, (p, from) => {
        expect(feed(t, behind.channel.seal(p), from, true, senders)).toEqual({});
      }),
      runs(1500),
    );
    // The clock is frozen: one handoff per address at most (KeySync: one per address per 10 s).
    expect(t.keySync.handoffsSent - handoffs).toBeGreaterThan(0);
    expect(t.keySync.handoffsSent - handoffs).toBeLessThanOrEqual(addresses.length);
    stillServesTheFleet(t, senders);
  });

  it('a flood of 6,000 sealed heartbeats from spoofed ids under wrong keys (half claiming the fleet key\'s id) costs nothing: no member, no tracked sender, no answer', () => {
    const t = meetFleet();
    const senders = t.channel.trackedSenders;
    const sentBefore = t.sent.length;
    const rng = new Prng(SEED ^ 0x51ee);
    const wrongKey = material(32);
    const wrong: SealKeys = { primaryId: 0x0badc0de, lookup: (id) => (id === 0x0badc0de ? { key: wrongKey, state: 'active' } : undefined) };
    /** The fleet key's id over a wrong key: the receiver finds the key, and the MAC fails. */
    const impostor: SealKeys = { primaryId: FLEET_ID, lookup: (id) => (id === FLEET_ID ? { key: wrongKey, state: 'active' } : undefined) };
    const N = Math.round(6000 * SCALE);
    for (let i = 0; i < N; i++) {
      const spoof = { ref: { id: `spoof-${rng.int(1e9).toString(36)}`, gen: 1 + rng.int(2 ** 31) }, key: signingKey(), seq: rng.int(1000) };
      const plain = encodeDatagram(introduce(spoof as Device), PLAIN_BUDGET);
      const frame = seal(plain, i % 2 === 0 ? wrong : impostor, { sender: senderTag(spoof.ref.id), gen: spoof.ref.gen, seq: spoof.seq }, material);
      const from = `10.77.${rng.int(256)}.${rng.int(256)}:7478`;
      expect(feed(t, frame, from, rng.next() < 0.5, senders)).toEqual({ [i % 2 === 0 ? 'unknown-key' : 'bad-mac']: 1 });
    }
    expect(t.host.refusals()['unknown-key']).toBe(Math.ceil(N / 2));
    expect(t.host.refusals()['bad-mac']).toBe(Math.floor(N / 2));
    expect([...t.node.members()].length).toBe(t.meeting.peers.length);
    expect(t.channel.trackedSenders).toBe(senders);
    expect(t.sent.length).toBe(sentBefore);
    stillServesTheFleet(t, senders);
  });

  it('an insider sending a member\'s key/value entry at a new version under any signature but the owner\'s: refused as bad-signature, the value stays', () => {
    const t = meetFleet();
    const senders = t.channel.trackedSenders;
    const p = t.meeting.peers[0]!;
    const held = (): unknown => t.node.liveValue(p.ref.id, 'sensor/temp', 60_000)?.value;
    expect(held()).toBe(21.5);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.integer({ min: 2, max: 1000 }), (sig, version) => {
        const forged: KvEntry = { key: 'sensor/temp', version, value: 99, ttlMs: 0, sig };
        const delta: Message = { type: MsgType.Delta, from: p.ref, owner: p.ref, fromV: 1, toV: version, reset: false, entries: [forged] };
        expect(feed(t, genuine(p, [delta]), p.addr, false, senders)).toEqual({ 'bad-signature': 1 });
        expect(held()).toBe(21.5);
      }),
      runs(100),
    );
    stillServesTheFleet(t, senders);
  });

  it('the replay window is untouched by an insider\'s made-up sender tags: a thousand tags past its bound add no entry', () => {
    const t = meetFleet();
    const bound = new ReplayWindow().maxSenders;
    const senders = t.channel.trackedSenders;
    for (let i = 0; i < bound + 1000; i++) {
      const frame = seal(new Uint8Array([1]), t.keyring, { sender: i, gen: 1, seq: 1 }, material);
      expect(feed(t, frame, '10.77.0.66:7478', true, senders)).toEqual({ empty: 1 });
    }
    // No message named a sender, so no window moved or was made.
    expect(t.channel.trackedSenders).toBe(senders);
    stillServesTheFleet(t, senders);
  });

  it('a known member\'s Delta under a wrong signature (random, zeroed, another member\'s, or the owner\'s over another entry, owner or life) is refused as bad-signature; one at the version already held changes nothing', () => {
    const t = meetFleet();
    const senders = t.channel.trackedSenders;
    const insider = device('insider', 7, '10.77.0.66:7478');
    const peers = t.meeting.peers;
    const KEY = 'sensor/temp';
    /** What every peer published while meeting the device: version 1, 21.5. */
    const heldValues = (): (number | string | boolean | Uint8Array | null | undefined)[] => peers.map((p) => t.node.get(p.ref.id, KEY, 60_000));
    expect(heldValues()).toEqual([21.5, 21.5, 21.5]);
    type Forgery = 'random' | 'zeroed' | 'another member' | 'insider' | 'owner, other version' | 'owner, other value' | 'owner, other owner' | 'owner, other life';
    const forgeries: Forgery[] = ['random', 'zeroed', 'another member', 'insider', 'owner, other version', 'owner, other value', 'owner, other owner', 'owner, other life'];
    const forge = (kind: Forgery, owner: Device, e: Omit<KvEntry, 'sig'>, noise: Uint8Array): Uint8Array => {
      const other = peers[(peers.indexOf(owner) + 1) % peers.length]!;
      switch (kind) {
        case 'random':
          return noise;
        case 'zeroed':
          return new Uint8Array(64);
        case 'another member':
          return signKv(other.key, owner.ref, e);
        case 'insider':
          return signKv(insider.key, owner.ref, e);
        case 'owner, other version':
          return signKv(owner.key, owner.ref, { ...e, version: e.version + 1 });
        case 'owner, other value':
          return signKv(owner.key, owner.ref, { ...e, value: 'not what was sent' });
        case 'owner, other owner':
          return signKv(owner.key, other.ref, e);
        case 'owner, other life':
          return signKv(owner.key, { id: owner.ref.id, gen: owner.ref.gen + 1 }, e);
      }
    };
    const value = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 20 }), fc.constant(null), fc.boolean());
    const seen = new Set<Forgery>();
    let eventsBefore = t.events.length;
    fc.assert(
      fc.property(fc.constantFrom(...peers), fc.constantFrom(...peers), fc.integer({ min: 2, max: 500 }), value, fc.constantFrom(...forgeries), fc.uint8Array({ minLength: 64, maxLength: 64 }), (sender, owner, version, v, kind, noise) => {
        seen.add(kind);
        const e = { key: KEY, version, value: v, ttlMs: 0 };
        const delta: Message = { type: MsgType.Delta, from: sender.ref, owner: owner.ref, fromV: version - 1, toV: version, reset: false, entries: [{ ...e, sig: forge(kind, owner, e, noise) }] };
        expect(feed(t, genuine(sender, [delta]), sender.addr, true, senders)).toEqual({ 'bad-signature': 1 });
        expect(heldValues()).toEqual([21.5, 21.5, 21.5]);
        expect(t.events.slice(eventsBefore).filter((x) => x.type === 'kv-changed')).toEqual([]);
        eventsBefore = t.events.length;
      }),
      runs(240),
    );
    expect(seen.size).toBe(forgeries.length);
    // At the version held, the gatekeeper leaves the signature to the core, which ignores the
    // entry: a relay cannot swap the value of a version the device already holds.
    fc.assert(
      fc.property(fc.constantFrom(...peers), fc.constantFrom(...peers), value.filter((v) => v !== 21.5), fc.option(fc.constantFrom(...forgeries), { nil: undefined }), fc.uint8Array({ minLength: 64, maxLength: 64 }), (sender, owner, v, kind, noise) => {
        const e = { key: KEY, version: 1, value: v, ttlMs: 0 };
        const entry: KvEntry = kind === undefined ? e : { ...e, sig: forge(kind, owner, e, noise) };
        const delta: Message = { type: MsgType.Delta, from: sender.ref, owner: owner.ref, fromV: 0, toV: 1, reset: false, entries: [entry] };
        expect(feed(t, genuine(sender, [delta]), sender.addr, true, senders)).toEqual({});
        expect(heldValues()).toEqual([21.5, 21.5, 21.5]);
        expect(t.events.slice(eventsBefore).filter((x) => x.type === 'kv-changed')).toEqual([]);
        eventsBefore = t.events.length;
      }),
      runs(120),
    );
    expect(t.host.refusals()['bad-signature']).toBe(runs(240).numRuns);
    stillServesTheFleet(t, senders);
  });

  it('a genuine sender\'s datagrams older than the replay window are refused as too old, and an earlier life of a sender as a stale generation', () => {
    const t = meetFleet();
    const p = t.meeting.peers[0]!;
    const senders = t.channel.trackedSenders;
    const old = genuine(p, introduce(p, 1));
    // Skip the peer's counter far ahead, as after a burst the receiver lost.
    for (let i = 0; i < WINDOW; i++) p.channel.seal(new Uint8Array([1]));
    expect(feed(t, genuine(p, introduce(p, 1)), p.addr, true, senders)).toEqual({});
    expect(feed(t, old, p.addr, true, senders)).toEqual({ 'too-old': 1 });
    const earlierLife = { ...device(p.ref.id, p.ref.gen - 1, p.addr), key: p.key };
    expect(feed(t, genuine(earlierLife, introduce(earlierLife)), p.addr, true, senders)).toEqual({ 'stale-generation': 1 });
  });
});
