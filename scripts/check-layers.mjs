#!/usr/bin/env node
// Fails when a folder imports from a folder above it in LAYERS, so each layer can be read,
// tested and replaced with only the layers below it in mind. Usage: check-layers.mjs [root]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// Low to high. A folder may import from its own layer and the layers before it, never after.
const LAYERS = [
  [['hal', 'device-config'], 'drivers and embedded defaults; they must run without the runtime'],
  [['runtime/core'], 'the sans-IO protocol state machine; everything else builds on it'],
  [['runtime/wire'], 'the codec and frame types for what the core sends'],
  [['runtime/log', 'runtime/persist'], 'logging and atomic file writes, for every layer that does I/O'],
  [['runtime/crypto'], 'the sealed channel and keyring, over wire frames'],
  [['runtime/trust'], 'device identity and the gatekeeper for core messages'],
  [['runtime/net'], 'transports that carry datagrams, knowing nothing of their contents'],
  [['runtime/sensing', 'runtime/status'], 'sensor sampling and LED status over the hardware layer'],
  [['runtime/host'], 'the one assembly of channel, gatekeeper, core and transport'],
  [['runtime/sim'], 'runs the assembled host on a simulated transport'],
  [['runtime/config'], 'the device config, which names what the layers below offer'],
  [['runtime/metrics'], 'Prometheus metrics read from the counters the layers below keep'],
  [['runtime/api'], 'the local HTTP API, configured by config'],
  [['runtime/agent'], 'the long-running node that wires the layers below into one process'],
  [['runtime/cli'], 'commands that start the agent or act offline'],
  [['scripts', 'test'], 'benchmarks, tools and tests; they may import anything'],
];
const CHECKED = ['runtime', 'hal', 'device-config'];

const rank = new Map(LAYERS.flatMap(([folders], i) => folders.map((f) => [f, i])));

/** The layer folder a root-relative path belongs to: `runtime/<name>` or a top-level folder. */
function folderOf(path) {
  const parts = path.split('/');
  return parts[0] === 'runtime' && parts.length > 2 ? `runtime/${parts[1]}` : parts.length > 1 ? parts[0] : path;
}

// After one of these characters or words a `/` starts a regular expression, not a division.
const BEFORE_REGEX = /(?:[(,=:[!&|?{};+\-*%<>~^]|\b(?:return|typeof|case|do|else|in|of|void|yield|await))\s*$/;

/**
 * The source with comments blanked out (newlines kept), so commented-out imports do not count.
 * Strings, template literals and regular expressions are skipped whole, so a quote or `//`
 * inside one cannot start a string or a comment.
 */
function stripComments(src) {
  let out = '';
  let i = 0;
  const skipTo = (j) => {
    out += src.slice(i, j);
    i = j;
  };
  while (i < src.length) {
    const c = src[i];
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      skipTo(j + 1);
    } else if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      i = end < 0 ? src.length : end;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const body = src.slice(i, end < 0 ? src.length : end + 2);
      out += body.replace(/[^\n]/g, ' ');
      i += body.length;
    } else if (c === '/' && BEFORE_REGEX.test(out.slice(-20) || '(')) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && src[j] !== '\n' && (inClass || src[j] !== '/')) {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        j++;
      }
      skipTo(j + 1);
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const SPECIFIER = [
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/g, // import x from '…', export { x } from '…'
  /\bimport\s*(['"])([^'"]+)\1/g, // import '…' (side effects only)
  /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g, // import('…')
];

/** Every relative import of one file, with the line its specifier is on. */
export function importsOf(src) {
  const code = stripComments(src);
  const found = [];
  for (const re of SPECIFIER) {
    for (const m of code.matchAll(re)) {
      const spec = m[2];
      if (!spec.startsWith('.')) continue;
      const at = m.index + m[0].lastIndexOf(spec);
      found.push({ spec, line: code.slice(0, at).split('\n').length });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

function tsFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

export function checkLayers(root) {
  const problems = [];
  const files = CHECKED.flatMap((top) => tsFiles(join(root, top)));
  for (const file of files) {
    const rel = relative(root, file).split(sep).join('/');
    const from = folderOf(rel);
    if (!rank.has(from)) {
      problems.push(`${rel}:1: ${from} is not in the layer list of scripts/check-layers.mjs`);
      continue;
    }
    for (const { spec, line } of importsOf(readFileSync(file, 'utf8'))) {
      const target = relative(root, resolve(dirname(file), spec)).split(sep).join('/');
      if (target.startsWith('..')) {
        problems.push(`${rel}:${line}: ${from} imports ${spec}, which is outside the tree`);
        continue;
      }
      const to = folderOf(target);
      if (!rank.has(to)) {
        problems.push(`${rel}:${line}: ${from} imports ${to}, which is not in the layer list`);
      } else if (rank.get(to) > rank.get(from)) {
        problems.push(`${rel}:${line}: ${from} imports ${to}, which is above it`);
      }
    }
  }
  return { files: files.length, problems };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const { files, problems } = checkLayers(root);
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`check-layers: ${problems.length} violation(s) in ${files} files; move the shared piece down a layer`);
    process.exit(1);
  }
  console.log(`check-layers: ${files} files, no folder imports from a folder above it`);
}
