// YAML device configs: what is read, and that every mistake is reported with the file, the line
// that wrote it, the field path and what was expected.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../runtime/config/config.js';
import { MAX_ALIAS_USES, MAX_CONFIG_BYTES, parentPath, parseConfigSource } from '../../runtime/config/yaml-source.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-yaml-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string, name = 'murmur.yaml'): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** The ConfigError message loading `text` gives. */
function errorOf(text: string): string {
  try {
    loadConfig(file(text));
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message.replace(dir, 'DIR');
  }
  throw new Error('expected a ConfigError');
}

const device = `# a Pi in the shed
node:
  name: shed-01
  profile: wifi
network:
  interfaces: [wlan0]
  seeds:
    - 10.0.0.2
    - "[fd00::2]:7478"
hal:
  leds:
    - name: status
    - { name: panel, pin: 17 }
  sensors:
    - name: room
      type: iio
      device: bme280
      schedule: "0 * * * * *"
      deadband: { temperature: 0.2 }
`;

describe('YAML device config', () => {
  it('reads a device file: comments, block and flow style, quoted values', () => {
    const c = loadConfig(file(device));
    expect(c.node).toMatchObject({ name: 'shed-01', profile: 'wifi' });
    expect(c.network.interfaces).toEqual(['wlan0']);
    expect(c.network.seeds).toEqual(['10.0.0.2', '[fd00::2]:7478']);
    expect(c.hal.leds).toEqual([
      { name: 'status', backend: 'auto' },
      { name: 'panel', backend: 'auto', pin: 17 },
    ]);
    expect(c.hal.sensors).toEqual([{ name: 'room', type: 'iio', device: 'bme280', schedule: '0 * * * * *', deadband: { temperature: 0.2 }, maxIntervalS: 300 }]);
  });

  it('an empty file, one of comments only, and empty sections are the defaults', () => {
    const d = loadConfig(undefined);
    expect(loadConfig(file(''))).toEqual(d);
    expect(loadConfig(file('# nothing set here yet\n'))).toEqual(d);
    // Everything under `network:` commented out reads as null: the same as leaving it out.
    expect(loadConfig(file('network:\n  # port: 9000\nhal:\n'))).toEqual(d);
  });

  it('YAML 1.2 plain scalars: yes/no/on are strings, not booleans (no "Norway problem")', () => {
    expect(errorOf('network:\n  multicast: no\n')).toBe('config DIR/murmur.yaml:2: network.multicast: expected true or false, got "no"');
    expect(loadConfig(file('network:\n  multicast: false\n')).network.multicast).toBe(false);
  });

  it.each([
    // [what, file text, the whole message]
    ['a wrong type, on its own line', 'node:\n  name: pi\nnetwork:\n  port: "7478"\n', 'config DIR/murmur.yaml:4: network.port: expected an integer 0-65535, got "7478"'],
    ['an unknown field, with a suggestion', 'network:\n\n  famlies: [ipv4]\n', 'config DIR/murmur.yaml:3: network.famlies: unknown field; did you mean families? (expected one of: families, interfaces, multicast, group4, group6, groupPort, port, ttl, seeds, interfaceCheckMs)'],
    ['an unknown section', 'nodes:\n  name: pi\n', 'config DIR/murmur.yaml:1: nodes: unknown field; did you mean node? (expected one of: node, network, security, hal, api, http, queries, metrics, hooks, mqtt, log)'],
    ['a list item', device.replace('10.0.0.2', 'shed 02'), 'config DIR/murmur.yaml:8: network.seeds[0]: "shed 02" is not an address or a host name, e.g. 192.168.1.20:7478, [fd00::20]:7478 or pi-3.local:7478'],
    ['a field of a list item', device.replace('pin: 17', 'pin: 600'), 'config DIR/murmur.yaml:13: hal.leds[1].pin: expected a GPIO line number on the pin controller (BCM numbering, 0-511), got 600'],
    ['a nested map value', device.replace('temperature: 0.2', 'temperature: -1'), 'config DIR/murmur.yaml:19: hal.sensors[0].deadband.temperature: expected a number >= 0, got -1'],
    ['a section that is not a map', 'node:\n  name: pi\nnetwork: [eth0]\n', 'config DIR/murmur.yaml:3: network: expected a map of fields (families, interfaces, multicast, group4, group6, groupPort, port, ttl, seeds, interfaceCheckMs), got a list ["eth0"]'],
    ['a duplicate key', 'network:\n  port: 9000\n  ttl: 2\n  port: 9001\n', 'config DIR/murmur.yaml:4: network.port: duplicate key (first on line 2); YAML allows each key once per map'],
    ['a duplicate key inside a list item', 'hal:\n  leds:\n    - name: a\n      pin: 1\n      pin: 2\n', 'config DIR/murmur.yaml:5: hal.leds[0].pin: duplicate key (first on line 4); YAML allows each key once per map'],
    ['an unquoted schedule that YAML reads as an alias', 'hal:\n  sampling:\n    schedule: */5\n', 'config DIR/murmur.yaml:3: hal.sampling.schedule: expected a value, got the alias */5 with no anchor &/5 before it (quote a value that starts with "*", e.g. "*/30 * * * * *")'],
    ['a tag that is not a plain value', 'node:\n  name: !!binary cGkK\n', 'config DIR/murmur.yaml:2: node.name: expected a plain value, got the tag !!binary'],
    ['an infinity', 'hal:\n  sensors:\n    - { name: a, type: load, deadband: .inf }\n', 'config DIR/murmur.yaml:3: hal.sensors[0].deadband: expected a finite number, got .inf'],
    ['a merge key (YAML 1.1), which is just an unknown field', 'network:\n  <<: { port: 9000 }\n', 'config DIR/murmur.yaml:2: network.<<: unknown field (expected one of: families, interfaces, multicast, group4, group6, groupPort, port, ttl, seeds, interfaceCheckMs)'],
  ])('names the file, line and field path: %s', (_what, text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it('a syntax error gives the line and column the parser stopped at', () => {
    expect(errorOf('node:\n  name: pi\n   profile: lan\n')).toMatch(/^config DIR\/murmur\.yaml:2:9: not valid YAML: /);
    expect(errorOf('node:\n\tname: pi\n')).toMatch(/^config DIR\/murmur\.yaml:2:1: not valid YAML: Tabs are not allowed as indentation/);
    expect(errorOf('node: {name: pi\n')).toMatch(/^config DIR\/murmur\.yaml:2:1: not valid YAML: /);
    // Two documents in one file: the second would be silently ignored by a lenient reader.
    expect(errorOf('node:\n  name: a\n---\nnode:\n  name: b\n')).toMatch(/^config DIR\/murmur\.yaml:3:1: not valid YAML: Source contains multiple documents/);
    // A whole unquoted cron schedule: the parser stops at the second "*".
    expect(errorOf('hal:\n  sampling:\n    schedule: */30 * * * * *\n')).toMatch(/^config DIR\/murmur\.yaml:3:20: not valid YAML: .*\(quote a value that starts with "\*", e\.g\. schedule: "\*\/30 \* \* \* \* \*"\)$/);
    // A list as a key.
    expect(errorOf('? [a, b]\n: 1\n')).toMatch(/^config DIR\/murmur\.yaml:1:3: not valid YAML: /);
  });

  it('an unquoted bracketed IPv6 seed gets a hint to quote it', () => {
    expect(errorOf('network:\n  seeds:\n    - [fd00::5]:7478\n')).toMatch(/^config DIR\/murmur\.yaml:3:\d+: not valid YAML: .*\(quote a bracketed IPv6 address: "\[fd00::5\]:7478"\)$/);
    // Without a port it parses as a list in the list: the type error says the same.
    expect(errorOf('network:\n  seeds:\n    - [fd00::5]\n')).toBe('config DIR/murmur.yaml:2: network.seeds: expected a list of addresses or host names as strings (quote bracketed IPv6: "[fd00::5]:7478"), got [["fd00::5"]]');
  });

  it('anchors and aliases work for reuse, and an expansion bomb is refused', () => {
    const reuse = 'hal:\n  sensors:\n    - &probe { name: a, type: ds18b20, deadband: 0.2 }\n    - { name: b, type: load }\n';
    expect(loadConfig(file(reuse)).hal.sensors).toHaveLength(2);
    const aliases = (n: number): string => `x: &x [1, 2]\ny: [${Array.from({ length: n }, () => '*x').join(', ')}]\n`;
    expect(() => parseConfigSource('ok.yaml', aliases(MAX_ALIAS_USES))).not.toThrow();
    expect(() => parseConfigSource('many.yaml', aliases(MAX_ALIAS_USES + 1))).toThrow(`config many.yaml: not a usable config: aliases (*name) expand to more than ${MAX_ALIAS_USES} copies`);
    // The classic "billion laughs": nine levels of nine aliases each.
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array.from({ length: 9 }, () => `*${prev}`).join(', ')}]`);
    }
    expect(() => loadConfig(file(levels.join('\n')))).toThrow(/not a usable config: aliases \(\*name\) expand to more than 15 copies/);
  });

  it(`a file over ${MAX_CONFIG_BYTES / 1024} KB is not parsed`, () => {
    const big = `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`;
    expect(errorOf(big)).toBe(`config DIR/murmur.yaml: larger than ${MAX_CONFIG_BYTES / 1024} KB, which no device config needs: is it the right file?`);
    // A device that never ends is refused after the limit, not read forever.
    expect(() => loadConfig('/dev/zero')).toThrow(`config /dev/zero: larger than ${MAX_CONFIG_BYTES / 1024} KB`);
    // Just under the limit is fine.
    expect(loadConfig(file(`# ${'x'.repeat(MAX_CONFIG_BYTES - 10)}\n`))).toEqual(loadConfig(undefined));
  });

  it('a missing file or a directory names the path', () => {
    expect(() => loadConfig(join(dir, 'nope.yaml'))).toThrow(/^config .*nope\.yaml: cannot read: ENOENT/);
    expect(() => loadConfig(dir)).toThrow(/^config .*: cannot read: EISDIR/);
  });

  it('lineOf falls back to the enclosing field for values inside an alias', () => {
    const src = parseConfigSource('f.yaml', 'a: &a { b: 1 }\nc:\n  d: *a\n');
    expect(src.lineOf('a.b')).toBe(1);
    expect(src.lineOf('c.d.b')).toBe(3);
    expect(src.lineOf('e')).toBeUndefined();
    expect(parentPath('hal.sensors[2].deadband.t')).toBe('hal.sensors[2].deadband');
    expect(parentPath('hal.sensors[2]')).toBe('hal.sensors');
    expect(parentPath('hal')).toBe('');
  });
});

describe('hostile YAML', () => {
  it('a file of many aliases is refused by counting them, before resolving any', () => {
    const text = `x: &a 1\ny: [${Array.from({ length: 40_000 }, () => '*a').join(', ')}]\n`;
    // Refused by the count, which comes before any resolving (the check this replaces resolved
    // every alias against the whole document: about two minutes for this file).
    expect(() => parseConfigSource('aliases.yaml', text)).toThrow(/more than 256 aliases in one file/);
  });

  it('a fleet key given where a config file or path was expected is never echoed', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const keyFile = file(`${key}\n`, 'fleet.key');
    const device = file(`extends: ${keyFile}\n`, 'device.yaml');
    let message = '';
    try {
      loadConfig(device);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/fleet\.key/);
    expect(message).not.toContain(key);
    let listed = '';
    try {
      loadConfig(file(`security:\n  fleetKeyFile: [${key}]\n`, 'list.yaml'));
    } catch (e) {
      listed = (e as Error).message;
    }
    expect(listed).toMatch(/security\.fleetKeyFile/);
    expect(listed).not.toContain(key);
  });
});
