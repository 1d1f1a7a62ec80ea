// The device's N-1 peers for bench:device, all in one process, made as cheap as they can be
// while the device still does every check a device does.
//
// Each peer is an assembled secure node (runtime/host/assembly.ts) with its own device key and
// an admin certificate: what it sends the device is sealed under the fleet key and signed, its
// passport carries the certificate, and the device checks all of it. Among themselves the
// peers skip what only protects them from each other:
// - A datagram from one peer to another never touches a socket: it is handed over in this
//   process, one byte array for every receiver, with each receiver's own loss.
// - The group has one socket here, not one per peer: what the device multicasts is read once
//   and handed to every peer. So the device's multicast costs it one delivery, as on a LAN,
//   not one per peer (the kernel charges loopback delivery to the sender).
// - Opening a frame, decoding a datagram and checking a signature are pure functions: done
//   once per byte array for all peers (as the simulator does, runtime/sim/fleet.ts), and a
//   peer's signature is not checked at all by another peer.
// - Peers do not ask each other for certificates (no admin key of their own).
// Each peer still has its own unicast socket, so the device sees 127 addresses and talks to
// each as it would on a LAN.

import dgram from 'node:dgram';
import { MULTICAST, type CoreEvent } from '../runtime/core/effects.js';
import type { Address } from '../runtime/core/messages.js';
import { profileByName } from '../runtime/core/profiles.js';
import { Keyring } from '../runtime/crypto/keyring.js';
import { open, type Opened, type SealKeys } from '../runtime/crypto/seal.js';
import { assembleNode } from '../runtime/host/assembly.js';
import type { NodeHost } from '../runtime/host/node-host.js';
import { monotonicClock, RealTimeScheduler } from '../runtime/host/scheduler.js';
import { newCounters, type DatagramHandler, type Transport, type TransportCounters } from '../runtime/net/transport.js';
import { Prng } from '../runtime/sim/prng.js';
import { verifyBytes, type SigningKey } from '../runtime/trust/ed25519.js';
import { decodeDatagram, type DecodeResult } from '../runtime/wire/index.js';

export interface PeerNetOptions {
  /** This side's address on the link to the device (every peer binds a port on it). */
  readonly localIp: string;
  readonly group: string;
  readonly groupPort: number;
  readonly budget: number;
  readonly loss: number;
  readonly seed: number;
}

interface Delivery {
  readonly to: PeerTransport;
  readonly bytes: Uint8Array;
  readonly from: Address;
  readonly viaMulticast: boolean;
}

/** The peers' shared network: their addresses, the one group socket, in-process delivery. */
export class PeerNet {
  readonly #byAddr = new Map<Address, PeerTransport>();
  readonly #queue: Delivery[] = [];
  #flushing = false;
  readonly #group: dgram.Socket;
  readonly received = { group: 0, local: 0 };
  /** Datagrams the peers put on the link to the device (group or unicast). */
  sentToDevice = 0;

