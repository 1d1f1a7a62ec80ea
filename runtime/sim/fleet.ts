// A whole fleet of protocol cores on one virtual clock. Scenario tests and the simulation
// benchmark drive it as a story: start, run, cut links, kill, restart, assert. Every run is
// determined by its seed; a failure message carries the seed and options to replay it.

import type { CoreEvent, Effects, TimerToken } from '../core/effects.js';
import type { Address, Message, Value } from '../core/messages.js';
import { Node } from '../core/node.js';
import type { Profile } from '../core/profiles.js';
import { sizeOf } from '../wire/index.js';
import { EventQueue } from './event-queue.js';
import { FaultSchedule, formatFault, type ActiveFault, type FaultSpec } from './faults.js';
import { SimNetwork, type Delivery, type NetworkOptions } from './network.js';
import { Prng } from './prng.js';

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
}

export type FleetListener = (now: number, nodeId: string, event: CoreEvent) => void;

interface TimerEvent {
  readonly kind: 'timer';
  readonly addr: Address;
  readonly life: number;
  readonly token: TimerToken;
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
  /** Bumped on every crash so timers of a dead process are recognised and dropped. */
  life: number;
  node: Node | undefined;
  fx: Effects | undefined;
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
      const host: Host = { id, addr: `sim:${id}`, boots: 0, life: 0, node: undefined, fx: undefined };
      this.#hosts.set(host.addr, host);
      this.#byId.set(id, host);
    }
    this.ids = ids;
    this.faults = new FaultSchedule((addr) => this.#hosts.get(addr)?.id, this.#rng.fork('faults'));
    for (const f of opts.faults ?? []) this.fault(f);
  }

  /** One line with everything needed to replay this run. */
  describe(): string {
    const o = this.opts;
    return (
      `seed=${o.seed} nodes=${o.nodes} profile=${o.profile.name} loss=${o.loss ?? 0} delayMs=${o.delayMs ?? 1} ` +
      `jitterMs=${o.jitterMs ?? 2} duplicate=${o.duplicate ?? 0} multicast=${this.#multicast} seeds=${o.seeds ?? 'none'} ` +
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
    const n = this.#host(id).node;
    if (!n) throw new Error(`node ${id} is not running (${this.describe()})`);
    return n;
  }

  isRunning(id: string): boolean {
    return this.#host(id).node !== undefined;
  }

  runningIds(): string[] {
    return this.ids.filter((id) => this.isRunning(id));
  }

  set(id: string, key: string, value: Value, ttlMs = 0): number {
    const h = this.#host(id);
    return this.node(id).set(this.now, key, value, h.fx!, ttlMs);
  }

  del(id: string, key: string): void {
    const h = this.#host(id);
    this.node(id).delete(this.now, key, h.fx!);
  }

  leave(id: string): void {
    const h = this.#host(id);
    this.node(id).leave(this.now, h.fx!);
  }

  /** kill -9: no goodbye, timers and the process are gone; the disk (boot counter) remains. */
  crash(id: string): void {
    const h = this.#host(id);
    h.node = undefined;
    h.fx = undefined;
    h.life++;
    this.network.detach(h.addr);
  }

  /** Start again after a crash or a leave: a new generation from the boot counter. */
  restart(id: string): void {
    const h = this.#host(id);
    if (h.node) this.crash(id);
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
    const attached = this.network.isAttached(h.addr);
    this.network.detach(h.addr);
    h.addr = addr;
    this.#hosts.set(addr, h);
    if (attached) this.network.attach(addr, this.#multicast);
    h.node?.readdress(addr);
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
        if (held) ev = held;
        for (const addr of this.network.receivers(ev)) {
          const h = this.#hosts.get(addr);
          if (h?.node) h.node.receive(this.now, ev.from, ev.msgs, h.fx!, ev.viaMulticast);
        }
        return;
      }
      case 'timer': {
        const h = this.#hosts.get(ev.addr);
        if (h?.node && h.life === ev.life) {
          const until = this.faults.stalledUntil(h.id, this.now);
          if (until !== undefined) this.#queue.push(until, ev);
          else h.node.timer(this.now, ev.token, h.fx!);
        }
        return;
      }
      case 'fault-action':
        ev.run();
        return;
      case 'start': {
        const h = this.#hosts.get(ev.addr);
        if (!h || h.life !== ev.life || h.node) return;
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
    const life = h.life;
    const seeds = this.opts.seeds === 'first' ? [this.#byId.get(this.ids[0]!)!.addr] : [];
    h.node = new Node({
      id: h.id,
      gen: h.boots,
      addr: h.addr,
      profile: this.opts.profile,
      rng: this.#rng.fork(`${h.id}/${h.boots}`),
      size: sizeOf,
      multicast: this.#multicast,
      seeds,
    });
    const listeners = this.#listeners;
    const fleet = this;
    h.fx = {
      send: (to: Address, msgs: readonly Message[]) => {
        this.network.send(this.now, h.addr, to, msgs);
      },
      setTimer: (at: number, token: TimerToken) => {
        this.#queue.push(Math.max(at, this.now), { kind: 'timer', addr: h.addr, life, token });
      },
      emit(event: CoreEvent) {
        for (const l of listeners) l(fleet.now, h.id, event);
      },
    };
    this.network.attach(h.addr, this.#multicast);
    h.node.start(this.now, h.fx);
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
