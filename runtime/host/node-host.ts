// Runs one protocol core on a clock, a timer scheduler and a transport that it is given: opens
// and decodes what the transport receives, encodes and seals what the core sends, and hands the
// core's timer requests to the scheduler. Real time and UDP on a device, virtual time and the
// simulated network in the simulator: the host is the same. runtime/host/assembly.ts builds it.
//
// Order on receipt: the seal is checked first (MAC, then replay window), so nothing from outside
// the fleet reaches the CBOR decoder; then the wire layer validates every field; then the
// gatekeeper. Only then does the replay window move, and only if the nonce's header names the
// sender the admitted messages prove (FleetChannel.admit): otherwise any member could write
// another's tag into a nonce and push that member's window out of reach.
//
// Every protocol datagram names its recipient inside the seal: the group, the member at the
// address it goes to, or nobody known (runtime/wire/recipient.ts). On receipt the channel drops
// one sealed for another device, and says whether the datagram's source may move its sender's
// address (runtime/crypto/addressing.ts); the core is told so with the messages.

import type { CoreEvent, Effects, TimerToken } from '../core/effects.js';
import {
  MsgType,
  type Address,
  type Message,
  type NodeId,
  type NodeRef,
  type Passport,
  type Ping,
  type ReplyStatus,
  type Value,
  type WhoIs,
} from '../core/messages.js';
import { packDatagrams } from '../core/packing.js';
import type { Gatekeeper } from '../trust/gatekeeper.js';
import type { Node } from '../core/node.js';
import type { Profile } from '../core/profiles.js';
import type { FleetChannel, OpenedFrame } from '../crypto/fleet-channel.js';
import { SEAL_OVERHEAD } from '../crypto/seal.js';
import { MULTICAST } from '../core/effects.js';
import { RECIPIENT_MARK_BYTES } from '../wire/recipient.js';
import { datagramSender } from '../trust/datagram-sender.js';
import type { Transport } from '../net/transport.js';
import { CONTROL_FRAME } from '../wire/frames.js';
import { DatagramTooLargeError, decodeDatagram, encodeDatagram, sizeOf, type DecodeResult, type RejectReason } from '../wire/index.js';
import type { TimerScheduler } from './scheduler.js';
import { CONTROL, leadType, TrafficCounters } from './traffic.js';

/** What sealing adds to a datagram's messages: the seal, and the recipient mark inside it. */
const SEALED_OVERHEAD = SEAL_OVERHEAD + RECIPIENT_MARK_BYTES;

/** The core's profile for a sealed channel: it packs what the seal and the recipient mark leave of the datagram budget. */
export function sealedProfile(p: Profile): Profile {
  return { ...p, datagramBudget: p.datagramBudget - SEALED_OVERHEAD };
}

/** Decodes one plaintext datagram; the simulator shares one memo of it across its nodes. */
export type DatagramDecoder = (bytes: Uint8Array, budget: number) => DecodeResult;

export interface HostOptions {
  readonly node: Node;
  /** Monotonic milliseconds. */
  readonly clock: () => number;
  readonly scheduler: TimerScheduler;
  /** Where datagrams go; what it receives is handed to `receive` by whoever listens to it. */
  readonly transport: Pick<Transport, 'send'>;
  /** Bytes per datagram on the wire, seal included. */
  readonly budget: number;
  readonly decode?: DatagramDecoder;
  /** The fleet's sealed channel. Without one, datagrams go in the clear (simulations and benchmarks only). */
  readonly channel?: FleetChannel;
  /**
   * A datagram opened under a key that is not our primary: the sender missed a rotation (or we
   * did). `retired` ones are not delivered; the agent answers them with the keyring.
   */
  readonly onOldKey?: (keyId: number, state: 'active' | 'retired', from: Address) => void;
  /**
   * A sealed control frame (CONTROL_FRAME first), for the agent. `admit` binds the frame to the
   * sender its signed content proves and moves the replay window; false: drop the frame.
   */
  readonly onControl?: (plain: Uint8Array, from: Address, admit: (sender: { readonly id: NodeId; readonly gen: number }) => boolean) => void;
  /** Checks what members claim against what they signed (runtime/trust/gatekeeper.ts). */
  readonly gate?: Gatekeeper;
  readonly onEvent?: (e: CoreEvent) => void;
  /**
   * A bug surfaced as an exception in the core or the codec. The host survives it: the datagram
   * or timer is dropped, counted, and reported here (at most once a second).
   */
  readonly onError?: (where: string, e: Error, count: number) => void;
}

