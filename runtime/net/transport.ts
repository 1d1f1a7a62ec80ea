// What the node host needs from a network: send bytes to an address or to the group, and be
// told about bytes that arrive and how (group or direct). The UDP transport and the simulator's
// transport (runtime/sim/sim-transport.ts) implement it, and pass one conformance suite
// (test/net/transport-conformance.ts).

import type { Address } from '../core/messages.js';

export type DatagramHandler = (bytes: Uint8Array, from: Address, viaMulticast: boolean) => void;

export interface TransportCounters {
  /** Datagrams and bytes put on the wire; bytes include 28 bytes of IPv4/UDP header each. */
  sentPackets: number;
  sentBytes: number;
  sendErrors: number;
  /** Datagrams the host asked to send that exceeded the budget (a bug upstream if ever non-zero). */
  refusedOversize: number;
  receivedPackets: number;
  receivedBytes: number;
  /** Received datagrams above the budget, dropped unread. */
  droppedOversize: number;
  /** Own group datagrams that came back (multicast loopback), dropped unread and not counted as received. */
  droppedOwn: number;
  /** Received datagrams discarded by the configured artificial loss (benchmarks only). */
  droppedLoss: number;
  /** Group joins or leaves the OS refused (interface gone, no address yet). */
  membershipErrors: number;
}

export function newCounters(): TransportCounters {
  return {
    sentPackets: 0,
    sentBytes: 0,
    sendErrors: 0,
    refusedOversize: 0,
    receivedPackets: 0,
    receivedBytes: 0,
    droppedOversize: 0,
    droppedOwn: 0,
    droppedLoss: 0,
    membershipErrors: 0,
  };
}

export interface Transport {
  /** The unicast address peers should use for this node. */
  readonly localAddress: Address;
  /** Whether at least one multicast group is joined right now. */
  readonly multicastReady: boolean;
  readonly counters: TransportCounters;
  /**
   * Send one datagram; `to` is an address or MULTICAST. Never throws for network errors. A
   * datagram above the budget is refused and counted. A group datagram is not handed back to
   * its sender; a unicast one to its own address is.
   */
  send(to: Address, bytes: Uint8Array): void;
  /** Where received datagrams go (replaces the previous handler). */
  listen(handler: DatagramHandler): void;
  close(): Promise<void>;
}
