import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../runtime/config/config.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const f = join(dir, 'murmur.json');
  writeFileSync(f, text);
  return f;
}

describe('device config', () => {
  it('no file and an empty file both give the embedded defaults', () => {
    const d = loadConfig(undefined);
    expect(d.network).toMatchObject({ families: ['ipv4', 'ipv6'], multicast: true, group4: '239.255.77.77', group6: 'ff02::77:77', ttl: 1 });
    expect(loadConfig(file(''))).toEqual(d);
    expect(loadConfig(file('{}'))).toEqual(d);
  });

  it('a file overrides only what it names, and command-line overrides win over the file', () => {
    const c = loadConfig(file('{"network": {"port": 9000, "seeds": ["10.0.0.1"]}}'), { 'network.port': 9100 });
    expect(c.network.port).toBe(9100);
    expect(c.network.seeds).toEqual(['10.0.0.1']);
    expect(c.network.groupPort).toBe(7477);
  });

  it.each([
    ['{"network": {"famlies": ["ipv4"]}}', /murmur\.json: network\.famlies: unknown field \(expected one of: families, interfaces/],
    ['{"network": {"port": "7478"}}', /murmur\.json: network\.port: expected an integer 0-65535, got "7478"/],
    ['{"network": {"families": ["ipx"]}}', /network\.families: expected a non-empty list of "ipv4" and "ipv6"/],
    ['{"network": {"group4": "10.0.0.1"}}', /network\.group4: expected an IPv4 multicast address/],
    ['{"network": {"seeds": ["pi-kitchen"]}}', /network\.seeds\[0\]: "pi-kitchen" is not an IPv4 address/],
    ['{"network": {"port": 7477}}', /network\.port: expected a port different from network\.groupPort/],
    ['{"node": {"profile": "wan"}}', /node\.profile: expected "lan" or "wifi"/],
    ['{"node": {"name": "has space"}}', /node\.name: expected up to 64 letters/],
    ['{"network": 5}', /network: expected an object/],
    ['{"log": {"level": "loud"}}', /log\.level: expected debug, info, warn or error/],
  ])('rejects %s with the file, the field path and what was expected', (text, msg) => {
    expect(() => loadConfig(file(text))).toThrow(msg);
  });

  it('invalid JSON and a missing file name the file', () => {
    expect(() => loadConfig(file('{"network": '))).toThrow(/murmur\.json: not valid JSON/);
    expect(() => loadConfig(join(dir, 'nope.json'))).toThrow(/nope\.json: cannot read/);
  });
});
