import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { MULTICAST } from '../../runtime/core/effects.js';
import { StaticInterfaces, type NetInterface } from '../../runtime/net/interfaces.js';
import { UdpTransport, type UdpOptions } from '../../runtime/net/udp-transport.js';
import { lo, loopbackOptions, until } from './loopback.js';

// Loopback only. Multicast groups are joined on lo to exercise membership bookkeeping, but no
// test here sends to a group: group traffic is tested inside namespaces (test/e2e).


function options(over: Partial<UdpOptions> = {}): UdpOptions {
  return loopbackOptions(47_477, over);
}

const open: UdpTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function pair(over: Partial<UdpOptions> = {}): Promise<{ a: UdpTransport; b: UdpTransport; got: { bytes: Uint8Array; from: string; via: boolean }[] }> {
  const got: { bytes: Uint8Array; from: string; via: boolean }[] = [];
  const a = await UdpTransport.open(options(over), () => {});
  const b = await UdpTransport.open(options(over), (bytes, from, via) => got.push({ bytes, from, via }));
  open.push(a, b);
  return { a, b, got };
}


describe('UDP transport on loopback', () => {
  it('delivers unicast with the sender address peers can answer, marked as not from the group, and counts bytes with 28 bytes of header', async () => {
    const { a, b, got } = await pair();
    a.send(b.localAddress, new Uint8Array([1, 2, 3]));
    await until(() => got.length === 1);
    expect(got[0]!.from).toBe(a.localAddress);
    expect(got[0]!.via).toBe(false);
    expect([...got[0]!.bytes]).toEqual([1, 2, 3]);
    expect(a.counters.sentPackets).toBe(1);
    expect(a.counters.sentBytes).toBe(3 + 28);
  });

  it('refuses to send a datagram above the budget, and counts it', async () => {
    const { a, b, got } = await pair({ budget: 100 });
    a.send(b.localAddress, new Uint8Array(101));
    a.send(b.localAddress, new Uint8Array(100));
    await until(() => got.length === 1);
    expect(got[0]!.bytes.length).toBe(100);
    expect(a.counters.refusedOversize).toBe(1);
  });

  it('drops and counts received datagrams above the budget before anyone reads them', async () => {
    const { b, got } = await pair({ budget: 100 });
    const raw = dgram.createSocket('udp4');
    const port = b.ports.ipv4!;
    await new Promise<void>((r) => raw.send(new Uint8Array(500), port, '127.0.0.1', () => r()));
    await new Promise<void>((r) => raw.send(new Uint8Array(10), port, '127.0.0.1', () => r()));
    raw.close();
    await until(() => got.length === 1);
    expect(b.counters.droppedOversize).toBe(1);
    expect(got[0]!.bytes.length).toBe(10);
  });

  it('an unparseable destination or a family it has no socket for is counted, not thrown', async () => {
    const { a } = await pair();
    expect(() => a.send('not-an-address', new Uint8Array(1))).not.toThrow();
    expect(() => a.send('[::1]:9', new Uint8Array(1))).not.toThrow();
    expect(a.counters.sendErrors).toBe(2);
  });

  it('a port already taken is an error naming the address and port', async () => {
    const first = await UdpTransport.open(options({ port: 0 }), () => {});
    open.push(first);
    const port = first.ports.ipv4!;
    await expect(UdpTransport.open(options({ port }), () => {})).rejects.toThrow(new RegExp(`port ${port}.*127\\.0\\.0\\.1:${port}`));
  });

  it('follows interfaces: joins when one appears, leaves when it vanishes, and a join the OS refuses is counted, never thrown', async () => {
    const ifs = new StaticInterfaces([]);
    const notices: string[] = [];
    const t = await UdpTransport.open(options({ multicast: true, interfaceSource: ifs, onNotice: (_level, e) => notices.push(e) }), () => {});
    open.push(t);
    expect(t.multicastReady).toBe(false);
    ifs.interfaces = [lo];
    t.refreshInterfaces();
    expect(t.multicastReady).toBe(true);
    ifs.interfaces = [];
    t.refreshInterfaces();
    expect(t.multicastReady).toBe(false);
    expect(notices).toEqual(['group-joined', 'group-left']);
    // An interface whose address is not on this host: the kernel refuses the join.
    ifs.interfaces = [{ ...lo, name: 'ghost0', ipv4: '192.0.2.77', loopback: false }];
    expect(() => t.refreshInterfaces()).not.toThrow();
    expect(t.counters.membershipErrors).toBe(1);
    expect(t.multicastReady).toBe(false);
    // Nothing is joined, so a group send goes nowhere and costs nothing.
    t.send(MULTICAST, new Uint8Array(4));
    expect(t.counters.sentPackets).toBe(0);
  });

  it('sends nothing after close, and close is idempotent', async () => {
    const { a, b } = await pair();
    await a.close();
    await a.close();
    a.send(b.localAddress, new Uint8Array(1));
    expect(a.counters.sentPackets).toBe(0);
  });
});

describe('the advertised address', () => {
  const eth0: NetInterface = { name: 'eth0', ipv4: '10.9.9.9', ipv6: undefined, loopback: false, up: true, multicast: true };
  // The kernel does not flag lo as multicast-capable.
  const plainLo: NetInterface = { name: 'lo', ipv4: '127.0.0.1', ipv6: undefined, loopback: true, up: true, multicast: false };
  const bound = async (interfaces: readonly string[] | 'auto'): Promise<string> => {
    const { bind4: _unused, ...o } = options({ interfaces, interfaceSource: new StaticInterfaces([plainLo, eth0]) });
    const t = await UdpTransport.open(o as UdpOptions, () => {});
    open.push(t);
    return t.localAddress;
  };

  it('is an address of the interfaces the config names (lo included), else of the ones auto chose', async () => {
    expect(await bound(['lo'])).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await bound('auto')).toMatch(/^10\.9\.9\.9:\d+$/);
    expect(await bound(['eth0'])).toMatch(/^10\.9\.9\.9:\d+$/);
  });
});
