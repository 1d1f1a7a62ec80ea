import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PacedReads } from '../../runtime/net/paced-reads.js';
import { UdpTransport, type UdpOptions } from '../../runtime/net/udp-transport.js';
import { loopbackOptions, until } from './loopback.js';

// Loopback only, unicast: the pause between batches is the transport's, whatever the socket.

function options(readPauseMs: number): UdpOptions {
  return loopbackOptions(47_478, { readPauseMs });
}

const open: UdpTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function pair(readPauseMs: number): Promise<{ a: UdpTransport; b: UdpTransport; got: number[] }> {
  const got: number[] = [];
  const a = await UdpTransport.open(options(0));
  const b = await UdpTransport.open(options(readPauseMs), (bytes) => got.push(bytes[0]!));
  open.push(a, b);
  return { a, b, got };
}


describe('paced reads', () => {
  it('datagrams that arrive while reads are paused all arrive, read together in one batch', async () => {
    const { a, b, got } = await pair(300);
    a.send(b.localAddress, new Uint8Array([1]));
    await until(() => got.length === 1);
    // The first batch is read; reading pauses before any timer of ours can run.
    for (let i = 2; i <= 6; i++) a.send(b.localAddress, new Uint8Array([i]));
    await until(() => got.length === 6);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(b.readBatches.batches).toBe(2);
    expect(b.readBatches.resumedEarly).toBe(0);
  });

  it('resumeReads ends a pause at once: what waited is read before the next setImmediate callback', async () => {
    const { a, b, got } = await pair(60_000);
    a.send(b.localAddress, new Uint8Array([1]));
    await until(() => got.length === 1);
    for (let i = 2; i <= 4; i++) a.send(b.localAddress, new Uint8Array([i]));
    // Loopback delivers during the send; give the sender's queue a moment all the same.
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([1]);
    expect(b.resumeReads()).toBe(true);
    const seen = await new Promise<number[]>((r) => setImmediate(() => r([...got])));
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(b.readBatches.resumedEarly).toBe(1);
  });

  it('without a pause every datagram is read as it arrives and there is nothing to resume', async () => {
    const { a, b, got } = await pair(0);
    for (let i = 1; i <= 3; i++) a.send(b.localAddress, new Uint8Array([i]));
    await until(() => got.length === 3);
    expect(b.resumeReads()).toBe(false);
    expect(b.readBatches.batches).toBe(0);
  });

  it('a batch as large as one poll reads may have left datagrams behind: reading goes on without waiting for the pause', async () => {
    const { a, b, got } = await pair(60_000);
    a.send(b.localAddress, new Uint8Array([0]));
    await until(() => got.length === 1);
    for (let i = 1; i <= 40; i++) a.send(b.localAddress, new Uint8Array([i]));
    await new Promise((r) => setTimeout(r, 50));
    expect(b.resumeReads()).toBe(true);
    // One resume, and no pause of a minute in between: the 40 that waited all arrive.
    await until(() => got.length === 41);
    expect(got).toEqual([...Array(41).keys()]);
  });

  it('the group socket waits for the next timer while the unicast socket is read after its own short pause', async () => {
    // A datagram sent to 127.0.0.1 on the group port is read by the group socket: group
    // handling without sending to a group.
    const got: { byte: number; viaGroup: boolean }[] = [];
    const b = await UdpTransport.open(
      loopbackOptions(47_486, { multicast: true, readPauseMs: 20, groupReadPauseMs: 60_000 }),
      (bytes, _from, viaGroup) => got.push({ byte: bytes[0]!, viaGroup }),
    );
    const tx = dgram.createSocket('udp4');
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', r));
    open.push(b);
    try {
      tx.send(new Uint8Array([1]), 47_486, '127.0.0.1');
      await until(() => got.length === 1);
      // Group reads are paused now; the unicast socket has read nothing, so it is not.
      tx.send(new Uint8Array([2]), 47_486, '127.0.0.1');
      tx.send(new Uint8Array([3]), b.ports.ipv4!, '127.0.0.1');
      await until(() => got.length === 2);
      expect(got).toEqual([{ byte: 1, viaGroup: true }, { byte: 3, viaGroup: false }]);
      tx.send(new Uint8Array([4]), b.ports.ipv4!, '127.0.0.1');
      // The unicast pause (20 ms) ends on its own; the group's does not in the test's time.
      await until(() => got.length === 3);
      await new Promise((r) => setTimeout(r, 100));
      expect(got.map((g) => g.byte)).toEqual([1, 3, 4]);
      // A timer comes due: both resume, and what waited in the group socket is read.
      expect(b.resumeReads()).toBe(true);
      await until(() => got.length === 4);
      expect(got[3]).toEqual({ byte: 2, viaGroup: true });
    } finally {
      tx.close();
    }
  });

  it('a socket leaves the paced set when it closes, so sockets replaced on interface changes do not pile up', async () => {
    const reads = new PacedReads(100);
    const sockets = [1, 2, 3].map(() => dgram.createSocket('udp4'));
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))));
    for (const s of sockets) reads.add(s);
    expect(reads.size).toBe(3);
    await new Promise<void>((r) => sockets[1]!.close(r));
    expect(reads.size).toBe(2);
    await Promise.all([sockets[0]!, sockets[2]!].map((s) => new Promise<void>((r) => s.close(r))));
    expect(reads.size).toBe(0);
    reads.close();
  });

  it('without a pause nothing is paced', () => {
    const reads = new PacedReads(0);
    const s = dgram.createSocket('udp4');
    reads.add(s);
    expect(reads.size).toBe(0);
    s.close();
  });
});