/** Heartbeats that carry our passport: every one of the first few, then one in this many. */
const PASSPORT_EVERY = 8;
const PASSPORT_FIRST = 8;
/** Ask one address about one member at most this often. */
const WHOIS_EVERY_MS = 1000;
/** Answer one address's WhoIs at most this often: an answer is much larger than the question. */
const WHOIS_ANSWER_EVERY_MS = 200;

/** Passports go out with heartbeats: the first few, every PASSPORT_EVERY-th, and after each change. */
class PassportSchedule {
  #sent = 0;
  #lastInc = -1;
  #sinceChange = 0;

  due(inc: number): boolean {
    if (inc !== this.#lastInc) {
      this.#lastInc = inc;
      this.#sinceChange = 0;
    }
    const n = this.#sent++;
    return n < PASSPORT_FIRST || n % PASSPORT_EVERY === 0 || this.#sinceChange++ < 3;
  }
}

export class NodeHost {
  readonly node: Node;
  /** Received datagrams (or messages inside them) refused by the wire layer, by reason. */
  readonly rejected = new Map<RejectReason, number>();
  /** Datagrams and bytes (as on the wire) in and out, by lead message type. */
  readonly traffic = new TrafficCounters();
  /** Messages the core produced that did not fit a datagram (a core bug if ever non-zero). */
  oversizeRefused = 0;
  /** Exceptions caught around the core; non-zero means a bug worth reporting. */
  internalErrors = 0;
  #lastErrorReport = -Infinity;
  readonly #passports = new PassportSchedule();
  /**
   * Receive work: datagrams handed to the host, datagrams the seal opened (MAC checked,
   * decrypted) and datagrams decoded. Deterministic proxies for CPU in benchmarks.
   */
  readonly work = { datagrams: 0, opened: 0, decoded: 0 };
  /** Identity traffic: WhoIs asked and answered, passports sent in answers. */
  readonly whoIs = { asked: 0, received: 0, answered: 0, passportsSent: 0, unanswerable: 0 };
  readonly #asked = new Map<string, number>();
  readonly #answered = new Map<Address, number>();
  /** Who was last heard at an address: the member a unicast datagram there is sealed for (checked against the core's table). */
  readonly #at = new Map<Address, NodeId>();
  readonly #opts: HostOptions;
  readonly #decode: DatagramDecoder;
  readonly #fx: Effects;
  #stopped = false;