  private constructor(readonly opts: PeerNetOptions, group: dgram.Socket) {
    this.#group = group;
    group.on('message', (msg, rinfo) => {
      const from = `${rinfo.address}:${rinfo.port}`;
      // Peers send to the group with loopback off; anything from one of them is not news.
      if (this.#byAddr.has(from)) return;
      this.received.group++;
      for (const t of this.#byAddr.values()) t.deliver(msg, from, true);
    });
  }

  static async open(opts: PeerNetOptions): Promise<PeerNet> {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: 1 << 21 });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(opts.groupPort, '0.0.0.0', () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.addMembership(opts.group, opts.localIp);
    return new PeerNet(opts, s);
  }

  async transport(lossSeed: string): Promise<PeerTransport> {
    const t = await PeerTransport.open(this, new Prng(this.opts.seed).fork(lossSeed));
    this.#byAddr.set(t.localAddress, t);
    return t;
  }

  forget(t: PeerTransport): void {
    this.#byAddr.delete(t.localAddress);
  }

  peerAt(addr: Address): PeerTransport | undefined {
    return this.#byAddr.get(addr);
  }

  /** Hand `bytes` to other peers after the current call returns (a node is never re-entered). */
  handOver(from: PeerTransport, to: 'all' | PeerTransport, bytes: Uint8Array): void {
    // One copy shared by every receiver: the memoised opening keys on the array itself.
    const copy = bytes.slice();
    if (to === 'all') {
      for (const t of this.#byAddr.values()) if (t !== from) this.#queue.push({ to: t, bytes: copy, from: from.localAddress, viaMulticast: true });
    } else this.#queue.push({ to, bytes: copy, from: from.localAddress, viaMulticast: false });
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushing = false;
    const batch = this.#queue.splice(0);
    this.received.local += batch.length;
    for (const d of batch) d.to.deliver(d.bytes, d.from, d.viaMulticast);
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.#group.close(() => r()));
  }
}

/** One peer's Transport: a real unicast socket toward the device, in-process toward other peers. */
export class PeerTransport implements Transport {
  readonly counters: TransportCounters = newCounters();
  readonly multicastReady = true;
  #handler: DatagramHandler = () => {};
  #closed = false;

  private constructor(
    readonly net: PeerNet,
    readonly socket: dgram.Socket,
    readonly localAddress: Address,
    readonly lossRng: Prng,
  ) {
    socket.on('message', (msg, rinfo) => this.deliver(msg, `${rinfo.address}:${rinfo.port}`, false));
    socket.on('error', () => this.counters.sendErrors++);
  }

  static async open(net: PeerNet, lossRng: Prng): Promise<PeerTransport> {
    const s = dgram.createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, net.opts.localIp, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.setMulticastTTL(1);
    s.setMulticastLoopback(false);
    s.setMulticastInterface(net.opts.localIp);
    return new PeerTransport(net, s, `${net.opts.localIp}:${s.address().port}`, lossRng);
  }

  deliver(bytes: Uint8Array, from: Address, viaMulticast: boolean): void {
    if (this.#closed) return;
    this.counters.receivedPackets++;
    if (this.net.opts.loss > 0 && this.lossRng.next() < this.net.opts.loss) {
      this.counters.droppedLoss++;
      return;
    }
    this.#handler(bytes, from, viaMulticast);
  }

  send(to: Address, bytes: Uint8Array): void {
    if (this.#closed) return;
    if (bytes.length > this.net.opts.budget) {
      this.counters.refusedOversize++;
      return;
    }
    this.counters.sentPackets++;
    this.counters.sentBytes += bytes.length + 28;
    if (to === MULTICAST) {
      this.net.handOver(this, 'all', bytes);
      this.#transmit(bytes, this.net.opts.groupPort, this.net.opts.group);
      return;
    }
    const peer = this.net.peerAt(to);
    if (peer) return this.net.handOver(this, peer, bytes);
    const colon = to.lastIndexOf(':');
    this.#transmit(bytes, Number(to.slice(colon + 1)), to.slice(0, colon));
  }

  #transmit(bytes: Uint8Array, port: number, host: string): void {
    this.net.sentToDevice++;
    try {
      this.socket.send(bytes, port, host, (err) => {
        if (err) this.counters.sendErrors++;
      });
    } catch {
      this.counters.sendErrors++;
    }
  }

  listen(handler: DatagramHandler): void {
    this.#handler = handler;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.net.forget(this);
    await new Promise<void>((r) => this.socket.close(() => r()));
  }
}

/** Opening, decoding and checking once per byte array for every peer; peers' own signatures pass unchecked. */
export class SharedWork {
  readonly #opened = new WeakMap<Uint8Array, Opened>();
  readonly #decoded = new WeakMap<Uint8Array, DecodeResult>();
  readonly #verified = new Map<string, boolean>();
  readonly #peerKeys = new Set<string>();
  checks = 0;

  trustPeer(publicKey: Uint8Array): void {
    this.#peerKeys.add(Buffer.from(publicKey).toString('latin1'));
  }

  open = (frame: Uint8Array, keys: SealKeys): Opened => {
    let o = this.#opened.get(frame);
    if (!o) {
      o = open(frame, keys);
      this.#opened.set(frame, o);
    }
    return o;
  };

  decode = (bytes: Uint8Array, budget: number): DecodeResult => {
    let d = this.#decoded.get(bytes);
    if (!d) {
      d = decodeDatagram(bytes, budget);
      Object.freeze(d.messages);
      this.#decoded.set(bytes, d);
    }
    return d;
  };

  verify = (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean => {
    const pk = Buffer.from(publicKey).toString('latin1');
    if (this.#peerKeys.has(pk)) return true;
    // The device signs each record once; every peer asks about the same one.
    const k = pk + Buffer.from(signature).toString('latin1') + Buffer.from(message).toString('latin1');
    let ok = this.#verified.get(k);
    if (ok === undefined) {
      this.checks++;
      ok = verifyBytes(message, signature, publicKey);
      if (this.#verified.size > 100_000) this.#verified.clear();
      this.#verified.set(k, ok);
    }
    return ok;
  };
}

export interface Peer {
  readonly id: string;
  readonly host: NodeHost;
  readonly transport: PeerTransport;
}

export interface PeerIdentity {
  readonly id: string;
  readonly key: SigningKey;
  readonly certificate: Uint8Array;
}

/** Assemble one secure node per identity on the shared network. Hosts are not started. */
export async function openPeers(
  net: PeerNet,
  work: SharedWork,
  ids: readonly PeerIdentity[],
  opts: { readonly fleetKey: Uint8Array; readonly gen: number; readonly profile: string; readonly seed: number; readonly onEvent: (id: string, e: CoreEvent) => void },
): Promise<Peer[]> {
  const wire = profileByName(opts.profile);
  const keyring = new Keyring(0);
  keyring.use(keyring.install(opts.fleetKey));
  const rng = new Prng(opts.seed);
  for (const p of ids) work.trustPeer(p.key.publicKey);
  const peers: Peer[] = [];
  for (const p of ids) {
    const transport = await net.transport(`loss-${p.id}`);
    const { host } = assembleNode({
      id: p.id,
      gen: opts.gen,
      profile: wire,
      transport,
      clock: monotonicClock,
      scheduler: new RealTimeScheduler(monotonicClock),
      rng: rng.fork(p.id),
      multicast: true,
      security: { keyring, deviceKey: p.key, certificate: p.certificate, open: work.open, verify: work.verify },
      decode: work.decode,
      onEvent: (e) => opts.onEvent(p.id, e),
    });
    peers.push({ id: p.id, host, transport });
  }
  return peers;
}
