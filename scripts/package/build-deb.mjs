#!/usr/bin/env node
// Builds dist/package/murmur_<version>_all.deb from the compiled tree (npm run build) and the
// installed node_modules. Usage: node scripts/package/build-deb.mjs [--out DIR]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { OUT, PACKAGING, REPO, copyInto, fresh, packageJson, stageLib, walk } from './stage.mjs';

const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? process.argv[outArg + 1] : OUT;
const { version } = packageJson();
const root = join(out, 'deb-root');
fresh(root);

stageLib(join(root, 'usr/lib/murmur'));
mkdirSync(join(root, 'usr/bin'), { recursive: true });
// Node resolves the link to bin.js, so its imports are found beside the real file.
symlinkSync('../lib/murmur/dist/runtime/cli/bin.js', join(root, 'usr/bin/murmur'));
const deb = join(PACKAGING, 'debian');
copyInto(join(deb, 'murmur.service'), join(root, 'usr/lib/systemd/system/murmur.service'), 0o644);
copyInto(join(deb, 'murmur-firstboot.service'), join(root, 'usr/lib/systemd/system/murmur-firstboot.service'), 0o644);
copyInto(join(deb, '60-murmur.rules'), join(root, 'usr/lib/udev/rules.d/60-murmur.rules'), 0o644);
copyInto(join(PACKAGING, 'murmur.yaml'), join(root, 'etc/murmur/murmur.yaml'), 0o644);
copyInto(join(REPO, 'README.md'), join(root, 'usr/share/doc/murmur/README.md'), 0o644);
copyInto(join(PACKAGING, 'cloud-init/user-data.yaml'), join(root, 'usr/share/doc/murmur/examples/cloud-init-user-data.yaml'), 0o644);
writeFileSync(join(root, 'usr/share/doc/murmur/copyright'), copyright());

const control = join(root, 'DEBIAN');
mkdirSync(control, { mode: 0o755 });
for (const script of ['postinst', 'prerm', 'postrm']) copyInto(join(deb, script), join(control, script), 0o755);
copyInto(join(deb, 'conffiles'), join(control, 'conffiles'), 0o644);
// Installed-Size is in KiB, of the files as unpacked.
const kib = Math.ceil(walk(root).filter((f) => !f.startsWith(control)).reduce((n, f) => n + statSync(f).size, 0) / 1024);
writeFileSync(
  join(control, 'control'),
  readFileSync(join(deb, 'control'), 'utf8').replace('@VERSION@', version).replace('@INSTALLED_SIZE@', String(kib)),
);

const file = join(out, `murmur_${version}_all.deb`);
execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, file], { stdio: ['ignore', 'ignore', 'inherit'] });
console.log(`${file} (${Math.round(statSync(file).size / 1024)} KiB)`);

function copyright() {
  const pkg = packageJson();
  const deps = Object.keys(pkg.dependencies).join(', ');
  return `murmur ${pkg.version}\nLicense: ${pkg.license}\n\nBundled in /usr/lib/murmur/node_modules, each under the license in its own folder: ${deps}.\n`;
}
