// The simulated network: datagrams, unicast and multicast, over an in-memory "segment" with the
// faults a flaky LAN or Wi-Fi has. It carries bytes, as a real network does: what nodes send is
// what their hosts encoded (and sealed), and a multicast is one byte array that every receiver
// gets. Nodes reach it through SimTransport (sim-transport.ts), the simulator's Transport.

import type { Address } from '../core/messages.js';
import { MULTICAST } from '../core/effects.js';
import type { DatagramHandler } from '../net/transport.js';
import { DEFAULT_DATAGRAM_BUDGET } from '../wire/index.js';
import type { EventQueue } from './event-queue.js';
import type { LinkFaults } from './faults.js';
import type { Prng } from './prng.js';

/** IPv4 (20) + UDP (8) header bytes, counted per datagram as SCENARIOS.md asks. */
export const HEADER_BYTES = 28;

export interface NetworkOptions {
  /** Probability that a datagram is lost at a receiver (independently per receiver). */
  readonly loss: number;
  /** One-way base delay in ms. */
  readonly delayMs: number;
  /** Uniform extra delay in [0, jitterMs); reordering comes from it. */
  readonly jitterMs: number;
  /** Probability that a delivered datagram arrives a second time, later. */
  readonly duplicate: number;
  readonly budget: number;
}

export const defaultNetworkOptions: NetworkOptions = {
  loss: 0,
  delayMs: 1,
  jitterMs: 2,
  duplicate: 0,
  budget: DEFAULT_DATAGRAM_BUDGET,
};

export interface Delivery {
  readonly kind: 'deliver';
  readonly from: Address;
  readonly to: readonly Address[];
  readonly bytes: Uint8Array;
  /** Sent to the group rather than to one address. */
  readonly viaMulticast: boolean;
}

interface Endpoint {
  readonly addr: Address;
  readonly multicast: boolean;
  /** Where deliveries to this endpoint go (its transport). */
  readonly receive: DatagramHandler | undefined;
}

export interface Traffic {
  packets: number;
  bytes: number;
}

export class SimNetwork {
  readonly #endpoints = new Map<Address, Endpoint>();
  readonly #group = new Map<Address, number>();
  readonly #loss = new Map<Address, number>();
  readonly #sent = new Map<Address, Traffic>();
  /** Endpoints the group does not reach, in or out (Wi-Fi client isolation, IGMP snooping gone wrong). */
  readonly #mcastBlocked = new Set<Address>();
  #nextIsolated = 1_000_000;
  opts: NetworkOptions;
  /** Scheduled faults (one-way links, flaps, clogging, random partitions, lossy nodes), judged per datagram. */
  faults: LinkFaults | undefined;
  /** Called when a datagram is refused for exceeding the budget (the invariants watch it). */
  onRefused: ((now: number, from: Address, to: Address) => void) | undefined;

  /** Datagrams refused at send because they exceeded the budget. */
  refused = 0;
  /** Receiver-side counts. */
  delivered = 0;
  lost = 0;
  /** Receiver-side datagrams lost to a scheduled fault rather than to the network's loss. */
  faultDropped = 0;
  /** Datagrams of honest nodes that the wire layer rejected (counted by the fleet's decoder). */
  rejected = 0;
  readonly rejectedReasons = new Map<string, number>();
  packetsSent = 0;
  bytesSent = 0;

  constructor(
    opts: Partial<NetworkOptions>,
    private readonly queue: EventQueue<Delivery | { kind: string }>,
    private readonly rng: Prng,
  ) {
    this.opts = { ...defaultNetworkOptions, ...opts };
  }

  attach(addr: Address, multicast: boolean, receive?: DatagramHandler): void {
    this.#endpoints.set(addr, { addr, multicast, receive });
  }

  /** Whether `addr` is attached and on the group. */
  inGroup(addr: Address): boolean {
    return this.#endpoints.get(addr)?.multicast === true;
  }

  detach(addr: Address): void {
    this.#endpoints.delete(addr);
  }

  isAttached(addr: Address): boolean {
    return this.#endpoints.has(addr);
  }

  /** Loss applied to datagrams that `addr` receives (overrides the global loss). */
  setLoss(addr: Address, p: number | undefined): void {
    if (p === undefined) this.#loss.delete(addr);
    else this.#loss.set(addr, p);
  }

