import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNamespace, ip } from '../../scripts/netns.js';
import { labAvailable } from './lab-support.js';

// A transport's group sends go out through its interface's address. When that address goes
// (a DHCP renew, roaming to another network), the sends fail; the transport must look at its interfaces again at
// once, not at the next periodic check, or the fleet misses its heartbeats long enough to
// suspect it. The transport runs in a namespace of its own with a veth pair, so nothing
// leaves this machine; the periodic check is a minute away, so only the prompt check can pass.

const dist = resolve(__dirname, '../../dist/runtime');
const ns = `murmur-readdr-${process.pid}`;
let dir = '';

const script = (transportJs: string, interfacesJs: string, effectsJs: string): string => `
import { execFileSync } from 'node:child_process';
import { MULTICAST } from ${JSON.stringify(effectsJs)};
import { UdpTransport } from ${JSON.stringify(transportJs)};
import { SystemInterfaces } from ${JSON.stringify(interfacesJs)};
const t0 = performance.now();
let changed;
const t = await UdpTransport.open({
  families: ['ipv4'], group4: '239.255.77.79', group6: 'ff02::77:79', groupPort: 47_479, port: 47_480,
  interfaces: ['d0'], multicast: true, ttl: 1, budget: 1200,
  interfaceSource: new SystemInterfaces(), interfaceCheckMs: 60_000,
  onAddressChange: (a) => { changed ??= { addr: a, ms: performance.now() - t0 }; },
});
const before = t.localAddress;
execFileSync('ip', ['addr', 'add', '10.78.0.2/24', 'dev', 'd0']);
execFileSync('ip', ['addr', 'del', '10.77.0.1/24', 'dev', 'd0']);
const removedAt = performance.now() - t0;
for (let i = 0; i < 40 && !changed; i++) {
  t.send(MULTICAST, new Uint8Array(8));
  await new Promise((r) => setTimeout(r, 50));
}
console.log(JSON.stringify({ before, after: t.localAddress, changed, removedAt, sendErrors: t.counters.sendErrors }));
await t.close();
`;

describe.skipIf(!labAvailable)('a group send through an address that went away', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-readdr-'));
    ip(['netns', 'add', ns]);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']);
    ip(['-n', ns, 'link', 'set', 'd1', 'up']);
    ip(['-n', ns, 'link', 'set', 'd0', 'multicast', 'on', 'up']);
    ip(['-n', ns, 'addr', 'add', '10.77.0.1/24', 'dev', 'd0']);
    ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'd0']);
  });
  afterAll(() => {
    deleteNamespace(ns);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('makes the transport re-read its interfaces and advertise the new address long before the periodic check', () => {
    const file = join(dir, 'readdress.mjs');
    writeFileSync(file, script(join(dist, 'net/udp-transport.js'), join(dist, 'net/interfaces.js'), join(dist, 'core/effects.js')));
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, file], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { before: string; after: string; changed?: { addr: string; ms: number }; removedAt: number; sendErrors: number };
    expect(out.before).toBe('10.77.0.1:47480');
    expect(out.after).toBe('10.78.0.2:47480');
    expect(out.changed?.addr).toBe('10.78.0.2:47480');
    // Failed sends are what prompted the check: with none, the address would wait a minute.
    expect(out.sendErrors).toBeGreaterThan(0);
    expect(out.changed!.ms - out.removedAt).toBeLessThan(5_000);
  });
});
