// A whole fleet of nodes on one virtual clock, each the host a device runs (runtime/host/
// assembly.ts) on the simulated network through SimTransport: sealed, replay-checked and
// gatekept unless `insecure`. Scenario tests and the simulation benchmark drive it as a story:
// start, run, cut links, kill, restart, assert. Every run is determined by its seed (device
// keys, the fleet key and seal nonces come from seeded streams; Ed25519 signatures are
// deterministic); a failure message carries the seed and options to replay it.
//
// Opening a frame, decoding a datagram and checking a signature are pure functions, and in a
// simulation every node would repeat them for the same bytes (a multicast reaches everyone as
// one byte array). The fleet memoises them once for all its nodes.

import type { CoreEvent } from '../core/effects.js';
import type { Address, Value } from '../core/messages.js';
import type { Node } from '../core/node.js';
import type { Profile } from '../core/profiles.js';
import { Keyring } from '../crypto/keyring.js';
import { open, type Opened, type SealKeys } from '../crypto/seal.js';
import { assembleNode, type SecurityOptions } from '../host/assembly.js';
import type { NodeHost } from '../host/node-host.js';
import type { TimerScheduler } from '../host/scheduler.js';
import { publicKeyOf, verifyBytes } from '../trust/ed25519.js';
import { decodeDatagram, type DecodeResult } from '../wire/index.js';
import { EventQueue } from './event-queue.js';
import { FaultSchedule, formatFault, type ActiveFault, type FaultSpec } from './faults.js';
import { SimNetwork, type Delivery, type NetworkOptions } from './network.js';
import { bytesFrom, Prng } from './prng.js';
import { InvariantViolation } from './invariants.js';
import { SimTransport } from './sim-transport.js';

export interface FleetOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly profile: Profile;
  readonly loss?: number;
  readonly delayMs?: number;
  readonly jitterMs?: number;
  readonly duplicate?: number;
  /** Whether nodes join the multicast group (default true). */
  readonly multicast?: boolean;
  /** Unicast bootstrap: every node is given the first node's address, or nobody's. */
  readonly seeds?: 'first' | 'none';
  /** Nodes start at random times within this window (default 0: all at once). */
  readonly startSpreadMs?: number;
  /** Faults added at virtual time 0 (their `atMs` is then absolute): what a replay line's `fault=` items give back. */
  readonly faults?: readonly FaultSpec[];
  /** The bare protocol: no seal, no replay window, no gatekeeper, nothing signed (default false). */
  readonly insecure?: boolean;
  /**
   * Number each life as a device does (runtime/agent/state-dir.ts): the previous generation + 1,
   * or the wall-clock second if that is higher, read from the node's own wall clock (with its
   * clock steps). Default: the boot counter alone (1, 2, ...), which keeps replay lines short.
   */
  readonly wallClockGenerations?: boolean;
}

export type FleetListener = (now: number, nodeId: string, event: CoreEvent) => void;

interface TimerEvent {
  readonly kind: 'timer';
  readonly addr: Address;
  readonly life: number;
  readonly fire: () => void;
}
interface StartEvent {
  readonly kind: 'start';
  readonly addr: Address;
  readonly life: number;
}
/** A fault that acts at one moment (an address change), run when its time comes. */
interface FaultAction {
  readonly kind: 'fault-action';
  readonly run: () => void;
}
type SimEvent = TimerEvent | StartEvent | Delivery | FaultAction;

/** What a simulated device's wall clock reads at virtual time 0 (2026-01-01T00:00:00Z). */
export const WALL_CLOCK_EPOCH_MS = Date.UTC(2026, 0, 1);

