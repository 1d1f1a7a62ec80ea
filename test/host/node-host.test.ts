import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Effects } from '../../runtime/core/effects.js';
import { NodeHost } from '../../runtime/host/node-host.js';
import { RealTimeScheduler } from '../../runtime/host/scheduler.js';
import { StaticInterfaces } from '../../runtime/net/interfaces.js';
import { UdpTransport } from '../../runtime/net/udp-transport.js';
import { Node } from '../../runtime/core/node.js';
import { profiles } from '../../runtime/core/profiles.js';
import { Prng } from '../../runtime/sim/prng.js';
import { decodeDatagram, encodeDatagram, sizeOf } from '../../runtime/wire/index.js';
import { MsgType } from '../../runtime/core/messages.js';

function host(clock: () => number, sent: Uint8Array[] = []): NodeHost {
  const node = new Node({ id: 'h', gen: 1, addr: '127.0.0.1:1', profile: profiles.lan, rng: new Prng(1), size: sizeOf, multicast: true });
  return new NodeHost({ node, clock, scheduler: new RealTimeScheduler(clock), budget: 1200, transport: { send: (_to, b) => sent.push(b) } });
}


/** A core that only records the order in which datagrams and timers reach it. */
function orderRecorder(): { calls: string[]; fake: Node; effects: () => Effects } {
  const calls: string[] = [];
  let fx: Effects | undefined;
  const fake = {
    start: (_now: number, e: Effects) => (fx = e),
    receive: () => calls.push('receive'),
    timer: () => calls.push('timer'),
  } as unknown as Node;
  return { calls, fake, effects: () => fx! };
}

describe('node host', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('garbage datagrams are counted by reason and never reach the core or throw', () => {
    const h = host(() => 0);
    h.start();
    h.receive(new Uint8Array([0xff, 0x00, 0x13]), '10.0.0.9:7478', true);
    h.receive(new Uint8Array([]), '10.0.0.9:7478', true);
    h.receive(new Uint8Array([1, 0x9f, 0x9f, 0x9f]), '10.0.0.9:7478', false);
    expect([...h.rejected.keys()].sort()).toEqual(['bad-version', 'empty', 'malformed-cbor']);
    expect(h.node.presentCount).toBe(0);
    h.stop();
  });

  it('a valid heartbeat introduces the sender', () => {
    const h = host(() => 0);
    h.start();
    const hb = { type: MsgType.Heartbeat, from: { id: 'peer', gen: 3 }, inc: 0, seq: 1, intervalMs: 250, kvMax: 0, view: 0 } as const;
    h.receive(encodeDatagram([hb]), '10.0.0.9:7478', true);
    expect(h.node.member('peer')?.addr).toBe('10.0.0.9:7478');
    h.stop();
  });

  it('a timer the event loop fires before its due time on our clock is re-armed, not handed to the core as stale', () => {
    // Virtual time. A host whose clock runs at half the event loop's speed sees every timer fire
    // "early" by its clock; re-armed until due, it must send exactly what a host on an ordinary
    // clock sends over the same span of its own time.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
    const run = (speed: number, loopMs: number): string[] => {
      const start = Date.now();
      const sent: Uint8Array[] = [];
      const h = host(() => Math.floor((Date.now() - start) * speed), sent);
      h.start();
      vi.advanceTimersByTime(loopMs);
      h.stop();
      return sent.map((b) => Buffer.from(b).toString('hex'));
    };
    const ordinary = run(1, 1000);
    const slow = run(0.5, 2000);
    expect(slow).toEqual(ordinary);
    // The heartbeat chain kept going: a timer handed over early is taken for a stale one and
    // would have ended it at the first.
    const seqs = ordinary.flatMap((hex) => decodeDatagram(Buffer.from(hex, 'hex')).messages).flatMap((m) => (m.type === MsgType.Heartbeat ? [m.seq] : []));
    expect(seqs.length).toBeGreaterThan(3);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('a timer that fires late, after the process was stalled, is handled after the datagrams that queued up meanwhile', async () => {
    // The Ack a probe timeout is about may already sit in the socket. Node runs expired timers
    // before it reads sockets, so without care our own stall would look like the peer's silence.
    const { calls, fake, effects } = orderRecorder();
    const clock = (): number => Math.floor(performance.now());
    const h = new NodeHost({ node: fake, clock, scheduler: new RealTimeScheduler(clock), budget: 1200, transport: { send: () => {} } });
    h.start();
    const rx = createSocket('udp4');
    const tx = createSocket('udp4');
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
    rx.on('message', (m, rinfo) => h.receive(new Uint8Array(m), `${rinfo.address}:${rinfo.port}`, false));
    const hb = { type: MsgType.Heartbeat, from: { id: 'peer', gen: 3 }, inc: 0, seq: 1, intervalMs: 250, kvMax: 0, view: 0 } as const;
    // In one synchronous stretch, so no phase of the event loop can come between: a timer due
    // in 5 ms, a datagram on its way to the socket, then a stall well past the timer.
    const due = clock() + 5;
    effects().setTimer(due, { kind: 'sweep' });
    tx.send(encodeDatagram([hb]), rx.address().port, '127.0.0.1');
    while (clock() < due + 60) {
      // stalled
    }
    // However long the machine takes to get round to both, the order is what matters.
    for (let waited = 0; calls.length < 2 && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual(['receive', 'timer']);
    expect(h.lateTimers).toBe(1);
    h.stop();
    rx.close();
    tx.close();
  });

  it('a timer that comes due while reads are paused between batches fires after the datagrams that waited', async () => {
    const { calls, fake, effects } = orderRecorder();
    const clock = (): number => Math.floor(performance.now());
    // A pause far longer than the test: only the timer can end it.
    const rx = await UdpTransport.open({
      families: ['ipv4'], group4: '239.255.77.79', group6: 'ff02::77:79', groupPort: 47_479, port: 0, bind4: '127.0.0.1',
      interfaces: 'auto', multicast: false, ttl: 1, budget: 1200, interfaceSource: new StaticInterfaces([]), interfaceCheckMs: 0,
      readPauseMs: 60_000,
    });
    const h = new NodeHost({ node: fake, clock, scheduler: new RealTimeScheduler(clock, () => rx.resumeReads()), budget: 1200, transport: rx });
    rx.listen((bytes, from, via) => h.receive(bytes, from, via));
    h.start();
    const tx = createSocket('udp4');
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
    const port = rx.ports.ipv4!;
    const hb = (seq: number): Uint8Array => encodeDatagram([{ type: MsgType.Heartbeat, from: { id: 'peer', gen: 3 }, inc: 0, seq, intervalMs: 250, kvMax: 0, view: 0 }]);
    tx.send(hb(1), port, '127.0.0.1');
    for (let waited = 0; calls.length < 1 && waited < 10_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    // Reads are paused now. A heartbeat arrives, then the timer comes due.
    tx.send(hb(2), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toEqual(['receive']);
    effects().setTimer(clock() + 5, { kind: 'sweep' });
    for (let waited = 0; calls.length < 3 && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual(['receive', 'receive', 'timer']);
    expect(rx.readBatches.resumedEarly).toBe(1);
    h.stop();
    tx.close();
    await rx.close();
  });
});
