// UDP over node:dgram, IPv4 and IPv6, multicast and unicast.
//
// Per address family there are two kinds of socket, because node:dgram cannot tell whether a
// datagram was sent to the group or to us (no IP_PKTINFO), and the core needs to know:
// - a *unicast* socket on the node's own port, for everything addressed to this node and for
//   sending (peers learn our address from its source port);
// - a *group* socket on the group port, joined to the group on every selected interface;
//   whatever it receives came through the group.
// IPv4 picks the outgoing interface per socket, so each extra interface gets a small sender
// socket of its own; IPv6 picks it per datagram from the scoped group address (ff02::…%eth0).
// Interfaces are re-read every few seconds and groups re-joined or left as they come and go;
// a vanished interface costs a counted error, never the process.

import dgram from 'node:dgram';
import { MULTICAST } from '../core/effects.js';
import type { Address } from '../core/messages.js';
import { formatAddress, parseAddress, type Endpoint, type Family } from './address.js';
import { selectInterfaces, type InterfaceSource, type NetInterface } from './interfaces.js';
import { PacedReads } from './paced-reads.js';
import { newCounters, type DatagramHandler, type Transport, type TransportCounters } from './transport.js';

/** IPv4 + UDP header bytes counted per datagram, as the fleet benchmark specifies. */
export const HEADER_BYTES = 28;
/**
 * Socket receive buffer asked of the kernel (it caps the request at net.core.rmem_max). The
 * default, about 200 KiB, holds some 200 small datagrams: under half a second of a 128-node
 * fleet's heartbeats. A device that stalls longer (an SD card write, a CPU-starved process, a
 * fleet booting at once) would lose every heartbeat of the stall and take the silence for the
 * others'. With 1 MiB it reads them late instead, which its stall detection allows for. The
 * memory is used only while a backlog lasts.
 */
const RECEIVE_BUFFER_BYTES = 1 << 20;
/** Destinations kept parsed; past this many (address churn) the table starts over. */
const ENDPOINTS_KEPT = 4096;
/** Interface checks asked for by failed group sends are at least this far apart. */
const URGENT_CHECK_MS = 250;

export interface UdpOptions {
  readonly families: readonly Family[];
  readonly group4: string;
  readonly group6: string;
  readonly groupPort: number;
  /** This node's unicast port; 0 picks a free one. */
  readonly port: number;
  /** Local addresses to bind the unicast sockets to (wildcard by default). */
  readonly bind4?: string;
  readonly bind6?: string;
  readonly interfaces: readonly string[] | 'auto';
  /** False: no group is joined and nothing is multicast (seeds and unicast only). */
  readonly multicast: boolean;
  readonly ttl: number;
  /**
   * With both families joined on an interface, multicast goes out over IPv4 only unless this is
   * true: every peer there hears IPv4, and on Wi-Fi each copy costs airtime. IPv6 still carries
   * the group on interfaces without IPv4.
   */
  readonly sendBothFamilies?: boolean;
  readonly budget: number;
  readonly interfaceSource: InterfaceSource;
  readonly interfaceCheckMs: number;
  /**
   * After reading a batch, stop reading for at most this many ms (runtime/net/paced-reads.ts):
   * fewer wake-ups for a lone device, datagrams late by at most this much. 0 or absent: read
   * each datagram as it arrives.
   */
  readonly readPauseMs?: number;
  /**
   * The same for the group sockets; `readPauseMs` when absent. Nothing sent to the group asks
   * for an answer in time (probes and their Acks come to the unicast socket), so the group
   * sockets can wait longer: for the next timer of the node, which resumes both.
   */
  readonly groupReadPauseMs?: number;
  /** Artificial receive loss for benchmarks: each datagram is dropped with this probability. */
  readonly receiveLoss?: { readonly p: number; readonly next: () => number };
  /** Something happened worth a log line (joins, leaves, errors). Never called per datagram. */
  readonly onNotice?: (level: 'info' | 'warn', event: string, fields: Record<string, string | number>) => void;
  /** The advertised unicast address changed (an interface came up, DHCP gave a new lease). */
  readonly onAddressChange?: (addr: Address) => void;
}

interface Joined {
  /** What the join used: the interface's IPv4 address, or "::%name". */
  readonly key: string;
  readonly index: number | undefined;
}

