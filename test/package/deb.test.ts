import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The release as an operator gets it: the .deb is built from the compiled tree, inspected
// with dpkg-deb, installed with dpkg into a scratch root (maintainer scripts run against it
// through DPKG_ROOT), upgraded, removed and purged there; its units pass systemd-analyze
// verify; the installed murmur runs on the system node. Needs dist/ (npm run build). Without
// dpkg-deb, dpkg or systemd-analyze the tests that need them are skipped and say so; .ci/run
// installs them. Installing into a root needs root (useradd), as CI runs.

const REPO = join(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAVE_DPKG_DEB = has('dpkg-deb');
const HAVE_DPKG = has('dpkg') && HAVE_DPKG_DEB;
const HAVE_ANALYZE = has('systemd-analyze');
const ROOT_USER = process.getuid?.() === 0;
const missing = (what: string, pkg: string): string => `(skipped: ${what} not found; .ci/run installs the Debian package ${pkg})`;
const NEEDS_DPKG_DEB = HAVE_DPKG_DEB ? '' : ` ${missing('dpkg-deb', 'dpkg')}`;
const NEEDS_DPKG = HAVE_DPKG && ROOT_USER ? '' : HAVE_DPKG ? ' (skipped: installing into a root creates a user there, which needs root; CI runs as root)' : ` ${missing('dpkg', 'dpkg')}`;
const NEEDS_ANALYZE = HAVE_ANALYZE ? '' : ` ${missing('systemd-analyze', 'systemd')}`;

let work: string;
let deb: string;
/** The package unpacked with dpkg-deb -x: files only, no maintainer scripts. */
let tree: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'murmur-deb-'));
  if (!HAVE_DPKG_DEB) {
    console.warn(`murmur package tests: dpkg-deb not found, the .deb tests are skipped ${missing('dpkg-deb', 'dpkg')}`);
    return;
  }
  execFileSync(process.execPath, [join(REPO, 'scripts/package/build-deb.mjs'), '--out', work], { stdio: 'pipe' });
  deb = join(work, `murmur_${VERSION}_all.deb`);
  tree = join(work, 'x');
  execFileSync('dpkg-deb', ['-x', deb, tree]);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const dpkgDeb = (...args: string[]): string => execFileSync('dpkg-deb', args, { encoding: 'utf8' });

