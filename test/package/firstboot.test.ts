import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// Flashing a fleet: `murmur provision` writes each device's files, they are copied onto a
// boot partition (a temp dir here), and the package's firstboot.sh moves them into the
// config and state directories (temp dirs too) with the modes murmur needs, leaving nothing
// on the boot partition. The node then starts from what was moved.

const REPO = join(import.meta.dirname, '../..');
const BIN = join(REPO, 'dist/runtime/cli/bin.js');
const FIRSTBOOT = join(REPO, 'scripts/package/firstboot.sh');
const ROOT_USER = process.getuid?.() === 0;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-firstboot-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const murmur = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const mode = (p: string): number => statSync(p).mode & 0o777;

/** Runs firstboot.sh with the boot partition, /etc/murmur and /var/lib/murmur under `dir`. */
function firstboot(user: string) {
  return spawnSync('sh', [FIRSTBOOT], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'], MURMUR_BOOT_DIR: join(dir, 'boot'), MURMUR_ETC_DIR: join(dir, 'etc/murmur'), MURMUR_STATE_DIR: join(dir, 'var/lib/murmur'), MURMUR_USER: user },
  });
}

function flash(device: string): void {
  mkdirSync(join(dir, 'boot'));
  cpSync(join(dir, 'fleet', device), join(dir, 'boot'), { recursive: true });
}

describe('first-boot provisioning on a fake boot partition', () => {
  it('moves murmur.yaml (0644), fleet.key (0600) and the certified state (0600 in 0700) into place and off the boot partition', () => {
    writeNames('pi-1\npi-2\n');
    expect(murmur('admin', 'init', '--out', join(dir, 'admin.key')).status).toBe(0);
    const p = murmur('provision', '--names', join(dir, 'names.txt'), '--out', join(dir, 'fleet'), '--admin-key', join(dir, 'admin.key'), '--fleet', 'greenhouse');
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    const key = readFileSync(join(dir, 'fleet/fleet.key'), 'utf8');
    const deviceKey = readFileSync(join(dir, 'fleet/pi-2/murmur-state/device-key.json'), 'utf8');
    flash('pi-2');
    // A user that exists everywhere stands in for murmur; as root the files are chowned to it.
    const user = ROOT_USER ? 'nobody' : userInfo().username;
    const r = firstboot(user);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/5 file\(s\) moved/);

    expect(readdirSync(join(dir, 'boot'))).toEqual([]);
    const etc = join(dir, 'etc/murmur');
    expect(mode(join(etc, 'murmur.yaml'))).toBe(0o644);
    expect(mode(join(etc, 'fleet.key'))).toBe(0o600);
    expect(readFileSync(join(etc, 'fleet.key'), 'utf8')).toBe(key);
    const state = join(dir, 'var/lib/murmur');
    expect(mode(state)).toBe(0o700);
    expect(readdirSync(state).sort()).toEqual(['certificate.json', 'device-key.json', 'identity.json']);
    for (const f of readdirSync(state)) expect(mode(join(state, f)), f).toBe(0o600);
    expect(readFileSync(join(state, 'device-key.json'), 'utf8')).toBe(deviceKey);
    expect(JSON.parse(readFileSync(join(state, 'identity.json'), 'utf8'))).toEqual({ id: 'pi-2' });
    if (ROOT_USER) {
      const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }));
      expect(statSync(join(etc, 'fleet.key')).uid).toBe(nobody);
      expect(statSync(join(state, 'device-key.json')).uid).toBe(nobody);
      expect(statSync(join(etc, 'murmur.yaml')).uid).toBe(0);
    }
    // The config names the installed key, /etc/murmur/fleet.key: on this machine that file is
    // not there, and the check says so and nothing else.
    const check = murmur('config', 'check', join(etc, 'murmur.yaml'));
    if (existsSync('/etc/murmur/fleet.key')) expect(check.stdout).toMatch(/^ok: /);
    else expect(check.stderr.trim()).toMatch(/^config \S+murmur\.yaml:\d+: security\.fleetKeyFile: cannot read \/etc\/murmur\/fleet\.key: no such file/);
    const shown = murmur('admin', 'show-key', '--state-dir', state).stdout;
    expect(shown).toMatch(/^id +pi-2$/m);
    expect(shown).toMatch(/^certificate +for "pi-2"$/m);
    const config = readFileSync(join(etc, 'murmur.yaml'), 'utf8');
    expect(config).toMatch(/name: pi-2/);
    expect(config).toMatch(/fleet: greenhouse/);
    expect(config).toMatch(/fleetKeyFile: \/etc\/murmur\/fleet\.key/);
    expect(config).toMatch(/adminPublicKey: /);

    // Every later boot finds nothing to move, and changes nothing.
    const again = firstboot(user);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/0 file\(s\) moved/);
    expect(readFileSync(join(etc, 'fleet.key'), 'utf8')).toBe(key);
  });

  it('without an admin key there is no state to move, and the same fleet key goes to every device', () => {
    writeNames('a\nb\n');
    expect(murmur('provision', '--names', join(dir, 'names.txt'), '--out', join(dir, 'fleet')).status).toBe(0);
    expect(readFileSync(join(dir, 'fleet/a/fleet.key'), 'utf8')).toBe(readFileSync(join(dir, 'fleet/b/fleet.key'), 'utf8'));
    expect(existsSync(join(dir, 'fleet/a/murmur-state'))).toBe(false);
    flash('a');
    const r = firstboot(userInfo().username);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/2 file\(s\) moved/);
    expect(existsSync(join(dir, 'var/lib/murmur'))).toBe(false);
    expect(readdirSync(join(dir, 'boot'))).toEqual([]);
  });

  it('provision reports every bad name at once, and refuses to overwrite devices it already wrote', () => {
    writeNames('ok-1\nnot ok\nok-1\n');
    const bad = murmur('provision', '--names', join(dir, 'names.txt'), '--out', join(dir, 'fleet'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/names\.txt:2: expected a device name .*got "not ok"/);
    expect(bad.stderr).toMatch(/names\.txt:3: "ok-1" is already on line 1/);
    expect(existsSync(join(dir, 'fleet'))).toBe(false);

    writeNames('ok-1\n');
    expect(murmur('provision', '--names', join(dir, 'names.txt'), '--out', join(dir, 'fleet')).status).toBe(0);
    const again = murmur('provision', '--names', join(dir, 'names.txt'), '--out', join(dir, 'fleet'));
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already holds ok-1\//);
  });
});

function writeNames(text: string): void {
  execFileSync('sh', ['-c', `printf '%s' "$1" > "$2"`, 'sh', text, join(dir, 'names.txt')]);
}
