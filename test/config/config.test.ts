import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../runtime/config/config.js';

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
    ['{"network": {"famlies": ["ipv4"]}}', /murmur\.json:1: network\.famlies: unknown field; did you mean families\? \(expected one of: families, interfaces/],
    ['{"network": {"port": "7478"}}', /murmur\.json:1: network\.port: expected an integer 0-65535, got "7478"/],
    ['{"network": {"families": ["ipx"]}}', /network\.families: expected a non-empty list of "ipv4" and "ipv6"/],
    ['{"network": {"group4": "10.0.0.1"}}', /network\.group4: expected an IPv4 multicast address/],
    ['{"network": {"seeds": ["pi_kitchen"]}}', /network\.seeds\[0\]: "pi_kitchen" is not an address or a host name/],
    ['{"network": {"seeds": ["10.0.0"]}}', /network\.seeds\[0\]: "10\.0\.0" is not an address or a host name/],
    ['{"network": {"seeds": ["pi-3.local:99999"]}}', /network\.seeds\[0\]: port in "pi-3\.local:99999" must be 1-65535/],
    ['{"network": {"port": 7477}}', /network\.port: expected a port different from network\.groupPort/],
    ['{"node": {"profile": "wan"}}', /node\.profile: expected "lan" or "wifi"/],
    ['{"node": {"name": "has space"}}', /node\.name: expected up to 64 letters/],
    ['{"network": 5}', /network: expected a map of fields \(families, interfaces, .*\), got 5/],
    ['{"node": {"toString": 1}}', /node\.toString: unknown field/],
    ['[1, 2]', /murmur\.json: top level: expected a map of fields \(node, network, security, hal, api, http, queries, metrics, hooks, mqtt, log\), got a list \[1,2\]/],
    ['{"log": {"level": "loud"}}', /log\.level: expected debug, info, warn or error/],
  ])('rejects %s with the file, the field path and what was expected', (text, msg) => {
    expect(() => loadConfig(file(text))).toThrow(msg);
  });

  it('JSON is read as YAML 1.2: a JSON config keeps working, and its errors carry lines too', () => {
    const json = JSON.stringify({ node: { name: 'pi-07', profile: 'wifi' }, network: { seeds: ['10.0.0.1:7478'], interfaces: ['wlan0'] } }, null, 2);
    const c = loadConfig(file(json));
    expect(c.node).toMatchObject({ name: 'pi-07', profile: 'wifi' });
    expect(c.network).toMatchObject({ seeds: ['10.0.0.1:7478'], interfaces: ['wlan0'] });
    // Line 8 of the pretty-printed JSON is the seed ("seeds": [ is line 7).
    expect(() => loadConfig(file(json.replace('10.0.0.1:7478', 'pi kitchen')))).toThrow(/murmur\.json:8: network\.seeds\[0\]: "pi kitchen" is not an address or a host name/);
    // Host names, .local names included, are seeds too.
    expect(loadConfig(file(json.replace('10.0.0.1:7478', 'pi-kitchen.local'))).network.seeds).toEqual(['pi-kitchen.local']);
    // JSON.parse kept the last of two equal keys; YAML refuses them.
    expect(() => loadConfig(file('{"network": {"port": 9000,\n "port": 9001}}'))).toThrow(/murmur\.json:2: network\.port: duplicate key \(first on line 1\)/);
  });

  it('invalid syntax and a missing file name the file', () => {
    expect(() => loadConfig(file('{"network": '))).toThrow(/murmur\.json:1:13: not valid YAML: /);
    expect(() => loadConfig(join(dir, 'nope.json'))).toThrow(/nope\.json: cannot read/);
  });
});