  constructor(opts: HostOptions) {
    this.#opts = opts;
    this.node = opts.node;
    this.#decode = opts.decode ?? decodeDatagram;
    this.#fx = {
      send: (to, msgs) => this.#send(to, msgs),
      setTimer: (at, token, lateMs) => this.#setTimer(at, token, lateMs),
      emit: (e) => {
        // The core forgot a member: the gatekeeper keeps it from being met anew at anyone's word.
        if (e.type === 'member-removed') opts.gate?.bury(e.member);
        if (e.type === 'member-joined') this.#heardAt(e.addr, e.member.id);
        opts.onEvent?.(e);
      },
    };
    // A member that signs a later incarnation gets a fresh replay window: how a device whose
    // window a forged header pushed ahead is heard again, by its next refutation.
    opts.gate?.onNewLife((id) => opts.channel?.forget(id));
  }

  /** Signatures the gatekeeper verified, and copies it passed from memory (zero without one). */
  get signatureChecks(): { readonly checks: number; readonly remembered: number } {
    return this.#opts.gate?.signatureChecks ?? { checks: 0, remembered: 0 };
  }

  /** Timers that fired late enough to suggest this process was stalled. */
  get lateTimers(): number {
    return this.#opts.scheduler.late;
  }

  start(): void {
    this.node.start(this.#opts.clock(), this.#fx);
  }

  /** One datagram from the transport. Never throws: what the wire layer refuses is counted and dropped. */
  receive(bytes: Uint8Array, from: Address, viaMulticast: boolean): void {
    if (this.#stopped) return;
    this.work.datagrams++;
    // node:dgram hands over a Buffer: every subarray of one goes through Buffer's species
    // constructor, several per datagram, and the crypto code would see two kinds of array. One
    // plain view of the same bytes costs less than either.
    if (bytes.constructor !== Uint8Array) bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      const ch = this.#opts.channel;
      const wireBytes = bytes.length;
      let opened: OpenedFrame | undefined;
      let sourceIsAddress = true;
      if (ch) {
        const o = (opened = ch.open(bytes, (r) => this.#passportsOf(r)));
        if (!o) return;
        this.work.opened++;
        if (o.keyId !== ch.keyring.primaryId) this.#opts.onOldKey?.(o.keyId, o.keyState, from);
        if (o.keyState !== 'active') return;
        bytes = o.plain;
        if (bytes[0] === CONTROL_FRAME) {
          this.traffic.received(CONTROL, wireBytes);
          this.#opts.onControl?.(bytes, from, (sender) => ch.admit(o, sender));
          return;
        }
        const addressing = ch.addressing(o, viaMulticast);
        if (!addressing) return;
        sourceIsAddress = addressing.sourceIsAddress;
      }
      const d = this.#decode(bytes, this.#plainBudget);
      this.work.decoded++;
      for (const r of d.rejected) this.rejected.set(r.reason, (this.rejected.get(r.reason) ?? 0) + 1);
      let msgs = d.messages;
      const lead = leadType(msgs);
      if (lead !== undefined) this.traffic.received(lead, wireBytes);
      const gate = this.#opts.gate;
      const ask = new Set<NodeId>();
      if (gate && msgs.length > 0) {
        const ack = (p: Ping): void => this.#send(from, [{ type: MsgType.Ack, from: this.node.self, probe: p.probe, inc: this.node.incarnation }]);
        msgs = gate.admit(msgs, ask, ack, { addr: from, reply: (r) => this.#send(from, r) });
      }
      const sender = datagramSender(msgs);
      if (opened && !ch!.admit(opened, sender)) return;
      if (gate) {
        if (ask.size > 0) this.#whoIs(from, ask);
        for (const m of msgs) if (m.type === MsgType.WhoIs) this.#answerWhoIs(from, m);
      }
      // Before the core answers: an answer to `from` is then sealed for the sender.
      if (sourceIsAddress && sender !== undefined && sender !== 'mixed') this.#heardAt(from, sender.id);
      if (msgs.length > 0) this.node.receive(this.#opts.clock(), from, msgs, this.#fx, viaMulticast, sourceIsAddress);
    } catch (e) {
      this.#internalError('receive', e);
    }
  }

  /** A datagram the replay window refused: only its passports are read (signed, harmless to see twice). */
  #passportsOf(o: OpenedFrame): void {
    const gate = this.#opts.gate;
    if (!gate || o.keyState !== 'active' || o.plain[0] === CONTROL_FRAME) return;
    this.work.decoded++;
    const passports = this.#decode(o.plain, this.#plainBudget).messages.filter((m) => m.type === MsgType.Passport);
    if (passports.length > 0) gate.admit(passports, new Set());
  }

  /** Ask the sender of a datagram for passports of members it named that we cannot check. */
  #whoIs(from: Address, ids: Set<NodeId>): void {
    const now = this.#opts.clock();
    if (this.#asked.size > 8192) this.#asked.clear();
    const want: NodeId[] = [];
    for (const id of ids) {
      const k = `${from}\u0000${id}`;
      if (now - (this.#asked.get(k) ?? -Infinity) < WHOIS_EVERY_MS) continue;
      this.#asked.set(k, now);
      want.push(id);
    }
    for (let i = 0; i < want.length; i += MAX_WHOIS) {
      const q: WhoIs = { type: MsgType.WhoIs, from: this.node.self, ids: want.slice(i, i + MAX_WHOIS) };
      this.whoIs.asked++;
      this.#send(from, [q]);
    }
  }

  #answerWhoIs(from: Address, q: WhoIs): void {
    this.whoIs.received++;
    const now = this.#opts.clock();
    if (now - (this.#answered.get(from) ?? -Infinity) < WHOIS_ANSWER_EVERY_MS) return;
    if (this.#answered.size > 4096) this.#answered.clear();
    this.#answered.set(from, now);
    const found = this.#opts.gate!.passports(q.ids, this.node.incarnation, this.node.statusOf(this.node.self.id) === 'left');
    this.whoIs.answered++;
    this.whoIs.passportsSent += found.length;
    this.whoIs.unanswerable += q.ids.length - found.length;
    for (const batch of packDatagrams(found, this.#packBudget - 1, sizeOf)) this.#send(from, batch);
  }

  #internalError(where: string, e: unknown): void {
    this.internalErrors++;
    const now = this.#opts.clock();
    if (now - this.#lastErrorReport < 1000) return;
    this.#lastErrorReport = now;
    this.#opts.onError?.(where, e instanceof Error ? e : new Error(String(e)), this.internalErrors);
  }

  /** Plaintext bytes inside the seal: the datagram budget less the seal. */
  get #plainBudget(): number {
    return this.#opts.channel ? this.#opts.budget - SEAL_OVERHEAD : this.#opts.budget;
  }

  /** Bytes of messages (and version byte) a datagram may carry: the plaintext less the recipient mark. */
  get #packBudget(): number {
    return this.#opts.channel ? this.#opts.budget - SEALED_OVERHEAD : this.#opts.budget;
  }

  #heardAt(addr: Address, id: NodeId): void {
    if (this.#at.get(addr) === id) return;
    if (this.#at.size >= 4096) this.#at.clear();
    this.#at.set(addr, id);
  }

  /**
   * The member a unicast datagram to `to` is for: the one last heard there, if the core still
   * holds it at that address; undefined (the datagram is then sealed for nobody in particular,
   * and moves no address where it lands) for a seed or an address nobody was heard at.
   */
  #recipientAt(to: Address): NodeId | undefined {
    const id = this.#at.get(to);
    return id !== undefined && this.node.addrOf(id) === to ? id : undefined;
  }

  /** Counters of everything refused on receipt: the channel's (seal, replay), the wire layer's and the gatekeeper's. */
  refusals(): Record<string, number> {
    return {
      ...Object.fromEntries(this.#opts.channel?.dropped ?? []),
      ...Object.fromEntries(this.rejected),
      ...Object.fromEntries(this.#opts.gate?.refused ?? []),
      ...(this.node.ownerCapRefused > 0 ? { 'owner-cap': this.node.ownerCapRefused } : {}),
    };
  }

  /** Send a control frame (sealed; under `keyId` instead of the primary when answering an old key). */
  sendControl(to: Address, plain: Uint8Array, keyId?: number): void {
    const ch = this.#opts.channel;
    if (this.#stopped || !ch) return;
    try {
      const sealed = ch.seal(plain, keyId);
      this.traffic.sent(CONTROL, sealed.length);
      this.#opts.transport.send(to, sealed);
    } catch (e) {
      this.#internalError('seal', e);
    }
  }

  set(key: string, value: Value, ttlMs = 0): number {
    return this.node.set(this.#opts.clock(), key, value, this.#fx, ttlMs);
  }

  delete(key: string): void {
    this.node.delete(this.#opts.clock(), key, this.#fx);
  }

  /** Ask the fleet (runtime/core/queries.ts); the replies come as events. Throws a RangeError naming what is wrong. */
  ask(name: string, payload: Uint8Array, prefix: string, timeoutMs: number): number {
    return this.node.ask(this.#opts.clock(), name, payload, prefix, timeoutMs, this.#fx);
  }

  /** Answer a 'query' event. False when the query is unknown here or its time is up. */
  answer(asker: NodeRef, qid: number, status: ReplyStatus, body: Uint8Array): boolean {
    if (this.#stopped) return false;
    return this.node.answer(this.#opts.clock(), asker, qid, status, body, this.#fx);
  }

  /** Announce the leave and keep running (its repeats go out on the node's timers). */
  announceLeave(): void {
    this.node.leave(this.#opts.clock(), this.#fx);
  }

  /** Announce the leave, keep timers running for `lingerMs` so its repeats go out, then stop. */
  async leave(lingerMs: number): Promise<void> {
    this.announceLeave();
    await new Promise<void>((r) => this.#opts.scheduler.at(this.#opts.clock() + lingerMs, r));
    this.stop();
  }

  /** Stop without a word (timers cleared); the transport is the caller's to close. */
  stop(): void {
    this.#stopped = true;
    this.#opts.scheduler.cancelAll();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  #send(to: Address, msgs: readonly Message[]): void {
    if (this.#stopped) return;
    const gate = this.#opts.gate;
    if (gate) {
      const passport = this.#passportFor(msgs);
      if (passport) {
        // Ahead of the messages it proves; in the same datagram when there is room.
        if (sizeOf(passport) + msgs.reduce((n, m) => n + sizeOf(m), 1) <= this.#packBudget) msgs = [passport, ...msgs];
        else this.#encodeAndSend(to, [passport]);
      }
    }
    this.#encodeAndSend(to, msgs);
  }

  /**
   * Our passport, when these messages are our heartbeat (on schedule), our goodbye (always), or
   * a request for a digest while we know nobody. That last one is how a node the group does not
   * reach joins through a seed: the seed cannot take its digest without its passport, and will
   * not be answered a WhoIs by a node that does not know it yet either.
   */
  #passportFor(msgs: readonly Message[]): Passport | undefined {
    const self = this.node.self.id;
    for (const m of msgs) {
      if (m.type === MsgType.Leave && m.from.id === self) return this.#opts.gate!.ownPassport(m.inc, true);
      if (m.type === MsgType.Heartbeat && m.from.id === self) {
        return this.#passports.due(m.inc) ? this.#opts.gate!.ownPassport(m.inc, false) : undefined;
      }
      if (m.type === MsgType.Digest && m.from.id === self && m.reply && this.node.presentCount === 0) {
        return this.#opts.gate!.ownPassport(this.node.incarnation, false);
      }
    }
    return undefined;
  }

  #encodeAndSend(to: Address, msgs: readonly Message[]): void {
    let bytes: Uint8Array;
    try {
      const ch = this.#opts.channel;
      if (ch) bytes = ch.seal(encodeDatagram(msgs, this.#plainBudget, ch.mark(to === MULTICAST ? 'group' : this.#recipientAt(to))));
      else bytes = encodeDatagram(msgs, this.#plainBudget);
    } catch (e) {
      if (e instanceof DatagramTooLargeError) this.oversizeRefused++;
      else this.#internalError('encode', e);
      return;
    }
    const lead = leadType(msgs);
    if (lead !== undefined) this.traffic.sent(lead, bytes.length);
    this.#opts.transport.send(to, bytes);
  }

  #setTimer(at: number, token: TimerToken, lateMs = 0): void {
    if (this.#stopped) return;
    const fire = (): void => {
      if (this.#stopped) return;
      try {
        this.node.timer(this.#opts.clock(), token, this.#fx);
      } catch (e) {
        this.#internalError(`timer ${token.kind}`, e);
      }
    };
    this.#opts.scheduler.at(at, fire, lateMs);
  }
}

const MAX_WHOIS = 8;
