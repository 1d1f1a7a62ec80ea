#!/usr/bin/env node
// Builds dist/package/murmur-<version>.tar.gz: the same tree as the .deb plus install.sh, for
// machines without dpkg. Usage: node scripts/package/build-tarball.mjs [--out DIR]
import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT, PACKAGING, REPO, copyInto, fresh, packageJson, stageLib } from './stage.mjs';

const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? process.argv[outArg + 1] : OUT;
const { version } = packageJson();
const name = `murmur-${version}`;
const stage = join(out, 'tar-root');
const top = join(stage, name);
fresh(stage);

stageLib(join(top, 'lib/murmur'));
const deb = join(PACKAGING, 'debian');
copyInto(join(PACKAGING, 'install.sh'), join(top, 'install.sh'), 0o755);
copyInto(join(deb, 'murmur.service'), join(top, 'systemd/murmur.service'), 0o644);
copyInto(join(deb, 'murmur-firstboot.service'), join(top, 'systemd/murmur-firstboot.service'), 0o644);
copyInto(join(deb, '60-murmur.rules'), join(top, 'udev/60-murmur.rules'), 0o644);
copyInto(join(deb, 'postinst'), join(top, 'maintainer/postinst'), 0o755);
copyInto(join(PACKAGING, 'murmur.yaml'), join(top, 'murmur.yaml'), 0o644);
copyInto(join(REPO, 'README.md'), join(top, 'README.md'), 0o644);
writeFileSync(join(top, 'VERSION'), version + '\n');

const file = join(out, `${name}.tar.gz`);
execFileSync('tar', ['-C', stage, '--owner=0', '--group=0', '--numeric-owner', '-czf', file, name]);
console.log(`${file} (${Math.round(statSync(file).size / 1024)} KiB)`);