interface FamilyLink {
  readonly family: Family;
  readonly group: string;
  readonly unicast: dgram.Socket;
  readonly groupSocket: dgram.Socket | undefined;
  /** Joined interfaces by name. */
  readonly joined: Map<string, Joined>;
  /** IPv4 only: per-interface sender sockets beyond the first interface, which uses `unicast`. */
  readonly senders: Map<string, dgram.Socket>;
  /** IPv4 only: the interface address the unicast socket currently sends multicast through. */
  primaryIf: string | undefined;
}

export class UdpTransport implements Transport {
  readonly counters: TransportCounters = newCounters();
  readonly #links: FamilyLink[] = [];
  readonly #opts: UdpOptions;
  #handler: DatagramHandler;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Parsed destinations: a node sends to the same few hundred addresses many times a second. */
  readonly #endpoints = new Map<Address, Endpoint>();
  /** Ports of the sockets this transport sends from, and addresses of this host: a group datagram from both is our own. */
  readonly #ownPorts = new Set<number>();
  #hostAddresses = new Set<string>(['127.0.0.1', '::1']);
  /** performance.now() of the last interface check that a failed group send asked for. */
  #urgentCheckAt = -Infinity;
  localAddress: Address = '';
  readonly #reads: PacedReads;
  readonly #groupReads: PacedReads;

  private constructor(opts: UdpOptions, handler: DatagramHandler = () => {}) {
    this.#opts = opts;
    this.#handler = handler;
    this.#reads = new PacedReads(opts.readPauseMs ?? 0);
    this.#groupReads = new PacedReads(opts.groupReadPauseMs ?? opts.readPauseMs ?? 0);
  }

  /** Bind the sockets and join the groups. Fails, naming the address and port, only when no family can bind. */
  static async open(opts: UdpOptions, handler?: DatagramHandler): Promise<UdpTransport> {
    const t = new UdpTransport(opts, handler);
    const errors: string[] = [];
    for (const family of opts.families) {
      try {
        t.#links.push(await t.#openFamily(family));
      } catch (e) {
        errors.push(`${family}: ${(e as Error).message}`);
        opts.onNotice?.('warn', 'family-unavailable', { family, error: (e as Error).message });
      }
    }
    if (t.#links.length === 0) {
      throw new Error(`network: could not open a UDP socket on port ${opts.port} (${errors.join('; ')})`);
    }
    t.refreshInterfaces();
    if (opts.multicast && opts.interfaceCheckMs > 0) {
      t.#timer = setInterval(() => t.refreshInterfaces(), opts.interfaceCheckMs);
      t.#timer.unref();
    }
    return t;
  }

  get multicastReady(): boolean {
    return this.#links.some((l) => l.joined.size > 0);
  }

