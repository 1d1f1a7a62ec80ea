import { describe, expect, it } from 'vitest';
import { parseSeed } from '../../runtime/net/address.js';
import { Seeds, type Lookup } from '../../runtime/net/seeds.js';

describe('parseSeed', () => {
  it.each([
    ['10.0.0.5:7478', { kind: 'address', endpoint: { host: '10.0.0.5', port: 7478, family: 'ipv4' } }],
    ['[fd00::5]', { kind: 'address', endpoint: { host: 'fd00::5', port: 7000, family: 'ipv6' } }],
    ['pi-3.local:7478', { kind: 'name', name: 'pi-3.local', port: 7478 }],
    ['gateway', { kind: 'name', name: 'gateway', port: 7000 }],
    ['router.lan.', { kind: 'name', name: 'router.lan.', port: 7000 }],
  ])('reads %s', (text, seed) => {
    expect(parseSeed(text, 'seed', 7000)).toEqual(seed);
  });
  it.each([
    ['pi_3.local', 'is not an address or a host name'],
    ['10.0.0', 'is not an address or a host name'],
    ['-pi', 'is not an address or a host name'],
    ['pi-3.local:0', 'port in "pi-3.local:0" must be 1-65535'],
    ['pi-3.local:x', 'port in "pi-3.local:x" must be 1-65535'],
  ])('refuses %s', (text, why) => {
    expect(() => parseSeed(text, 'network.seeds[0]', 7000)).toThrow(why);
  });
});

function seeds(lookup: Lookup | undefined, extra: Partial<ConstructorParameters<typeof Seeds>[0]> = {}) {
  const changes: string[][] = [];
  const notices: string[] = [];
  let now = 0;
  const s = new Seeds({
    seeds: ['10.0.0.9', 'pi-3.local:7600'],
    defaultPort: 7478,
    families: ['ipv4'],
    ...(lookup ? { lookup } : {}),
    clock: () => now,
    alone: () => true,
    onChange: (a) => void changes.push([...a]),
    onNotice: (level, event, f) => void notices.push(`${level} ${event} ${JSON.stringify(f)}`),
    ...extra,
  });
  return { s, changes, notices, advance: (ms: number) => (now += ms) };
}

describe('Seeds', () => {
  it('starts with the addresses, adds what a name resolves to (of the configured families), and keeps it when a lookup fails', async () => {
    let answer: Array<{ address: string; family: number }> | Error = [
      { address: '192.168.1.3', family: 4 },
      { address: 'fd00::3', family: 6 },
    ];
    const { s, changes, notices, advance } = seeds(async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    });
    expect(s.addrs).toEqual(['10.0.0.9:7478']);
    await s.resolve();
    expect(changes).toEqual([['10.0.0.9:7478', '192.168.1.3:7600']]);
    expect(notices).toEqual(['info seed-resolved {"seed":"pi-3.local:7600","addrs":"192.168.1.3:7600"}']);
    // The same answer again changes nothing.
    await s.resolve();
    expect(changes).toHaveLength(1);
    answer = Object.assign(new Error('getaddrinfo ENOTFOUND pi-3.local'), { code: 'ENOTFOUND' });
    await s.resolve();
    await s.resolve();
    expect(s.addrs).toEqual(['10.0.0.9:7478', '192.168.1.3:7600']);
    expect(notices.slice(1)).toEqual(['warn seed-unresolved {"seed":"pi-3.local:7600","error":"ENOTFOUND","kept":"192.168.1.3:7600"}']);
    // A new address after a DHCP renewal.
    answer = [{ address: '192.168.1.30', family: 4 }];
    await s.resolve();
    expect(changes.at(-1)).toEqual(['10.0.0.9:7478', '192.168.1.30:7600']);

    expect(s.view().map((v) => v.lastHeardMsAgo)).toEqual([null, null]);
    s.heard('192.168.1.30:7600');
    advance(1500);
    s.heard('10.0.0.99:7478');
    expect(s.view()).toEqual([
      { seed: '10.0.0.9', addrs: ['10.0.0.9:7478'], lastHeardMsAgo: null, error: null },
      { seed: 'pi-3.local:7600', addrs: ['192.168.1.30:7600'], lastHeardMsAgo: 1500, error: null },
    ]);
  });

  it('looks names up again while it runs: often while alone, then at the normal interval', async () => {
    let lookups = 0;
    let alone = true;
    const { s } = seeds(
      async () => {
        lookups++;
        return [{ address: '127.0.0.1', family: 4 }];
      },
      { alone: () => alone, aloneRefreshMs: 20, refreshMs: 200 },
    );
    s.start();
    await new Promise((r) => setTimeout(r, 110));
    const whileAlone = lookups;
    expect(whileAlone).toBeGreaterThanOrEqual(3);
    alone = false;
    await new Promise((r) => setTimeout(r, 150));
    expect(lookups - whileAlone).toBeLessThanOrEqual(2);
    s.close();
    const atClose = lookups;
    await new Promise((r) => setTimeout(r, 250));
    expect(lookups).toBe(atClose);
  });

  it('logs, while the node stays alone, each seed and whether it answered; not before it has been alone a while, and not often', async () => {
    let alone = true;
    let now = 0;
    const notices: string[] = [];
    const s = new Seeds({
      seeds: ['10.0.0.9', 'pi-3.local'],
      defaultPort: 7478,
      families: ['ipv4'],
      lookup: async () => Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' })),
      clock: () => now,
      alone: () => alone,
      onChange: () => {},
      onNotice: (_level, event, f) => void (event === 'no-peers' && notices.push(JSON.stringify(f))),
      aloneRefreshMs: 10,
      aloneReportAfterMs: 1000,
      aloneReportEveryMs: 5000,
    });
    s.start();
    const tick = async (ms: number): Promise<void> => {
      now += ms;
      await new Promise((r) => setTimeout(r, 60));
    };
    await tick(500);
    expect(notices).toEqual([]);
    await tick(600);
    expect(notices).toEqual(['{"alone_s":1,"seeds":"10.0.0.9 (10.0.0.9:7478) never heard; pi-3.local (no address) unresolved: ENOTFOUND"}']);
    await tick(1000);
    expect(notices).toHaveLength(1);
    alone = false;
    await tick(10);
    alone = true;
    await tick(10);
    expect(notices).toHaveLength(1);
    s.close();
  });

  it('resolves localhost with the system resolver', async () => {
    const { s, changes } = seeds(undefined, { seeds: ['localhost:7600'] });
    await s.resolve();
    expect(changes).toEqual([['127.0.0.1:7600']]);
  });
});
