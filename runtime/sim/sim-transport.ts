// The simulator's Transport: one node's attachment to the simulated network. It keeps the
// promises UdpTransport keeps (test/net/transport-conformance.ts): datagrams above the budget
// are refused and counted, a unicast arrives with the sender's address, a group datagram is
// flagged as such and not handed back to its sender, counters count what UDP's count (28 bytes
// of header per datagram sent), and nothing arrives after close.

import type { Address } from '../core/messages.js';
import { newCounters, type DatagramHandler, type Transport, type TransportCounters } from '../net/transport.js';
import { HEADER_BYTES, type SimNetwork } from './network.js';

export interface SimTransportOptions {
  readonly network: SimNetwork;
  readonly addr: Address;
  /** Whether this node joins the group. */
  readonly multicast: boolean;
  /** The simulator's clock: when a send happens. */
  readonly clock: () => number;
  /** Bytes per datagram (default: the network's). */
  readonly budget?: number;
}

export class SimTransport implements Transport {
  readonly counters: TransportCounters = newCounters();
  #addr: Address;
  readonly #opts: SimTransportOptions;
  readonly #budget: number;
  #handler: DatagramHandler = () => {};
  #closed = false;

  constructor(opts: SimTransportOptions) {
    this.#opts = opts;
    this.#addr = opts.addr;
    this.#budget = opts.budget ?? opts.network.opts.budget;
    opts.network.attach(opts.addr, opts.multicast, (bytes, from, via) => this.#deliver(bytes, from, via));
  }

  get localAddress(): Address {
    return this.#addr;
  }

  /**
   * The host's address changed (DHCP, roaming): what is sent to the old address no longer
   * arrives, and datagrams leave from the new one.
   */
  readdress(addr: Address): void {
    if (this.#closed) return;
    this.#opts.network.detach(this.#addr);
    this.#addr = addr;
    this.#opts.network.attach(addr, this.#opts.multicast, (bytes, from, via) => this.#deliver(bytes, from, via));
  }

  get multicastReady(): boolean {
    return !this.#closed && this.#opts.multicast;
  }

  listen(handler: DatagramHandler): void {
    this.#handler = handler;
  }

  send(to: Address, bytes: Uint8Array): void {
    if (this.#closed) return;
    if (bytes.length > this.#budget) {
      this.counters.refusedOversize++;
      return;
    }
    if (!this.#opts.network.send(this.#opts.clock(), this.localAddress, to, bytes)) {
      this.counters.sendErrors++;
      return;
    }
    this.counters.sentPackets++;
    this.counters.sentBytes += bytes.length + HEADER_BYTES;
  }

  #deliver(bytes: Uint8Array, from: Address, viaMulticast: boolean): void {
    if (this.#closed) return;
    this.counters.receivedPackets++;
    this.counters.receivedBytes += bytes.length;
    if (bytes.length > this.#budget) {
      this.counters.droppedOversize++;
      return;
    }
    this.#handler(bytes, from, viaMulticast);
  }

  /** Detach from the network: nothing is sent or delivered any more. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#opts.network.detach(this.localAddress);
    }
    return Promise.resolve();
  }
}
