// What every Transport promises the node host, checked the same way for each implementation:
// UDP on loopback (udp-conformance.test.ts) and the simulator's (sim-conformance.test.ts).
// A transport that passes can carry a host; the simulator's passing is what lets a simulation
// stand for a fleet on UDP.

import { afterEach, describe, expect, it } from 'vitest';
import { MULTICAST } from '../../runtime/core/effects.js';
import type { Transport } from '../../runtime/net/transport.js';

export interface TransportUnderTest {
  /** A transport with this datagram budget; `multicast`: whether it joins the group. */
  open(opts: { budget: number; multicast: boolean }): Promise<Transport>;
  /**
   * Let what was sent arrive: until `done()` holds, or (for what must not arrive) long enough
   * that it would have.
   */
  deliver(done: () => boolean): Promise<void>;
}

interface Received {
  readonly to: string;
  readonly bytes: number[];
  readonly from: string;
  readonly viaMulticast: boolean;
}

const HEADER = 28;

export function transportConformance(name: string, make: () => TransportUnderTest): void {
  describe(`${name} transport conformance`, () => {
    const open: Transport[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((t) => t.close()));
    });

    async function nodes(n: number, opts: { budget?: number; multicast?: boolean } = {}): Promise<{ net: TransportUnderTest; ts: Transport[]; got: Received[] }> {
      const net = make();
      const got: Received[] = [];
      const ts: Transport[] = [];
      for (let i = 0; i < n; i++) {
        const t = await net.open({ budget: opts.budget ?? 1200, multicast: opts.multicast ?? true });
        open.push(t);
        const me = t.localAddress;
        t.listen((bytes, from, viaMulticast) => got.push({ to: me, bytes: [...bytes], from, viaMulticast }));
        ts.push(t);
      }
      return { net, ts, got };
    }

    it('delivers unicast to the addressed node only, with the address the sender is reached at, not flagged as group traffic', async () => {
      const { net, ts, got } = await nodes(3);
      const [a, b, c] = ts as [Transport, Transport, Transport];
      a.send(b.localAddress, Uint8Array.of(1, 2, 3));
      await net.deliver(() => got.length >= 1);
      expect(got).toEqual([{ to: b.localAddress, bytes: [1, 2, 3], from: a.localAddress, viaMulticast: false }]);
      // The address it came from is one to answer to.
      b.send(got[0]!.from, Uint8Array.of(4));
      await net.deliver(() => got.length >= 2);
      expect(got[1]).toEqual({ to: a.localAddress, bytes: [4], from: b.localAddress, viaMulticast: false });
      expect(got.some((r) => r.to === c.localAddress)).toBe(false);
    });

    it('delivers a group datagram to every other member, flagged as group traffic, and not back to its sender', async () => {
      const { net, ts, got } = await nodes(3);
      const [a, b, c] = ts as [Transport, Transport, Transport];
      expect(ts.every((t) => t.multicastReady)).toBe(true);
      a.send(MULTICAST, Uint8Array.of(9));
      await net.deliver(() => got.length >= 2);
      // Long enough for a copy to the sender to show up, if one were coming.
      await net.deliver(() => false);
      expect(got.map((r) => r.to).sort()).toEqual([b.localAddress, c.localAddress].sort());
      expect(got.every((r) => r.from === a.localAddress && r.viaMulticast && r.bytes[0] === 9)).toBe(true);
    });

    it('a unicast datagram to its own address is delivered, as direct traffic', async () => {
      const { net, ts, got } = await nodes(1);
      const a = ts[0]!;
      a.send(a.localAddress, Uint8Array.of(5));
      await net.deliver(() => got.length >= 1);
      expect(got).toEqual([{ to: a.localAddress, bytes: [5], from: a.localAddress, viaMulticast: false }]);
    });

    it('a node that does not join the group hears no group traffic and sends none', async () => {
      const { net, ts: joined, got } = await nodes(1);
      const loner = await net.open({ budget: 1200, multicast: false });
      open.push(loner);
      const heard: number[] = [];
      loner.listen((bytes) => heard.push(bytes[0]!));
      expect(loner.multicastReady).toBe(false);
      joined[0]!.send(MULTICAST, Uint8Array.of(1));
      loner.send(MULTICAST, Uint8Array.of(2));
      joined[0]!.send(loner.localAddress, Uint8Array.of(3));
      await net.deliver(() => heard.length >= 1);
      await net.deliver(() => false);
      expect(heard).toEqual([3]);
      expect(got).toEqual([]);
    });

    it('refuses and counts a datagram above the budget; one of exactly the budget goes', async () => {
      const { net, ts, got } = await nodes(2, { budget: 100 });
      const [a, b] = ts as [Transport, Transport];
      a.send(b.localAddress, new Uint8Array(101));
      a.send(MULTICAST, new Uint8Array(101));
      a.send(b.localAddress, new Uint8Array(100).fill(7));
      await net.deliver(() => got.length >= 1);
      await net.deliver(() => false);
      expect(got.map((r) => r.bytes.length)).toEqual([100]);
      expect(a.counters.refusedOversize).toBe(2);
      expect(a.counters.sentPackets).toBe(1);
    });

    it('counts datagrams and bytes sent (28 bytes of header each) and received (payload)', async () => {
      const { net, ts, got } = await nodes(2);
      const [a, b] = ts as [Transport, Transport];
      a.send(b.localAddress, new Uint8Array(10));
      a.send(MULTICAST, new Uint8Array(20));
      await net.deliver(() => got.length >= 2);
      await net.deliver(() => false);
      expect(a.counters.sentPackets).toBe(2);
      expect(a.counters.sentBytes).toBe(10 + 20 + 2 * HEADER);
      expect(b.counters.receivedPackets).toBe(2);
      expect(b.counters.receivedBytes).toBe(30);
      expect(a.counters.receivedPackets).toBe(0);
      expect(a.counters.refusedOversize + a.counters.sendErrors + b.counters.droppedOversize).toBe(0);
    });

    it('after close, nothing is delivered to it and it sends nothing; close is idempotent', async () => {
      const { net, ts, got } = await nodes(3);
      const [a, b, c] = ts as [Transport, Transport, Transport];
      await b.close();
      await b.close();
      a.send(b.localAddress, Uint8Array.of(1));
      a.send(MULTICAST, Uint8Array.of(2));
      b.send(c.localAddress, Uint8Array.of(3));
      await net.deliver(() => got.length >= 1);
      await net.deliver(() => false);
      expect(got).toEqual([{ to: c.localAddress, bytes: [2], from: a.localAddress, viaMulticast: true }]);
      expect(b.counters.sentPackets).toBe(0);
    });
  });
}
