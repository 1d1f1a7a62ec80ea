import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { selectInterfaces, SystemInterfaces, type NetInterface } from '../../runtime/net/interfaces.js';

const iface = (name: string, over: Partial<NetInterface> = {}): NetInterface => ({
  name,
  ipv4: '10.0.0.2',
  ipv6: 'fd00::2',
  loopback: false,
  up: true,
  multicast: true,
  ...over,
});

describe('selecting interfaces for the group', () => {
  it('auto takes every up, multicast-capable, non-loopback interface (eth0 and wlan0 at once)', () => {
    const all = [iface('lo', { loopback: true }), iface('eth0'), iface('wlan0'), iface('docker0', { up: false }), iface('tun0', { multicast: false })];
    expect(selectInterfaces(all, 'auto').map((i) => i.name)).toEqual(['eth0', 'wlan0']);
  });
  it('auto falls back to loopback when it is all there is (a development box, a test namespace)', () => {
    expect(selectInterfaces([iface('lo', { loopback: true })], 'auto').map((i) => i.name)).toEqual(['lo']);
  });
  it('a named list keeps only those that are usable now', () => {
    const all = [iface('eth0', { up: false }), iface('wlan0')];
    expect(selectInterfaces(all, ['eth0', 'wlan0']).map((i) => i.name)).toEqual(['wlan0']);
  });
});

describe('reading the host interfaces with an injected /sys root', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('takes up, loopback and multicast from the kernel flags file', () => {
    root = mkdtempSync(join(tmpdir(), 'murmur-sys-'));
    const names = Object.keys(networkInterfaces());
    expect(names.length).toBeGreaterThan(0);
    // Mark every interface as down except the first, which is up and multicast-capable.
    names.forEach((n, i) => {
      mkdirSync(join(root!, 'sys/class/net', n), { recursive: true });
      writeFileSync(join(root!, 'sys/class/net', n, 'flags'), i === 0 ? '0x1003\n' : '0x1002\n');
    });
    const list = new SystemInterfaces(root).list();
    expect(list.find((i) => i.name === names[0])).toMatchObject({ up: true, multicast: true, loopback: false });
    for (const n of names.slice(1)) expect(list.find((i) => i.name === n)?.up).toBe(false);
  });

  it('a missing or garbled flags file does not throw', () => {
    root = mkdtempSync(join(tmpdir(), 'murmur-sys-'));
    const names = Object.keys(networkInterfaces());
    mkdirSync(join(root, 'sys/class/net', names[0]!), { recursive: true });
    writeFileSync(join(root, 'sys/class/net', names[0]!, 'flags'), 'garbage');
    expect(() => new SystemInterfaces(root).list()).not.toThrow();
  });
});
