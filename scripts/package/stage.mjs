// The installed tree of murmur, shared by the .deb and the tarball: the compiled code, a
// package.json, and the production dependencies copied from the checkout's node_modules
// (offline: nothing is downloaded). Optional dependencies are left out: cbor-extract and
// onoff (with epoll) are native addons built for one architecture, and murmur runs without
// both (cbor-x decodes in JS; the sysfs GPIO backend writes the files itself). What is left
// is plain JavaScript, so one tree serves arm64, armhf and x86-64.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const PACKAGING = join(REPO, 'scripts/package');
export const OUT = join(REPO, 'dist/package');

/** The compiled folders that run on a device; dist/scripts (benchmarks, lab) stays out. */
const DIST_FOLDERS = ['runtime', 'hal', 'device-config'];

export function packageJson() {
  return JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
}

/** The lockfile entries (node_modules/... paths) a production install has, without optional ones. */
export function productionModules() {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
  return Object.entries(lock.packages)
    .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev && !p.devOptional && !p.optional && !p.peer)
    .map(([path, p]) => ({ path, version: p.version, installScript: p.hasInstallScript === true }));
}

/** Writes the tree that becomes /usr/lib/murmur into `dest` (which must not exist yet). */
export function stageLib(dest) {
  const pkg = packageJson();
  const compiled = join(REPO, 'dist/runtime/cli/bin.js');
  if (!existsSync(compiled)) throw new Error(`${compiled}: missing; run "npm run build" first`);
  mkdirSync(dest, { recursive: true });
  for (const f of DIST_FOLDERS) {
    cpSync(join(REPO, 'dist', f), join(dest, 'dist', f), { recursive: true, filter: compiledFromSource });
  }
  const { name, version, description, type, license, engines, dependencies } = pkg;
  writeFileSync(join(dest, 'package.json'), JSON.stringify({ name, version, description, type, license, engines, dependencies }, null, 2) + '\n');
  for (const m of productionModules()) {
    if (m.installScript) throw new Error(`package-lock.json ${m.path}: has an install script (a native build?); the package ships plain JavaScript only`);
    const src = join(REPO, m.path);
    if (!existsSync(join(src, 'package.json'))) throw new Error(`${src}: missing; run "npm ci" first`);
    const have = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')).version;
    if (have !== m.version) throw new Error(`${src}: version ${have}, package-lock.json wants ${m.version}; run "npm ci" first`);
    // Nested node_modules are lockfile entries of their own; source maps only help a debugger.
    cpSync(src, join(dest, m.path), { recursive: true, dereference: true, filter: (s) => !relative(src, s).startsWith('node_modules') && !s.endsWith('.map') });
  }
  const native = walk(dest).filter((f) => f.endsWith('.node') || f.endsWith('binding.gyp'));
  if (native.length > 0) throw new Error(`native addon files staged, which an Architecture: all package cannot carry: ${native.join(', ')}`);
  const fb = join(dest, 'firstboot.sh');
  cpSync(join(PACKAGING, 'firstboot.sh'), fb);
  normaliseModes(dest);
  chmodSync(join(dest, 'dist/runtime/cli/bin.js'), 0o755);
  chmodSync(fb, 0o755);
}

/**
 * dist/ is never cleaned, so it may hold JavaScript whose TypeScript source is gone (a file
 * renamed on another branch): only files compiled from a source that exists are shipped.
 * Source maps stay out too.
 */
function compiledFromSource(src) {
  if (statSync(src).isDirectory()) return true;
  if (!src.endsWith('.js')) return false;
  return existsSync(join(REPO, relative(join(REPO, 'dist'), src)).replace(/\.js$/, '.ts'));
}

/** Directories 0755, files 0644, or 0755 when their owner could run them. */
export function normaliseModes(root) {
  chmodSync(root, 0o755);
  for (const f of walk(root, true)) {
    const st = statSync(f);
    chmodSync(f, st.isDirectory() || st.mode & 0o100 ? 0o755 : 0o644);
  }
}

/** Every path under `root` (files, and directories too when `dirs`). */
export function walk(root, dirs = false) {
  const out = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) {
      if (dirs) out.push(p);
      out.push(...walk(p, dirs));
    } else out.push(p);
  }
  return out;
}

export function fresh(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

export function copyInto(src, dest, mode) {
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(src, dest);
  chmodSync(dest, mode);
}

export { symlinkSync };