describe(`the .deb, inspected${NEEDS_DPKG_DEB}`, () => {
  it.skipIf(!HAVE_DPKG_DEB)('dpkg-deb -I: control fields, maintainer scripts and the conffile', () => {
    const info = dpkgDeb('-I', deb);
    expect(info).toMatch(/^ Package: murmur$/m);
    expect(info).toMatch(new RegExp(`^ Version: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
    expect(info).toMatch(/^ Architecture: all$/m);
    expect(info).toMatch(/^ Depends: nodejs \(>= 20\)/m);
    expect(info).toMatch(/^ Installed-Size: \d+$/m);
    for (const script of ['postinst', 'prerm', 'postrm']) expect(info).toMatch(new RegExp(`\\d+ lines +\\* +${script} +#!/bin/sh`));
    expect(dpkgDeb('-I', deb, 'conffiles').trim()).toBe('/etc/murmur/murmur.yaml');
  });

  it.skipIf(!HAVE_DPKG_DEB)('dpkg-deb -c: the code, its production dependencies, the command, units and config, all owned by root', () => {
    const lines = dpkgDeb('-c', deb).trim().split('\n');
    const paths = new Map(lines.map((l) => [l.split(/\s+/)[5]!.replace(/^\.\//, '/'), l]));
    for (const p of [
      '/usr/lib/murmur/package.json',
      '/usr/lib/murmur/dist/runtime/cli/bin.js',
      '/usr/lib/murmur/dist/runtime/sim/',
      '/usr/lib/murmur/firstboot.sh',
      '/usr/lib/murmur/node_modules/cbor-x/package.json',
      '/usr/lib/murmur/node_modules/node-cron/package.json',
      '/usr/lib/murmur/node_modules/tweetnacl/package.json',
      '/usr/lib/murmur/node_modules/yaml/package.json',
      '/usr/lib/systemd/system/murmur.service',
      '/usr/lib/systemd/system/murmur-firstboot.service',
      '/usr/lib/udev/rules.d/60-murmur.rules',
      '/etc/murmur/murmur.yaml',
      '/usr/share/doc/murmur/README.md',
    ]) {
      expect(paths.has(p), p).toBe(true);
    }
    expect(paths.get('/usr/bin/murmur')).toMatch(/^lrwxrwxrwx .* -> \.\.\/lib\/murmur\/dist\/runtime\/cli\/bin\.js$/);
    expect(paths.get('/usr/lib/murmur/dist/runtime/cli/bin.js')).toMatch(/^-rwxr-xr-x /);
    expect(paths.get('/usr/lib/murmur/firstboot.sh')).toMatch(/^-rwxr-xr-x /);
    for (const l of lines) expect(l).toMatch(/^\S+ root\/root /);
    // Native addons (optional dependencies), dev dependencies, benchmarks and source maps stay out.
    const unwanted = [...paths.keys()].filter((p) =>
      /node_modules\/(onoff|epoll|cbor-extract|@cbor-extract|vitest|typescript|fast-check)\/|\.node$|\.map$|\/dist\/scripts\//.test(p),
    );
    expect(unwanted).toEqual([]);
  });

  it.skipIf(!HAVE_DPKG_DEB)('murmur --version runs from the unpacked tree on the system node', () => {
    const r = spawnSync(join(tree, 'usr/bin/murmur'), ['--version'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`murmur ${VERSION}`);
    expect(r.status).toBe(0);
    const check = spawnSync(join(tree, 'usr/bin/murmur'), ['config', 'check', join(tree, 'etc/murmur/murmur.yaml')], { encoding: 'utf8' });
    expect(check.stdout).toMatch(/^ok: /);
  });

  it.skipIf(!HAVE_DPKG_DEB)('the unpacked tree runs a node: every production dependency is there', async () => {
    const state = join(work, 'run-state');
    const proc = spawn(join(tree, 'usr/bin/murmur'), ['start', '--state-dir', state, '--name', 'pkg', '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    for (let i = 0; i < 400 && !/event=node-starting/.test(out); i++) await new Promise((r) => setTimeout(r, 25));
    expect(out).toMatch(/event=node-starting node=pkg/);
    // The installed CLI reaches the installed node through its API socket.
    const status = spawnSync(join(tree, 'usr/bin/murmur'), ['status', '--state-dir', state], { encoding: 'utf8' });
    expect(status.stderr).toBe('');
    expect(status.stdout).toMatch(/pkg/);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).not.toMatch(/Warning|Error/);
  });
});

/** A root dpkg can install into: an empty package database and user files with a video group, no gpio. */
function scratchRoot(name: string): string {
  const r = join(work, name);
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers', 'etc']) mkdirSync(join(r, d), { recursive: true });
  for (const f of ['var/lib/dpkg/status', 'var/lib/dpkg/available', 'etc/passwd', 'etc/shadow', 'etc/gshadow']) writeFileSync(join(r, f), '');
  writeFileSync(join(r, 'etc/group'), 'video:x:44:\ni2c:x:998:pi\n');
  return r;
}

/** dpkg against `root`, running the maintainer scripts there (DPKG_ROOT) instead of in a chroot. */
function dpkg(root: string, ...args: string[]): string {
  // nodejs and passwd are on this machine but not in the scratch root's package database.
  return execFileSync('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--force-confold', ...args], { encoding: 'utf8', stdio: 'pipe' });
}

const entry = (root: string, file: string, name: string): string[] | undefined =>
  readFileSync(join(root, 'etc', file), 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === name);

describe(`the .deb, installed into a scratch root with dpkg --root${NEEDS_DPKG}`, () => {
  let root: string;
  beforeAll(() => {
    if (!HAVE_DPKG || !ROOT_USER) return;
    root = scratchRoot('root');
    dpkg(root, '-i', deb);
  });

  it.skipIf(!HAVE_DPKG || !ROOT_USER)('postinst makes the murmur system user in the hardware groups that exist, its state directory, and enables the units', () => {
    const user = entry(root, 'passwd', 'murmur')!;
    expect(user).toBeDefined();
    expect(Number(user[2])).toBeLessThan(1000);
    expect(user.slice(5)).toEqual(['/var/lib/murmur', '/usr/sbin/nologin']);
    expect(entry(root, 'group', 'video')![3]).toBe('murmur');
    expect(entry(root, 'group', 'i2c')![3]).toBe('pi,murmur');
    // Not on this machine, and not made up: a group no device belongs to would grant nothing.
    expect(entry(root, 'group', 'gpio')).toBeUndefined();
    const state = statSync(join(root, 'var/lib/murmur'));
    expect(state.mode & 0o777).toBe(0o700);
    expect(state.uid).toBe(Number(user[2]));
    for (const unit of ['murmur.service', 'murmur-firstboot.service']) {
      expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants', unit))).toBe(`/usr/lib/systemd/system/${unit}`);
    }
    expect(dpkg(root, '-s', 'murmur')).toMatch(/^Status: install ok installed$/m);
    expect(lstatSync(join(root, 'usr/bin/murmur')).isSymbolicLink()).toBe(true);
  });

  it.skipIf(!HAVE_DPKG || !ROOT_USER)('an upgrade keeps the edited config and the state, and does not duplicate the user; remove keeps them; purge removes them', () => {
    const yaml = join(root, 'etc/murmur/murmur.yaml');
    writeFileSync(yaml, 'node:\n  name: kept\n');
    writeFileSync(join(root, 'var/lib/murmur/identity.json'), '{"id":"kept"}\n');
    writeFileSync(join(root, 'etc/murmur/fleet.key'), 'k\n');
    dpkg(root, '-i', deb);
    expect(readFileSync(yaml, 'utf8')).toBe('node:\n  name: kept\n');
    expect(readFileSync(join(root, 'var/lib/murmur/identity.json'), 'utf8')).toBe('{"id":"kept"}\n');
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8').match(/^murmur:/gm)).toHaveLength(1);
    expect(entry(root, 'group', 'video')![3]).toBe('murmur');
    // The fleet key is murmur's alone, whoever put it there.
    expect(statSync(join(root, 'etc/murmur/fleet.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'etc/murmur/fleet.key')).uid).toBe(Number(entry(root, 'passwd', 'murmur')![2]));

    dpkg(root, '-r', 'murmur');
    expect(existsSync(join(root, 'usr/lib/murmur'))).toBe(false);
    expect(existsSync(join(root, 'usr/bin/murmur'))).toBe(false);
    expect(existsSync(join(root, 'etc/systemd/system/multi-user.target.wants/murmur.service'))).toBe(false);
    expect(readFileSync(yaml, 'utf8')).toBe('node:\n  name: kept\n');
    expect(existsSync(join(root, 'var/lib/murmur/identity.json'))).toBe(true);

    dpkg(root, '-P', 'murmur');
    expect(existsSync(join(root, 'etc/murmur'))).toBe(false);
    expect(existsSync(join(root, 'var/lib/murmur'))).toBe(false);
    expect(entry(root, 'passwd', 'murmur')).toBeDefined();
  });
});

describe(`the units${NEEDS_ANALYZE}${NEEDS_DPKG_DEB}`, () => {
  it.skipIf(!HAVE_ANALYZE || !HAVE_DPKG_DEB)('pass systemd-analyze verify in the unpacked tree, and murmur.service is hardened', () => {
    // verify resolves ExecStart= and the targets the units name inside --root: the package's
    // files, plus the host's targets and kill (an installed system has both).
    const root = join(work, 'verify');
    cpSync(tree, root, { recursive: true, verbatimSymlinks: true });
    const hostUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(join(d, 'sysinit.target')))!;
    for (const f of readdirSync(hostUnits).filter((f) => /\.(target|slice)$/.test(f))) {
      cpSync(join(hostUnits, f), join(root, 'usr/lib/systemd/system', f), { dereference: true });
    }
    mkdirSync(join(root, 'bin'), { recursive: true });
    cpSync('/bin/kill', join(root, 'bin/kill'));
    const units = ['usr/lib/systemd/system/murmur.service', 'usr/lib/systemd/system/murmur-firstboot.service'];
    const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);

    const unit = readFileSync(join(root, units[0]!), 'utf8');
    for (const line of ['Type=notify', 'NotifyAccess=all', 'WatchdogSec=30', 'Restart=on-failure', 'ExecReload=/bin/kill -HUP $MAINPID', 'StateDirectory=murmur', 'ConfigurationDirectory=murmur', 'User=murmur', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'ReadWritePaths=-/sys/class/leds -/sys/class/gpio']) {
      expect(unit.split('\n')).toContain(line);
    }
    // Either would take the board LED, GPIO or I2C away from murmur.
    expect(unit).not.toMatch(/^(PrivateDevices|ProtectKernelTunables|DevicePolicy)=/m);
    const security = spawnSync('systemd-analyze', ['security', '--offline=true', `--root=${root}`, 'murmur.service'], { cwd: root, encoding: 'utf8' });
    const exposure = /Overall exposure level for murmur\.service: ([\d.]+)/.exec(security.stdout);
    expect(exposure, security.stdout + security.stderr).not.toBeNull();
    expect(Number(exposure![1])).toBeLessThan(5);
  });
});