  /** Nodes in different groups cannot reach each other; nodes not listed share one group. */
  partition(groups: readonly (readonly Address[])[]): void {
    this.#group.clear();
    groups.forEach((g, i) => {
      for (const a of g) this.#group.set(a, i + 1);
    });
  }

  /** Group traffic from and to `addr` is silently dropped; unicast still works. */
  blockMulticast(addr: Address, blocked = true): void {
    if (blocked) this.#mcastBlocked.add(addr);
    else this.#mcastBlocked.delete(addr);
  }

  isolate(addr: Address): void {
    this.#group.set(addr, this.#nextIsolated++);
  }

  heal(): void {
    this.#group.clear();
  }

  traffic(addr: Address): Traffic {
    return this.#sent.get(addr) ?? { packets: 0, bytes: 0 };
  }

  resetCounters(): void {
    this.#sent.clear();
    this.packetsSent = 0;
    this.bytesSent = 0;
    this.delivered = 0;
    this.lost = 0;
    this.faultDropped = 0;
    this.rejected = 0;
    this.refused = 0;
    this.rejectedReasons.clear();
  }

  canReach(a: Address, b: Address): boolean {
    if (this.#group.size === 0) return true;
    return (this.#group.get(a) ?? 0) === (this.#group.get(b) ?? 0);
  }

  /** Send one datagram. Returns false when it was refused (over budget). */
  send(now: number, from: Address, to: Address, bytes: Uint8Array): boolean {
    if (bytes.length > this.opts.budget) {
      this.refused++;
      this.onRefused?.(now, from, to);
      return false;
    }
    const t = this.#sent.get(from) ?? { packets: 0, bytes: 0 };
    t.packets++;
    t.bytes += bytes.length + HEADER_BYTES;
    this.#sent.set(from, t);
    this.packetsSent++;
    this.bytesSent += bytes.length + HEADER_BYTES;

    // Group receivers by arrival millisecond so one queue event serves many of them.
    const byTime = new Map<number, Address[]>();
    const consider = (addr: Address): void => {
      if (!this.canReach(from, addr)) return;
      if (this.faults?.drops(now, from, addr, to === MULTICAST)) {
        this.faultDropped++;
        return;
      }
      const p = this.#loss.get(addr) ?? this.opts.loss;
      if (p > 0 && this.rng.next() < p) {
        this.lost++;
        return;
      }
      let at = now + this.opts.delayMs + Math.floor(this.rng.next() * this.opts.jitterMs);
      if (this.faults) at = Math.max(at, this.faults.holdUntil(now, from, addr));
      push(at, addr);
      if (this.opts.duplicate > 0 && this.rng.next() < this.opts.duplicate) {
        push(at + 1 + Math.floor(this.rng.next() * (this.opts.jitterMs + 5)), addr);
      }
    };
    const push = (at: number, addr: Address): void => {
      const list = byTime.get(at);
      if (list) list.push(addr);
      else byTime.set(at, [addr]);
    };
    if (to === MULTICAST) {
      const sender = this.#endpoints.get(from);
      if (sender && !sender.multicast) return true;
      if (this.#mcastBlocked.has(from)) return true;
      for (const ep of this.#endpoints.values()) {
        if (ep.multicast && ep.addr !== from && !this.#mcastBlocked.has(ep.addr)) consider(ep.addr);
      }
    } else if (this.#endpoints.has(to)) {
      consider(to);
    }
    for (const [at, list] of byTime) this.queue.push(at, { kind: 'deliver', from, to: list, bytes, viaMulticast: to === MULTICAST });
    return true;
  }

  /** A delivery came due: hand the datagram to every receiver still attached and reachable. */
  deliver(d: Delivery): void {
    for (const a of this.receivers(d)) this.#endpoints.get(a)?.receive?.(d.bytes, d.from, d.viaMulticast);
  }

  /** Called by the runner when a delivery event comes due; counts and filters detached receivers. */
  receivers(d: Delivery): Address[] {
    const out: Address[] = [];
    for (const a of d.to) {
      if (!this.#endpoints.has(a) || !this.canReach(d.from, a)) continue;
      this.delivered++;
      out.push(a);
    }
    return out;
  }
}