interface Host {
  readonly id: string;
  /** Changes when a readdress fault moves the node; its old addresses keep mapping here for its timers. */
  addr: Address;
  /** The simulated disk: the boot counter survives crashes. */
  boots: number;
  /** The simulated disk: the generation of the last life. */
  gen: number;
  /** Bumped on every crash so timers of a dead process are recognised and dropped. */
  life: number;
  host: NodeHost | undefined;
  transport: SimTransport | undefined;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Fleet {
  now = 0;
  readonly ids: readonly string[];
  readonly network: SimNetwork;
  readonly #queue = new EventQueue<SimEvent>();
  readonly #rng: Prng;
  readonly #hosts = new Map<Address, Host>();
  readonly #byId = new Map<string, Host>();
  readonly #listeners: FleetListener[] = [];
  readonly #multicast: boolean;
  /** Faults added with `fault()`; the network consults it once there is one. */
  readonly faults: FaultSchedule;
  #readdresses = 0;
  readonly #keyring: Keyring | undefined;
  readonly #opened = new WeakMap<Uint8Array, Opened>();
  readonly #decoded = new WeakMap<Uint8Array, DecodeResult>();
  readonly #verified = new Map<string, { readonly message: Uint8Array; readonly publicKey: Uint8Array; readonly ok: boolean }>();

  constructor(readonly opts: FleetOptions) {
    this.#rng = new Prng(opts.seed);
    const net: Partial<NetworkOptions> = {
      loss: opts.loss ?? 0,
      ...(opts.delayMs !== undefined && { delayMs: opts.delayMs }),
      ...(opts.jitterMs !== undefined && { jitterMs: opts.jitterMs }),
      ...(opts.duplicate !== undefined && { duplicate: opts.duplicate }),
      budget: opts.profile.datagramBudget,
    };
    this.network = new SimNetwork(net, this.#queue as EventQueue<Delivery | { kind: string }>, this.#rng.fork('network'));
    this.#multicast = opts.multicast ?? true;
    const width = Math.max(3, String(opts.nodes - 1).length);
    const ids: string[] = [];
    for (let i = 0; i < opts.nodes; i++) {
      const id = `n${String(i).padStart(width, '0')}`;
      ids.push(id);
      const host: Host = { id, addr: `sim:${id}`, boots: 0, gen: 0, life: 0, host: undefined, transport: undefined };
      this.#hosts.set(host.addr, host);
      this.#byId.set(id, host);
    }
    this.ids = ids;
    this.faults = new FaultSchedule((addr) => this.#hosts.get(addr)?.id, this.#rng.fork('faults'));
    for (const f of opts.faults ?? []) this.fault(f);
    if (!opts.insecure) {
      // One fleet key, shared read-only by every node: the memo of opened frames relies on it.
      this.#keyring = new Keyring(0, () => 0);
      this.#keyring.use(this.#keyring.install(bytesFrom(this.#rng.fork('fleet-key'))(32)));
    }
  }

  /** One line with everything needed to replay this run. */
  describe(): string {
    const o = this.opts;
    return (
      `seed=${o.seed} nodes=${o.nodes} profile=${o.profile.name} loss=${o.loss ?? 0} delayMs=${o.delayMs ?? 1} ` +
      `jitterMs=${o.jitterMs ?? 2} duplicate=${o.duplicate ?? 0} multicast=${this.#multicast} seeds=${o.seeds ?? 'none'} ` +
      `${o.insecure ? 'insecure ' : ''}` +
      `t=${this.now}ms` +
      this.faults.all.map((f) => ` fault=${formatFault({ ...f.spec, atMs: f.start })}`).join('')
    );
  }

  onEvent(listener: FleetListener): void {
    this.#listeners.push(listener);
  }

  /** Start nodes (all by default), spread over `startSpreadMs`. */
  start(ids: readonly string[] = this.ids): void {
    for (const id of ids) {
      const h = this.#host(id);
      const spread = this.opts.startSpreadMs ?? 0;
      const at = this.now + (spread > 0 ? this.#rng.int(spread) : 0);
      this.#queue.push(at, { kind: 'start', addr: h.addr, life: h.life });
    }
    this.#drainNow();
  }

  node(id: string): Node {
    return this.host(id).node;
  }

  /** The running host of `id`: its node, counters and refusals. */
  host(id: string): NodeHost {
    const h = this.#host(id).host;
    if (!h) throw new Error(`node ${id} is not running (${this.describe()})`);
    return h;
  }

  isRunning(id: string): boolean {
    return this.#host(id).host !== undefined;
  }

  runningIds(): string[] {
    return this.ids.filter((id) => this.isRunning(id));
  }

  set(id: string, key: string, value: Value, ttlMs = 0): number {
    return this.host(id).set(key, value, ttlMs);
  }

  del(id: string, key: string): void {
    this.host(id).delete(key);
  }

  leave(id: string): void {
    this.host(id).announceLeave();
  }

  /** kill -9: no goodbye, timers and the process are gone; the disk (boot counter) remains. */
  crash(id: string): void {
    const h = this.#host(id);
    h.host?.stop();
    void h.transport?.close();
    h.host = undefined;
    h.transport = undefined;
    h.life++;
    this.network.detach(h.addr);
  }

  /** Start again after a crash or a leave: a new generation from the boot counter. */
  restart(id: string): void {
    const h = this.#host(id);
    if (h.host) this.crash(id);
    this.#queue.push(this.now, { kind: 'start', addr: h.addr, life: h.life });
    this.#drainNow();
  }

  partition(groups: readonly (readonly string[])[]): void {
    this.network.partition(groups.map((g) => g.map((id) => this.#host(id).addr)));
  }

  /** The group stops reaching `id`, both ways (client isolation); unicast to and from it still works. */
  blockMulticast(id: string, blocked = true): void {
    this.network.blockMulticast(this.#host(id).addr, blocked);
  }

  isolate(id: string): void {
    this.network.isolate(this.#host(id).addr);
  }

  heal(): void {
    this.network.heal();
  }

  setLoss(id: string, p: number | undefined): void {
    this.network.setLoss(this.#host(id).addr, p);
  }

  /**
   * Add a fault (see faults.ts for each kind), starting `spec.atMs` from now. Returns it as held,
   * with its window in absolute virtual time and, for a random partition, the sides drawn.
   */
  fault(spec: FaultSpec): ActiveFault {
    for (const id of faultNodes(spec)) this.#host(id);
    const f = this.faults.add(this.now, spec, this.ids);
    this.network.faults = this.faults;
    if (spec.kind === 'readdress') {
      const { node, addr } = spec;
      this.#queue.push(f.start, { kind: 'fault-action', run: () => this.readdress(node, addr) });
    }
    return f;
  }

  /**
   * `id` moves to a new address (a DHCP renew, Wi-Fi roaming, eth0 to wlan0): its datagrams come
   * from `addr` from now on, and nothing sent to the old address reaches it. Returns the new address.
   */
  readdress(id: string, addr: Address = `sim:${id}#${++this.#readdresses}`): Address {
    const h = this.#host(id);
    if (this.#hosts.has(addr)) throw new Error(`readdress ${id}: address ${addr} is already taken (${this.describe()})`);
    h.addr = addr;
    this.#hosts.set(addr, h);
    h.transport?.readdress(addr);
    h.host?.node.readdress(addr);
    return addr;
  }

  /** The address `id` uses now. */
  addressOf(id: string): Address {
    return this.#host(id).addr;
  }

  /**
   * What `id`'s wall clock reads: true time plus its clock steps so far. The core runs on
   * monotonic virtual time and never reads it; it is for the layers that stamp things with the
   * wall clock (generations at boot, keyring stamps, sensor schedules).
   */
  wallClockMs(id: string): number {
    this.#host(id);
    return WALL_CLOCK_EPOCH_MS + this.now + this.faults.wallOffset(id, this.now);
  }

  /** Run `fn` after `ms` of virtual time, as the simulated world (not any node) acting. */
  after(ms: number, fn: () => void): void {
    this.#queue.push(this.now + ms, { kind: 'fault-action', run: fn });
  }

  runFor(ms: number): void {
    this.#runTo(this.now + ms);
  }

  /**
   * Run until `done()` holds, checking every `checkEveryMs` of virtual time. Returns the virtual
   * time it took. Throws, with the replay line, if it does not happen within `maxMs`.
   */
  runUntil(done: () => boolean, opts: { maxMs: number; checkEveryMs?: number; what?: string }): number {
    const start = this.now;
    const step = opts.checkEveryMs ?? 10;
    while (!done()) {
      if (this.now - start >= opts.maxMs) {
        throw new Error(`${opts.what ?? 'condition'} not reached within ${opts.maxMs} ms of virtual time; replay: ${this.describe()}`);
      }
      this.#runTo(this.now + step);
    }
    return this.now - start;
  }

  #drainNow(): void {
    this.#runTo(this.now);
  }

  #runTo(end: number): void {
    for (;;) {
      const at = this.#queue.peekTime();
      if (at === undefined || at > end) break;
      const ev = this.#queue.pop()!;
      this.now = ev.at;
      this.#handle(ev.item);
    }
    this.now = end;
  }

  #handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'deliver': {
        const held = this.#holdForStall(ev);
        return this.network.deliver(held ?? ev);
      }
      case 'timer': {
        const h = this.#hosts.get(ev.addr);
        if (h?.host && h.life === ev.life) {
          // A stalled node's timers fire when it wakes, as a SIGSTOPped process's do.
          const until = this.faults.stalledUntil(h.id, this.now);
          if (until !== undefined) this.#queue.push(until, ev);
          else ev.fire();
        }
        return;
      }
      case 'fault-action':
        ev.run();
        return;
      case 'start': {
        const h = this.#hosts.get(ev.addr);
        if (!h || h.life !== ev.life || h.host) return;
        this.#boot(h);
        return;
      }
    }
  }

  /**
   * A stalled node reads nothing until its stall ends: its share of the delivery waits in its
   * socket, in arrival order, and comes in one burst. Returns the delivery for the others, or
   * undefined when nobody is stalled.
   */
  #holdForStall(ev: Delivery): Delivery | undefined {
    if (this.faults.all.length === 0) return undefined;
    const rest: Address[] = [];
    for (const addr of ev.to) {
      const id = this.#hosts.get(addr)?.id;
      const until = id === undefined ? undefined : this.faults.stalledUntil(id, this.now);
      if (until === undefined) rest.push(addr);
      else this.#queue.push(until, { ...ev, to: [addr] });
    }
    return rest.length === ev.to.length ? undefined : { ...ev, to: rest };
  }

  #boot(h: Host): void {
    h.boots++;
    h.gen = this.opts.wallClockGenerations ? Math.max(h.gen + 1, Math.floor(this.wallClockMs(h.id) / 1000)) : h.boots;
    const life = h.life;
    const seeds = this.opts.seeds === 'first' ? [this.#byId.get(this.ids[0]!)!.addr] : [];
    const listeners = this.#listeners;
    const transport = new SimTransport({ network: this.network, addr: h.addr, multicast: this.#multicast, clock: () => this.now });
    const scheduler: TimerScheduler = {
      at: (at, fire) => this.#queue.push(Math.max(at, this.now), { kind: 'timer', addr: h.addr, life, fire }),
      // A crash bumps `life`: the queued timers of the old process are dropped when they come due.
      cancelAll: () => {},
      late: 0,
    };
    const { host } = assembleNode({
      id: h.id,
      gen: h.gen,
      profile: this.opts.profile,
      transport,
      clock: () => this.now,
      scheduler,
      rng: this.#rng.fork(`${h.id}/${h.boots}`),
      multicast: this.#multicast,
      seeds,
      security: this.#security(h),
      decode: (bytes, budget) => this.#decode(bytes, budget),
      onEvent: (event) => {
        for (const l of listeners) l(this.now, h.id, event);
      },
      onError: (where, e) => {
        // A broken rule stops the run as itself: it already carries its replay line.
        if (e instanceof InvariantViolation) throw e;
        throw new Error(`${h.id}: internal error in ${where}: ${e.message}; replay: ${this.describe()}`, { cause: e });
      },
    });
    h.host = host;
    h.transport = transport;
    host.start();
  }

  /** A device's trust material, from seeded streams: its key is the same in every life, its nonces are not. */
  #security(h: Host): SecurityOptions | { insecure: true } {
    if (!this.#keyring) return { insecure: true };
    const secretKey = bytesFrom(this.#rng.fork(`device-key/${h.id}`))(32);
    return {
      keyring: this.#keyring,
      deviceKey: { secretKey, publicKey: publicKeyOf(secretKey) },
      nonces: bytesFrom(this.#rng.fork(`nonces/${h.id}/${h.boots}`)),
      open: (frame, keys) => this.#open(frame, keys),
      verify: (message, signature, publicKey) => this.#verify(message, signature, publicKey),
    };
  }

  #open(frame: Uint8Array, keys: SealKeys): Opened {
    let o = this.#opened.get(frame);
    if (!o) {
      o = open(frame, keys);
      this.#opened.set(frame, o);
    }
    return o;
  }

  #decode(bytes: Uint8Array, budget: number): DecodeResult {
    let d = this.#decoded.get(bytes);
    if (!d) {
      d = decodeDatagram(bytes, budget);
      Object.freeze(d.messages);
      if (d.rejected.length > 0) {
        // An honest node sent something the wire layer rejects: a bug worth counting loudly.
        const net = this.network;
        net.rejected++;
        for (const r of d.rejected) net.rejectedReasons.set(r.reason, (net.rejectedReasons.get(r.reason) ?? 0) + 1);
      }
      this.#decoded.set(bytes, d);
    }
    return d;
  }

  /** Keyed by the signature; the message and key it was checked with must match byte for byte. */
  #verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
    const k = latin1(signature);
    const seen = this.#verified.get(k);
    if (seen && same(seen.message, message) && same(seen.publicKey, publicKey)) return seen.ok;
    const ok = verifyBytes(message, signature, publicKey);
    this.#verified.set(k, { message, publicKey, ok });
    return ok;
  }

  #host(id: string): Host {
    const h = this.#byId.get(id);
    if (!h) throw new Error(`no node "${id}" in this fleet (ids ${this.ids[0]}..${this.ids.at(-1)})`);
    return h;
  }
}

/** The node ids a fault spec names, checked against the fleet before it is added. */
function faultNodes(spec: FaultSpec): string[] {
  switch (spec.kind) {
    case 'partition':
      return [];
    case 'one-way':
      return [spec.from, spec.to];
    case 'clog':
    case 'flap':
      return spec.peer === undefined ? [spec.node] : [spec.node, spec.peer];
    default:
      return [spec.node];
  }
}
