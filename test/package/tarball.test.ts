import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The tarball for machines without dpkg: install.sh puts the same tree under /usr/local
// (into a scratch root here, through DESTDIR), makes the user with the .deb's own postinst,
// keeps an existing config on reinstall, and --uninstall takes the code away but not the
// config or state. install.sh makes a user in the root, which needs root, as CI runs.

const REPO = join(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const ROOT_USER = process.getuid?.() === 0;
const HAVE_USERADD = spawnSync('sh', ['-c', 'command -v useradd']).status === 0;
const SKIP = !ROOT_USER || !HAVE_USERADD;
const WHY = !ROOT_USER ? ' (skipped: install.sh makes the murmur user, which needs root; CI runs as root)' : !HAVE_USERADD ? ' (skipped: useradd not found; it is in the Debian package passwd)' : '';

let work: string;
let top: string;
let dest: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'murmur-tar-'));
  execFileSync(process.execPath, [join(REPO, 'scripts/package/build-tarball.mjs'), '--out', work], { stdio: 'pipe' });
  execFileSync('tar', ['-C', work, '-xzf', join(work, `murmur-${VERSION}.tar.gz`)]);
  top = join(work, `murmur-${VERSION}`);
  dest = join(work, 'root');
  mkdirSync(join(dest, 'etc'), { recursive: true });
  for (const f of ['passwd', 'shadow', 'gshadow']) writeFileSync(join(dest, 'etc', f), '');
  writeFileSync(join(dest, 'etc/group'), 'gpio:x:997:\n');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const install = (...args: string[]): string => execFileSync('sh', [join(top, 'install.sh'), ...args], { encoding: 'utf8', env: { ...process.env, DESTDIR: dest } });

describe('the tarball', () => {
  it('holds install.sh, the installed tree, the units and the postinst', () => {
    for (const f of ['install.sh', 'VERSION', 'murmur.yaml', 'lib/murmur/dist/runtime/cli/bin.js', 'lib/murmur/node_modules/yaml/package.json', 'systemd/murmur.service', 'systemd/murmur-firstboot.service', 'udev/60-murmur.rules', 'maintainer/postinst']) {
      expect(existsSync(join(top, f)), f).toBe(true);
    }
    expect(statSync(join(top, 'install.sh')).mode & 0o111).not.toBe(0);
    expect(existsSync(join(top, 'lib/murmur/node_modules/onoff'))).toBe(false);
  });

  it.skipIf(SKIP)(`install.sh installs under /usr/local in DESTDIR, keeps the config on reinstall, and --uninstall keeps config and state${WHY}`, () => {
    expect(install()).toMatch(new RegExp(`murmur ${VERSION.replace(/\./g, '\\.')} installed in /usr/local/lib/murmur`));
    expect(readlinkSync(join(dest, 'usr/local/bin/murmur'))).toBe('/usr/local/lib/murmur/dist/runtime/cli/bin.js');
    const unit = readFileSync(join(dest, 'etc/systemd/system/murmur.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/murmur start --config \/etc\/murmur\/murmur\.yaml$/m);
    expect(readFileSync(join(dest, 'etc/systemd/system/murmur-firstboot.service'), 'utf8')).toMatch(/^ExecStart=\/usr\/local\/lib\/murmur\/firstboot\.sh$/m);
    expect(readlinkSync(join(dest, 'etc/systemd/system/multi-user.target.wants/murmur.service'))).toBe('/etc/systemd/system/murmur.service');
    expect(readFileSync(join(dest, 'etc/passwd'), 'utf8')).toMatch(/^murmur:x:\d+:\d+:murmur gossip node:\/var\/lib\/murmur:\/usr\/sbin\/nologin$/m);
    expect(readFileSync(join(dest, 'etc/group'), 'utf8')).toMatch(/^gpio:x:997:murmur$/m);
    expect(statSync(join(dest, 'var/lib/murmur')).mode & 0o777).toBe(0o700);
    const v = spawnSync(process.execPath, [join(dest, 'usr/local/lib/murmur/dist/runtime/cli/bin.js'), '--version'], { encoding: 'utf8' });
    expect(v.stdout.trim()).toBe(`murmur ${VERSION}`);

    writeFileSync(join(dest, 'etc/murmur/murmur.yaml'), 'node:\n  name: mine\n');
    expect(install()).toMatch(/keeping \/etc\/murmur\/murmur\.yaml/);
    expect(readFileSync(join(dest, 'etc/murmur/murmur.yaml'), 'utf8')).toBe('node:\n  name: mine\n');
    expect(readFileSync(join(dest, 'etc/passwd'), 'utf8').match(/^murmur:/gm)).toHaveLength(1);

    install('--uninstall');
    expect(existsSync(join(dest, 'usr/local/lib/murmur'))).toBe(false);
    expect(existsSync(join(dest, 'usr/local/bin/murmur'))).toBe(false);
    expect(existsSync(join(dest, 'etc/systemd/system/murmur.service'))).toBe(false);
    expect(() => readlinkSync(join(dest, 'etc/systemd/system/multi-user.target.wants/murmur.service'))).toThrow(/ENOENT/);
    expect(readFileSync(join(dest, 'etc/murmur/murmur.yaml'), 'utf8')).toBe('node:\n  name: mine\n');
    expect(existsSync(join(dest, 'var/lib/murmur'))).toBe(true);
  });
});
