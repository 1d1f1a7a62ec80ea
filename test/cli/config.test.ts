// `murmur config check|show`: output and exit code, run in-process. Paths relative to the
// working directory are a property of the process, so that case runs the built binary
// (`npm run build` first: dist/runtime/cli/bin.js).

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../runtime/config/config.js';
import { run } from './recording-io.js';

const BIN = join(import.meta.dirname, '../../dist/runtime/cli/bin.js');
const EXAMPLES = join(import.meta.dirname, '../../device-config/examples');

async function murmur(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await run(args);
  return { status: r.code, stdout: r.out, stderr: r.err };
}

/** The built binary, run in `dir`. */
function binary(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-config-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('murmur config check', () => {
  it('a valid file: "ok: FILE" and exit 0, naming the fleet file it extends', async () => {
    const f = file('murmur.yaml', 'node:\n  name: pi-07\n');
    expect(await murmur('config', 'check', f)).toMatchObject({ status: 0, stdout: `ok: ${f}\n`, stderr: '' });
    const ex = join(EXAMPLES, 'pi5-wifi.yaml');
    // The example fleet file names /etc/murmur/fleet.key, as a device has it.
    if (existsSync('/etc/murmur/fleet.key')) {
      expect(await murmur('config', 'check', ex)).toMatchObject({ status: 0, stdout: `ok: ${ex} (with fleet file ${join(EXAMPLES, 'fleet.yaml')})\n` });
    } else {
      expect(await murmur('config', 'check', ex)).toMatchObject({
        status: 78,
        stderr: `config ${join(EXAMPLES, 'fleet.yaml')}:27: security.fleetKeyFile: cannot read /etc/murmur/fleet.key: no such file (a relative path is relative to the file that names it)\n`,
      });
    }
  });

  it('a key file path is relative to the file that names it, whatever the working directory; one that is not there is an error', async () => {
    mkdirSync(join(dir, 'etc'));
    file('etc/fleet.yaml', 'security:\n  fleetKeyFile: fleet.key\n');
    const device = file('etc/murmur.yaml', 'extends: fleet.yaml\nnode:\n  stateDir: state\n');
    const missing = await murmur('config', 'check', device);
    expect(missing).toMatchObject({ status: 78, stdout: '' });
    expect(missing.stderr).toBe(`config ${join(dir, 'etc/fleet.yaml')}:2: security.fleetKeyFile: cannot read ${join(dir, 'etc/fleet.key')}: no such file (a relative path is relative to the file that names it)\n`);
    file('etc/fleet.key', `${randomBytes(32).toString('base64')}\n`);
    expect(await murmur('config', 'check', device)).toMatchObject({ status: 0 });
    // From another directory, the binary resolves the same paths.
    const shown = binary('config', 'show', '--json', '--config', 'etc/murmur.yaml');
    expect(shown.status).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ node: { stateDir: join(dir, 'etc/state') }, security: { fleetKeyFile: join(dir, 'etc/fleet.key') } });
    expect(loadConfig(device, { 'security.fleetKeyFile': 'here.key' }).security.fleetKeyFile).toBe('here.key');
  });

  it('reports every error of every file in one run, one a line', async () => {
    const fleet = file('fleet.yaml', 'network:\n  ttl: 0\n  sedds: []\n');
    const device = file('murmur.yaml', [
      'extends: fleet.yaml',
      'node:',
      '  name: "bad name"',
      'network:',
      '  multicast: yes',
      '  port: 70000',
      'hal:',
      '  sensors:',
      '    - {name: a, type: nosuch}',
      '    - {name: b, type: load, deadband: -1}',
      'log:',
      '  level: loud',
      '',
    ].join('\n'));
    const r = await murmur('config', 'check', device);
    expect(r.status).toBe(78);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^config ${fleet}:3: network\\.sedds: unknown field; did you mean seeds\\?`)),
      `config ${device}:3: node.name: expected up to 64 letters, digits, ".", "_" or "-", got "bad name"`,
      `config ${device}:5: network.multicast: expected true or false, got "yes"`,
      `config ${device}:6: network.port: expected an integer 0-65535, got 70000`,
      `config ${fleet}:2: network.ttl: expected an integer 1-255, got 0`,
      expect.stringMatching(new RegExp(`^config ${device}:9: hal\\.sensors\\[0\\]\\.type: expected one of `)),
      `config ${device}:10: hal.sensors[1].deadband: expected a number >= 0, got -1`,
      `config ${device}:12: log.level: expected debug, info, warn or error, got "loud"`,
    ]);
  });

  it('an invalid file: the error with file:line: field.path on stderr, exit 78, no stack trace', async () => {
    const f = file('murmur.yaml', 'node:\n  name: pi-07\nnetwork:\n  multicast: yes\n');
    const r = await murmur('config', 'check', f);
    expect(r.status).toBe(78);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`config ${f}:4: network.multicast: expected true or false, got "yes"\n`);
  });

  it('unknown keys, duplicate keys and syntax errors are all exit 78', async () => {
    const typo = file('typo.yaml', 'hal:\n  sampling:\n    shedule: "0 * * * * *"\n');
    expect(await murmur('config', 'check', typo)).toMatchObject({ status: 78, stderr: expect.stringContaining(`config ${typo}:3: hal.sampling.shedule: unknown field; did you mean schedule?`) });
    const dup = file('dup.yaml', 'node:\n  name: a\n  name: b\n');
    expect(await murmur('config', 'check', dup)).toMatchObject({ status: 78, stderr: expect.stringContaining(`config ${dup}:3: node.name: duplicate key (first on line 2)`) });
    const syntax = file('syntax.yaml', 'node: {name: a\n');
    expect(await murmur('config', 'check', syntax)).toMatchObject({ status: 78, stderr: expect.stringMatching(/^config .*syntax\.yaml:2:1: not valid YAML: /) });
    expect(await murmur('config', 'check', join(dir, 'missing.yaml'))).toMatchObject({ status: 78, stderr: expect.stringContaining('missing.yaml: cannot read: ENOENT') });
  });

  it('--fleet-config checks a device file over a given fleet file, and names the fleet file in errors', async () => {
    const fleet = file('fleet.yaml', 'node:\n  fleet: orchard\nnetwork:\n  ttl: 0\n');
    const device = file('murmur.yaml', 'node:\n  name: pi-07\n');
    expect(await murmur('config', 'check', device, '--fleet-config', fleet)).toMatchObject({ status: 78, stderr: `config ${fleet}:4: network.ttl: expected an integer 1-255, got 0\n` });
    // Relative to the working directory, like any command-line path.
    file('good-fleet.yaml', 'node:\n  fleet: orchard\n');
    expect(binary('config', 'check', '--config', 'murmur.yaml', '--fleet-config', 'good-fleet.yaml')).toMatchObject({ status: 0, stdout: 'ok: murmur.yaml (with fleet file good-fleet.yaml)\n' });
  });

  it('usage errors are exit 2', async () => {
    expect(await murmur('config', 'check', '--prot')).toMatchObject({ status: 2, stderr: expect.stringContaining('murmur config check: unknown option "--prot"') });
    expect(await murmur('config', 'check', 'a.yaml', 'b.yaml')).toMatchObject({ status: 2, stderr: expect.stringContaining('one device config at a time, got a.yaml and b.yaml') });
    expect(await murmur('config', 'lint')).toMatchObject({ status: 2, stderr: expect.stringContaining('murmur config: unknown subcommand "lint"') });
    expect(await murmur('config', '--help')).toMatchObject({ status: 0, stdout: expect.stringContaining('usage: murmur config check [FILE] [--fleet-config FILE]') });
  });

  it('is listed in murmur help', async () => {
    expect((await murmur('help')).stdout).toMatch(/^ {2}config +check a device config file, or show the effective config$/m);
  });
});

describe('murmur config show', () => {
  it('prints the effective config as YAML: every layer applied, every field present, and it reads back as the same config', async () => {
    const device = join(EXAMPLES, 'pi-zero-2w-ds18b20.yaml');
    const r = await murmur('config', 'show', '--config', device);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`# effective config: defaults < ${join(EXAMPLES, 'fleet.yaml')} < ${device}`);
    const shown = parse(r.stdout) as { node: Record<string, unknown>; api: Record<string, unknown>; network: Record<string, unknown> };
    expect(shown.node).toEqual({ name: 'tank-zero-01', fleet: 'greenhouse', stateDir: '/var/lib/murmur', profile: 'wifi' });
    // Unset optional fields are there, as null.
    expect(shown.api).toEqual({ socket: 'murmur.sock', group: 'murmur-admin', tcp: null, tokenFile: 'api-token' });
    // Round trip: what show prints is a valid config giving the same result.
    const copy = file('copy.yaml', r.stdout);
    // Valid, but for the example's key file, which only a device has.
    const check = await murmur('config', 'check', copy);
    if (!existsSync('/etc/murmur/fleet.key')) expect(check).toMatchObject({ status: 78, stderr: expect.stringMatching(/^config .*copy\.yaml:\d+: security\.fleetKeyFile: cannot read \/etc\/murmur\/fleet\.key: no such file/) });
    else expect(check).toMatchObject({ status: 0 });
    expect(loadConfig(copy)).toEqual(loadConfig(device));
  });

  it('--json prints the same as JSON', async () => {
    const f = file('murmur.yaml', 'node:\n  name: pi-07\napi:\n  tcp: "[0:0:0:0:0:0:0:1]:7479"\n');
    const r = await murmur('config', 'show', '--config', f, '--json');
    expect(r.status).toBe(0);
    const shown = JSON.parse(r.stdout) as { node: { name: string }; api: unknown; metrics: unknown };
    expect(shown.node.name).toBe('pi-07');
    expect(shown.api).toEqual({ socket: 'murmur.sock', group: null, tcp: '[::1]:7479', tokenFile: 'api-token' });
    expect(shown.metrics).toEqual({ enabled: false, listen: null, tokenFile: 'metrics-token', peerLabels: false, maxPeers: 32, processMetrics: true });
  });

  it('with no config file: the defaults', async () => {
    const r = await murmur('config', 'show', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ node: { name: null, stateDir: '/var/lib/murmur' }, network: { port: 7478, groupPort: 7477 } });
  });

  it('shows key file paths and the admin public key, never the fleet key inside the file', async () => {
    const key = randomBytes(32).toString('base64');
    const keyFile = file('fleet.key', `${key}\n`);
    const admin = randomBytes(32).toString('base64');
    const f = file('murmur.yaml', `security:\n  fleetKeyFile: ${keyFile}\n  adminPublicKey: ${admin}\n`);
    for (const args of [[], ['--json']]) {
      const r = await murmur('config', 'show', '--config', f, ...args);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(keyFile);
      expect(r.stdout).toContain(admin);
      expect(r.stdout).not.toContain(key);
    }
  });

  it('a key pasted into fleetKeyFile: exit 78 and the key appears nowhere', async () => {
    const key = randomBytes(32).toString('base64');
    const f = file('murmur.yaml', `security:\n  fleetKeyFile: "${key}"\n`);
    for (const sub of [['show', '--config', f], ['check', f]]) {
      const r = await murmur('config', ...sub);
      expect(r.status).toBe(78);
      expect(r.stderr).toContain(`config ${f}:2: security.fleetKeyFile: expected the path of a file holding the fleet key, got what looks like the key itself (not shown)`);
      expect(r.stdout + r.stderr).not.toContain(key);
    }
  });

  it('an invalid config: exit 78, nothing on stdout', async () => {
    const f = file('murmur.yaml', 'api:\n  tcp: 0.0.0.0:7479\n');
    const r = await murmur('config', 'show', '--config', f);
    expect(r).toMatchObject({ status: 78, stdout: '' });
    expect(r.stderr).toContain(`config ${f}:2: api.tcp: expected a loopback address`);
  });

  it('takes the device config only as --config', async () => {
    expect(await murmur('config', 'show', 'murmur.yaml')).toMatchObject({ status: 2, stderr: expect.stringContaining('unexpected argument "murmur.yaml" (the device config is --config FILE)') });
  });
});