  /** Ports actually bound, per family (useful when `port` was 0). */
  get ports(): Partial<Record<Family, number>> {
    const out: Partial<Record<Family, number>> = {};
    for (const l of this.#links) out[l.family] = l.unicast.address().port;
    return out;
  }

  listen(handler: DatagramHandler): void {
    this.#handler = handler;
  }

  /**
   * Read the sockets again now if reads are paused between batches. True when they were: what
   * waits is read in this event-loop turn's poll phase, before any setImmediate callback.
   */
  resumeReads(): boolean {
    const unicast = this.#reads.resume();
    return this.#groupReads.resume() || unicast;
  }

  /** Batches of datagrams read, and pauses a due timer ended early, unicast and group sockets together (zero unpaced). */
  get readBatches(): { readonly batches: number; readonly resumedEarly: number } {
    const u = this.#reads.stats;
    const g = this.#groupReads.stats;
    return { batches: u.batches + g.batches, resumedEarly: u.resumedEarly + g.resumedEarly };
  }

  send(to: Address, bytes: Uint8Array): void {
    if (this.#closed) return;
    if (bytes.length > this.#opts.budget) {
      this.counters.refusedOversize++;
      return;
    }
    if (to === MULTICAST) {
      for (const link of this.#links) this.#sendGroup(link, bytes);
      return;
    }
    let ep = this.#endpoints.get(to);
    if (!ep) {
      try {
        ep = parseAddress(to, 'destination');
      } catch {
        this.counters.sendErrors++;
        return;
      }
      if (this.#endpoints.size >= ENDPOINTS_KEPT) this.#endpoints.clear();
      this.#endpoints.set(to, ep);
    }
    const link = this.#links.find((l) => l.family === ep.family);
    if (!link) {
      this.counters.sendErrors++;
      return;
    }
    this.#transmit(link.unicast, bytes, ep.port, ep.host);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#reads.close();
    this.#groupReads.close();
    if (this.#timer) clearInterval(this.#timer);
    const all: dgram.Socket[] = [];
    for (const l of this.#links) {
      all.push(l.unicast, ...l.senders.values());
      if (l.groupSocket) all.push(l.groupSocket);
    }
    await Promise.all(all.map((s) => new Promise<void>((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve();
      }
    })));
  }

  /**
   * Re-read interfaces (once), bring group memberships in line, and work out the address to
   * advertise. Called at open and on a timer; public for tests.
   */
  refreshInterfaces(): void {
    if (this.#closed) return;
    let all: NetInterface[];
    try {
      all = this.#opts.interfaceSource.list();
    } catch (e) {
      this.#opts.onNotice?.('warn', 'interfaces-unreadable', { error: (e as Error).message });
      // Keep what we had; at open there is nothing yet, so fall back to the bound addresses.
      if (this.localAddress !== '') return;
      all = [];
    }
    this.#hostAddresses = new Set(['127.0.0.1', '::1', ...all.flatMap((i) => [i.ipv4, i.ipv6].filter((a): a is string => a !== undefined))]);
    const chosen = selectInterfaces(all, this.#opts.interfaces);
    // Without multicast there is no group socket and #reconcile has nothing to do.
    for (const link of this.#links) this.#reconcile(link, chosen, all);
    // A configured list names the interfaces to be reached on, multicast-capable or not (lo is
    // not): advertise one of theirs. "auto" advertises what it chose.
    const wanted = this.#opts.interfaces;
    const named = wanted === 'auto' ? chosen : all.filter((i) => wanted.includes(i.name));
    const addr = this.#advertised(named, all);
    if (addr !== this.localAddress) {
      const first = this.localAddress === '';
      this.localAddress = addr;
      if (!first) {
        this.#opts.onNotice?.('info', 'address-changed', { addr });
        this.#opts.onAddressChange?.(addr);
      }
    }
  }

  // ------------------------------------------------------------------ internals

  async #openFamily(family: Family): Promise<FamilyLink> {
    const type = family === 'ipv4' ? 'udp4' : 'udp6';
    const unicast = dgram.createSocket({ type, ipv6Only: family === 'ipv6', recvBufferSize: RECEIVE_BUFFER_BYTES });
    this.#wire(unicast, false, `${family} unicast`);
    try {
      await bind(unicast, this.#opts.port, family === 'ipv4' ? (this.#opts.bind4 ?? '0.0.0.0') : (this.#opts.bind6 ?? '::'));
    } catch (e) {
      closeQuietly(unicast);
      throw e;
    }
    this.#ownPorts.add(unicast.address().port);
    let groupSocket: dgram.Socket | undefined;
    if (this.#opts.multicast) {
      // reuseAddr: several murmur processes on one host (a lab, a benchmark) share the group port.
      groupSocket = dgram.createSocket({ type, reuseAddr: true, ipv6Only: family === 'ipv6', recvBufferSize: RECEIVE_BUFFER_BYTES });
      this.#wire(groupSocket, true, `${family} group port ${this.#opts.groupPort}`);
      try {
        await bind(groupSocket, this.#opts.groupPort, family === 'ipv4' ? '0.0.0.0' : '::');
        this.#multicastOptions(unicast);
      } catch (e) {
        closeQuietly(unicast);
        closeQuietly(groupSocket);
        throw e;
      }
    }
    return {
      family,
      group: family === 'ipv4' ? this.#opts.group4 : this.#opts.group6,
      unicast,
      groupSocket,
      joined: new Map(),
      senders: new Map(),
      primaryIf: undefined,
    };
  }

  #multicastOptions(s: dgram.Socket): void {
    s.setMulticastTTL(this.#opts.ttl);
    // Loopback on: two nodes on one host (development, the lab, the benchmark) must hear each other.
    s.setMulticastLoopback(true);
  }

  #wire(s: dgram.Socket, viaMulticast: boolean, what: string): void {
    s.on('error', (e) => this.#opts.onNotice?.('warn', 'socket-error', { socket: what, error: e.message }));
    const reads = viaMulticast ? this.#groupReads : this.#reads;
    s.on('message', (msg, rinfo) => {
      reads.read();
      this.#onMessage(msg, rinfo, viaMulticast);
    });
    reads.add(s);
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo, viaMulticast: boolean): void {
    // With multicast loopback on (two nodes on one host must hear each other), our own group
    // datagrams come back to our group socket. They are not news to us.
    if (viaMulticast && this.#ownPorts.has(rinfo.port) && this.#hostAddresses.has(rinfo.address.replace(/%.*$/, ''))) {
      this.counters.droppedOwn++;
      return;
    }
    this.counters.receivedPackets++;
    this.counters.receivedBytes += msg.length;
    if (msg.length > this.#opts.budget) {
      this.counters.droppedOversize++;
      return;
    }
    const loss = this.#opts.receiveLoss;
    if (loss && loss.p > 0 && loss.next() < loss.p) {
      this.counters.droppedLoss++;
      return;
    }
    this.#handler(msg, formatAddress(rinfo.address, rinfo.port), viaMulticast);
  }

  #transmit(s: dgram.Socket, bytes: Uint8Array, port: number, host: string, group = false): void {
    this.counters.sentPackets++;
    this.counters.sentBytes += bytes.length + HEADER_BYTES;
    try {
      s.send(bytes, port, host, (err) => {
        if (!err) return;
        this.counters.sendErrors++;
        if (group) this.#groupSendFailed();
      });
    } catch {
      // Thrown synchronously for a socket closed under us or an unusable address.
      this.counters.sendErrors++;
      if (group) this.#groupSendFailed();
    }
  }

  /**
   * A group send fails when the address it goes out through has gone (a DHCP renew, roaming, a
   * move from eth0 to wlan0). Waiting for the periodic check would leave the fleet without our
   * heartbeats for up to interfaceCheckMs, long enough to be suspected; look again now, at most
   * every URGENT_CHECK_MS so a persistently failing interface does not re-read them per send.
   */
  #groupSendFailed(): void {
    if (this.#closed || !this.#opts.multicast) return;
    const now = performance.now();
    if (now - this.#urgentCheckAt < URGENT_CHECK_MS) return;
    this.#urgentCheckAt = now;
    this.refreshInterfaces();
  }

  #sendGroup(link: FamilyLink, bytes: Uint8Array): void {
    const v4 = this.#opts.sendBothFamilies ? undefined : this.#links.find((l) => l.family === 'ipv4');
    for (const [name] of link.joined) {
      if (link.family === 'ipv6') {
        if (v4?.joined.has(name)) continue;
        this.#transmit(link.unicast, bytes, this.#opts.groupPort, `${link.group}%${name}`, true);
      } else {
        const s = link.senders.get(name) ?? link.unicast;
        this.#transmit(s, bytes, this.#opts.groupPort, link.group, true);
      }
    }
  }

  #reconcile(link: FamilyLink, chosen: readonly NetInterface[], all: readonly NetInterface[]): void {
    if (!link.groupSocket) return;
    const want = new Map<string, Joined>();
    for (const i of chosen) {
      if (link.family === 'ipv4' && i.ipv4) want.set(i.name, { key: i.ipv4, index: i.index });
      if (link.family === 'ipv6' && i.ipv6) want.set(i.name, { key: `::%${i.name}`, index: i.index });
    }
    for (const [name, j] of [...link.joined]) {
      const w = want.get(name);
      if (w && w.key === j.key && w.index === j.index) continue;
      // Gone, or re-created under the same name: the kernel has already dropped the
      // membership. Dropping it ourselves would be wrong, not just useless: an IPv6 drop naming
      // an interface that no longer exists means "any interface" and can hit another one.
      const present = all.find((i) => i.name === name);
      const stillThere = present !== undefined && present.index === j.index;
      this.#leave(link, name, j.key, stillThere);
    }
    for (const [name, w] of want) {
      if (link.joined.has(name)) continue;
      try {
        link.groupSocket.addMembership(link.group, w.key);
        link.joined.set(name, w);
        this.#opts.onNotice?.('info', 'group-joined', { family: link.family, group: link.group, interface: name });
      } catch (e) {
        this.counters.membershipErrors++;
        this.#opts.onNotice?.('warn', 'group-join-failed', { family: link.family, group: link.group, interface: name, error: (e as Error).message });
      }
    }
    if (link.family === 'ipv4') this.#assignSenders(link);
  }

  #leave(link: FamilyLink, name: string, key: string, drop: boolean): void {
    link.joined.delete(name);
    if (drop) {
      try {
        link.groupSocket?.dropMembership(link.group, key);
      } catch {
        // Already dropped by the kernel.
      }
    }
    const s = link.senders.get(name);
    if (s) {
      link.senders.delete(name);
      s.close();
    }
    if (link.primaryIf === name) link.primaryIf = undefined;
    this.#opts.onNotice?.('info', 'group-left', { family: link.family, group: link.group, interface: name });
  }

  /** The first joined IPv4 interface sends through the unicast socket; each other one gets its own. */
  #assignSenders(link: FamilyLink): void {
    const names = [...link.joined.keys()].sort();
    const primary = names[0];
    if (primary !== undefined && link.primaryIf !== primary) {
      try {
        link.unicast.setMulticastInterface(link.joined.get(primary)!.key);
        link.primaryIf = primary;
        const s = link.senders.get(primary);
        if (s) {
          link.senders.delete(primary);
          s.close();
        }
      } catch (e) {
        this.#opts.onNotice?.('warn', 'multicast-interface-failed', { interface: primary, error: (e as Error).message });
      }
    }
    for (const name of names.slice(1)) {
      if (link.senders.has(name)) continue;
      const addr = link.joined.get(name)!.key;
      const s = dgram.createSocket({ type: 'udp4' });
      this.#wire(s, false, `ipv4 sender on ${name}`);
      link.senders.set(name, s);
      s.bind(0, addr, () => {
        this.#ownPorts.add(s.address().port);
        try {
          this.#multicastOptions(s);
          s.setMulticastInterface(addr);
        } catch (e) {
          this.#opts.onNotice?.('warn', 'multicast-interface-failed', { interface: name, error: (e as Error).message });
        }
      });
    }
  }

  /** The unicast address to advertise: the first selected interface's address, IPv4 preferred. */
  #advertised(named: readonly NetInterface[], all: readonly NetInterface[]): Address {
    const v4 = this.#links.find((l) => l.family === 'ipv4');
    const bound4 = v4?.unicast.address();
    if (v4 && bound4) {
      let host = bound4.address;
      if (host === '0.0.0.0') host = v4.joined.get(v4.primaryIf ?? '')?.key ?? firstIpv4(named) ?? firstIpv4(all) ?? '127.0.0.1';
      return formatAddress(host, bound4.port);
    }
    const v6 = this.#links[0]!;
    const b = v6.unicast.address();
    let host = b.address;
    if (host === '::') host = firstIpv6(named, [...v6.joined.keys()]) ?? firstIpv6(all, [...v6.joined.keys()]) ?? '::1';
    return formatAddress(host, b.port);
  }
}

function closeQuietly(s: dgram.Socket): void {
  try {
    s.close();
  } catch {
    // Never bound, or already closed.
  }
}

function firstIpv4(all: readonly NetInterface[]): string | undefined {
  return (all.find((i) => !i.loopback && i.up && i.ipv4) ?? all.find((i) => i.ipv4))?.ipv4;
}

function firstIpv6(all: readonly NetInterface[], joined: readonly string[]): string | undefined {
  const v6 = all.filter((i) => i.ipv6 !== undefined);
  return (v6.find((i) => joined.includes(i.name)) ?? v6.find((i) => !i.loopback) ?? v6[0])?.ipv6;
}

function bind(s: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(new Error(`bind ${formatAddress(address, port)}: ${e.message}`));
    s.once('error', onError);
    s.bind(port, address, () => {
      s.off('error', onError);
      resolve();
    });
  });
}
