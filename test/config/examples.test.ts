// Every example config in device-config/examples/ validates (so the examples never rot), and says
// what its name promises.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, loadLayeredConfig } from '../../runtime/config/config.js';

const examples = join(import.meta.dirname, '..', '..', 'device-config', 'examples');
const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));

describe('example configs', () => {
  it('are all there', () => {
    expect(files.sort()).toEqual(['fleet.yaml', 'pi-zero-2w-ds18b20.yaml', 'pi4-ethernet.yaml', 'pi5-wifi.yaml']);
  });

  it.each(files)('%s validates', (f) => {
    expect(() => loadConfig(join(examples, f))).not.toThrow();
  });

  it.each(files.filter((f) => f !== 'fleet.yaml'))('%s extends fleet.yaml and takes the fleet-wide settings from it', (f) => {
    const { config: c, files: used } = loadLayeredConfig(join(examples, f));
    expect(used).toEqual([join(examples, 'fleet.yaml'), join(examples, f)]);
    expect(c.node.fleet).toBe('greenhouse');
    expect(c.node.name).toMatch(/^[a-z0-9-]+$/);
    expect(c.security.fleetKeyFile).toBe('/etc/murmur/fleet.key');
    expect(c.network.seeds.length).toBeGreaterThan(0);
    expect(c.hal.sampling).toMatchObject({ schedule: '0 * * * * *', maxIntervalS: 600, spreadS: 20 });
  });

  it('the Pi 4 is on Ethernet with the lan profile', () => {
    const c = loadConfig(join(examples, 'pi4-ethernet.yaml'));
    expect(c.node.profile).toBe('lan');
    expect(c.network.interfaces).toEqual(['eth0']);
  });

  it('the Pi 5 is on Wi-Fi with the wifi profile', () => {
    const c = loadConfig(join(examples, 'pi5-wifi.yaml'));
    expect(c.node.profile).toBe('wifi');
    expect(c.network.interfaces).toEqual(['wlan0']);
  });

  it('the Pi Zero 2 W reads a DS18B20 and shows status on its board LED', () => {
    const c = loadConfig(join(examples, 'pi-zero-2w-ds18b20.yaml'));
    expect(c.node.profile).toBe('wifi');
    expect(c.network.interfaces).toEqual(['wlan0']);
    expect(c.hal.leds).toEqual([{ name: 'status', backend: 'sysfs-led', led: 'ACT' }]);
    expect(c.hal.sensors).toContainEqual(expect.objectContaining({ name: 'tank', type: 'ds18b20', device: '28-0316a2795eff', schedule: '*/15 * * * * *' }));
  });
});
