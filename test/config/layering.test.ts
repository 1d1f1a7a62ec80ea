// The fleet file under the device file: precedence, how maps and lists combine, and errors that
// name the file (and line) that wrote the bad value, whichever layer it is in.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, loadLayeredConfig } from '../../runtime/config/config.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-layers-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const fleet = `node:
  fleet: greenhouse
network:
  port: 7600
  seeds: [10.0.0.2, 10.0.0.3]
hal:
  sampling:
    schedule: "0 * * * * *"
    maxIntervalS: 600
  sensors:
    - { name: cpu, type: cpu-temperature }
    - { name: load, type: load }
`;

describe('fleet file + device file', () => {
  it('the device file overrides the fleet file, which overrides the defaults; maps merge, lists replace', () => {
    file('fleet.yaml', fleet);
    const device = file('murmur.yaml', 'extends: fleet.yaml\nnode:\n  name: pi-07\nnetwork:\n  seeds: [10.0.0.9]\nhal:\n  sampling:\n    maxIntervalS: 120\n');
    const { config: c, files } = loadLayeredConfig(device);
    expect(files).toEqual([join(dir, 'fleet.yaml'), device]);
    // node: the device's name and the fleet's fleet name, merged.
    expect(c.node).toMatchObject({ name: 'pi-07', fleet: 'greenhouse', profile: 'lan' });
    // A list replaces the one below it whole.
    expect(c.network.seeds).toEqual(['10.0.0.9']);
    // Untouched by the device: the fleet's value; untouched by both: the default.
    expect(c.network.port).toBe(7600);
    expect(c.network.groupPort).toBe(7477);
    // A map two levels down merges field by field.
    expect(c.hal.sampling).toEqual({ schedule: '0 * * * * *', maxIntervalS: 120, spreadS: 10, timeoutS: 10 });
    // The fleet's sensor list is kept when the device does not give one, with the merged sampling filled in.
    expect(c.hal.sensors).toEqual([
      { name: 'cpu', type: 'cpu-temperature', schedule: '0 * * * * *', deadband: {}, maxIntervalS: 120 },
      { name: 'load', type: 'load', schedule: '0 * * * * *', deadband: {}, maxIntervalS: 120 },
    ]);
  });

  it('command-line options win over both files', () => {
    file('fleet.yaml', fleet);
    const device = file('murmur.yaml', 'extends: fleet.yaml\nnetwork:\n  port: 7700\n');
    const c = loadConfig(device, { 'network.port': 7800, 'network.seeds': ['10.0.0.1'] });
    expect(c.network.port).toBe(7800);
    expect(c.network.seeds).toEqual(['10.0.0.1']);
  });

  it('extends is relative to the device file, wherever the command runs', () => {
    mkdirSync(join(dir, 'etc'));
    file('etc/fleet.yaml', fleet);
    const device = file('etc/murmur.yaml', 'extends: fleet.yaml\n');
    expect(loadConfig(device).node.fleet).toBe('greenhouse');
    // An absolute path works too.
    const other = file('other.yaml', `extends: ${join(dir, 'etc', 'fleet.yaml')}\n`);
    expect(loadConfig(other).network.port).toBe(7600);
  });

  it('--fleet-config gives the fleet file, and wins over the device file\'s extends', () => {
    file('fleet.yaml', fleet);
    const fleet2 = file('fleet2.yaml', 'node:\n  fleet: orchard\n');
    const device = file('murmur.yaml', 'extends: fleet.yaml\nnode:\n  name: pi-07\n');
    expect(loadConfig(device, {}, { fleetFile: fleet2 }).node).toMatchObject({ name: 'pi-07', fleet: 'orchard' });
    const plain = file('plain.yaml', 'node:\n  name: pi-08\n');
    expect(loadConfig(plain, {}, { fleetFile: fleet2 }).node).toMatchObject({ name: 'pi-08', fleet: 'orchard' });
    // A fleet file alone, with no device file.
    expect(loadLayeredConfig(undefined, {}, { fleetFile: fleet2 })).toMatchObject({ files: [fleet2], config: { node: { fleet: 'orchard' } } });
  });

  it('a validation error names the layer that wrote the value: the fleet file, with its line', () => {
    file('fleet.yaml', fleet.replace('port: 7600', 'port: 76000'));
    const device = file('murmur.yaml', 'extends: fleet.yaml\nnode:\n  name: pi-07\n');
    expect(() => loadConfig(device)).toThrow(`config ${join(dir, 'fleet.yaml')}:4: network.port: expected an integer 0-65535, got 76000`);
  });

  it('... the device file, when it overrides the fleet value', () => {
    file('fleet.yaml', fleet);
    const device = file('murmur.yaml', 'extends: fleet.yaml\n\nnetwork:\n  seeds:\n    - 10.0.0.9\n    - pi_kitchen\n');
    expect(() => loadConfig(device)).toThrow(`config ${device}:6: network.seeds[1]: "pi_kitchen" is not an address or a host name`);
  });

  it('... a sensor in the fleet file\'s list', () => {
    file('fleet.yaml', fleet.replace('{ name: load, type: load }', '{ name: load, type: load, zone: "0" }'));
    const device = file('murmur.yaml', 'extends: fleet.yaml\n');
    expect(() => loadConfig(device)).toThrow(`config ${join(dir, 'fleet.yaml')}:12: hal.sensors[1]: sensor "load": field "zone" does not apply to type load`);
  });

  it('... the command line, when an option is bad', () => {
    const device = file('murmur.yaml', 'network:\n  port: 7700\n');
    expect(() => loadConfig(device, { 'node.profile': 'wan' })).toThrow('config command line: node.profile: expected "lan" or "wifi", got "wan"');
  });

  it('two values that collide: the one a file set is blamed, not the default', () => {
    const device = file('murmur.yaml', 'network:\n  groupPort: 7478\n');
    expect(() => loadConfig(device)).toThrow(`config ${device}:2: network.groupPort: expected a port different from network.port`);
    const both = file('both.yaml', 'network:\n  port: 9000\n  groupPort: 9000\n');
    expect(() => loadConfig(both)).toThrow(`config ${both}:2: network.port: expected a port different from network.groupPort`);
  });

  it('unknown fields are errors in the fleet file too, naming it', () => {
    file('fleet.yaml', 'network:\n  seed: [10.0.0.2]\n');
    const device = file('murmur.yaml', 'extends: fleet.yaml\n');
    expect(() => loadConfig(device)).toThrow(`config ${join(dir, 'fleet.yaml')}:2: network.seed: unknown field; did you mean seeds?`);
  });

  it('a missing fleet file names itself', () => {
    const device = file('murmur.yaml', 'extends: nowhere.yaml\n');
    expect(() => loadConfig(device)).toThrow(`config ${join(dir, 'nowhere.yaml')}: cannot read: ENOENT`);
  });

  it('what a fleet file may not say, and a bad extends', () => {
    file('fleet.yaml', 'node:\n  fleet: greenhouse\n  name: pi-01\n');
    expect(() => loadConfig(file('a.yaml', 'extends: fleet.yaml\n'))).toThrow(`config ${join(dir, 'fleet.yaml')}:3: node.name: belongs in the device file, not the fleet file`);
    file('fleet2.yaml', 'extends: fleet3.yaml\n');
    expect(() => loadConfig(file('b.yaml', 'extends: fleet2.yaml\n'))).toThrow(`config ${join(dir, 'fleet2.yaml')}:1: extends: a fleet file cannot extend another`);
    const c = file('c.yaml', 'node:\n  name: pi\nextends: [a, b]\n');
    expect(() => loadConfig(c)).toThrow(`config ${c}:3: extends: expected the path of the fleet-wide file (relative to this file), got a list ["a","b"]`);
    // extends is a top-level field only.
    const d = file('d.yaml', 'node:\n  extends: fleet.yaml\n');
    expect(() => loadConfig(d)).toThrow(`config ${d}:2: node.extends: unknown field`);
  });
});