describe('hal config', () => {
  it('defaults to the board LED chosen automatically, auto-detected sensors and 30 s sampling', () => {
    const h = loadConfig(undefined).hal;
    expect(h).toMatchObject({ root: '/', simulate: 'auto', leds: [{ name: 'status', backend: 'auto' }], sensors: 'auto' });
    expect(h.sampling).toEqual({ schedule: '*/30 * * * * *', maxIntervalS: 300, spreadS: 10, timeoutS: 10 });
  });

  it('takes LEDs on header pins and sensors with their own schedule and deadbands, filling in the sampling defaults', () => {
    const c = loadConfig(
      file(
        JSON.stringify({
          hal: {
            leds: [{ name: 'status', pin: 17, activeLow: true }, { name: 'board', backend: 'sysfs-led', led: 'PWR' }],
            sensors: [
              { name: 'room', type: 'iio', device: 'bme280', schedule: '0 * * * * *', deadband: { temperature: 0.2, pressure: 0.5 } },
              { name: 'cpu', type: 'cpu-temperature', deadband: 1, maxIntervalS: 60 },
            ],
          },
        }),
      ),
    );
    expect(c.hal.leds).toEqual([
      { name: 'status', backend: 'auto', pin: 17, activeLow: true },
      { name: 'board', backend: 'sysfs-led', led: 'PWR' },
    ]);
    expect(c.hal.sensors).toEqual([
      { name: 'room', type: 'iio', device: 'bme280', schedule: '0 * * * * *', deadband: { temperature: 0.2, pressure: 0.5 }, maxIntervalS: 300 },
      { name: 'cpu', type: 'cpu-temperature', schedule: '*/30 * * * * *', deadband: { '*': 1 }, maxIntervalS: 60 },
    ]);
  });

  it.each([
    ['{"hal": {"leds": [{"pin": -1}]}}', /hal\.leds\[0\]\.pin: expected a GPIO line number/],
    ['{"hal": {"leds": [{"backend": "gpiod"}]}}', /hal\.leds\[0\]\.pin: expected a pin number for backend "gpiod"/],
    ['{"hal": {"leds": [{"backend": "neon"}]}}', /hal\.leds\[0\]\.backend: expected "auto" or one of gpiod, sysfs-gpio, sysfs-led, simulated/],
    ['{"hal": {"leds": [{"colour": "red"}]}}', /hal\.leds\[0\]\.colour: unknown field \(expected one of: name, backend, pin, chip, led, activeLow\)/],
    ['{"hal": {"leds": [{"name": "a"}, {"name": "a"}]}}', /hal\.leds\[1\]\.name: expected a name not already used by hal\.leds\[0\], got "a"/],
    ['{"hal": {"sensors": [{"name": "cpu", "type": "load", "shedule": "0 * * * * *"}]}}', /hal\.sensors\[0\]\.shedule: unknown field; did you mean schedule\?/],
    ['{"hal": {"sensors": [{"name": "x", "type": "geiger"}]}}', /hal\.sensors\[0\]\.type: expected one of cpu-temperature/],
    ['{"hal": {"sensors": [{"name": "Room 1", "type": "load"}]}}', /hal\.sensors\[0\]\.name: expected a short lower-case name/],
    ['{"hal": {"sensors": [{"name": "x", "type": "load", "schedule": "*/70 * * * *"}]}}', /hal\.sensors\[0\]\.schedule: "\*\/70 \* \* \* \*" is not a valid cron expression/],
    ['{"hal": {"sensors": [{"name": "x", "type": "load", "deadband": {"load1": -1}}]}}', /hal\.sensors\[0\]\.deadband\.load1: expected a number >= 0/],
    ['{"hal": {"sensors": "all"}}', /hal\.sensors: expected "auto" or a list of sensors/],
    ['{"hal": {"sampling": {"maxIntervalS": 1}}}', /hal\.sampling\.maxIntervalS: expected an integer 10-86400, got 1/],
    ['{"hal": {"root": "fake"}}', /hal\.root: expected an absolute path/],
    ['{"hal": {"simulate": "yes"}}', /hal\.simulate: expected "auto", true or false/],
    ['{"hal": {"sensors": [{"name": "room", "type": "iio"}]}}', /hal\.sensors\[0\]: sensor "room": type iio needs field "device"/],
    ['{"hal": {"sensors": [{"name": "cpu", "type": "load", "zone": "0"}]}}', /hal\.sensors\[0\]: sensor "cpu": field "zone" does not apply to type load/],
  ])('rejects %s naming the field', (text, msg) => {
    // A ConfigError: `murmur start` exits 78 with the message, no stack trace.
    expect(() => loadConfig(file(text))).toThrow(ConfigError);
    expect(() => loadConfig(file(text))).toThrow(msg);
  });
});
