// Reading one config file: YAML 1.2 (so a JSON file reads the same as before), with the line of
// every field kept so that errors found later, after the files are layered, still point at the
// line that wrote the value.
//
// A device config is small and hand-written; anything that only makes sense for other YAML is
// refused rather than interpreted: duplicate keys (YAML forbids them; JSON.parse silently kept
// the last), several documents, tags other than the core ones (!!binary, !!set, custom tags),
// keys that are not plain names, infinities, more than MAX_CONFIG_BYTES, and aliases that
// expand past MAX_ALIAS_USES (the "billion laughs" expansion bomb).

import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { ConfigError } from './config-error.js';

type Yaml = typeof import('yaml');

/**
 * Runs `use` with the yaml library, loaded for the call and let go after it. A node reads its
 * config at start and on reload only; a node without a config file never loads the library,
 * and one with a file does not keep its code in the heap for the process's life (about
 * 0.5 MB).
 */
function withYaml<T>(use: (yaml: Yaml) => T): T {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('yaml');
  try {
    return use(require(entry) as Yaml);
  } finally {
    const root = entry.slice(0, entry.lastIndexOf(`${sep}node_modules${sep}yaml${sep}`)) + `${sep}node_modules${sep}yaml${sep}`;
    for (const file of Object.keys(require.cache)) if (file.startsWith(root)) delete require.cache[file];
  }
}

/** A device config is a few KB; a bigger file is a mistake (a log, an image) and is not parsed. */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** Expanded alias uses per document: enough to reuse a sensor definition, far too few for a bomb. */
export const MAX_ALIAS_USES = 15;
/** Aliases written in one file, before any expansion. */
const MAX_ALIASES = 256;

/** The tags the core schema resolves to plain values; an explicit `!!str "7478"` is fine. */
const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

export interface ConfigSource {
  /** The file, as errors name it. */
  readonly file: string;
  /** The document as plain values: null for an empty file (or one of comments only). */
  readonly value: unknown;
  /**
   * The line (1-based) where `path` ("network.seeds[1]", "hal.sensors[0].schedule") is written
   * in this file; for a path inside a value written elsewhere (an alias), the nearest enclosing
   * field's. Undefined when the file does not mention it.
   */
  lineOf(path: string): number | undefined;
}

export function readConfigSource(file: string): ConfigSource {
  return parseConfigSource(file, readBounded(file));
}

/** The path of the field enclosing `path`: "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a" -> "". */
export function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut < 0 ? '' : path.slice(0, cut);
}

export function parseConfigSource(file: string, text: string): ConfigSource {
  return withYaml((yaml) => parseWith(yaml, file, text));
}

function parseWith({ isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument }: Yaml, file: string, text: string): ConfigSource {
  const counter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: counter,
    prettyErrors: false,
    // Checked below with the field path and both lines, which the library's message lacks.
    uniqueKeys: false,
    // A list or map as a key would be turned into a string: refuse it instead.
    stringKeys: true,
    // Merge keys (<<) are a YAML 1.1 extension: off, so "<<" is an unknown field like any other.
    merge: false,
    version: '1.2',
  });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const { line, col } = counter.linePos(problem.pos[0]);
    // The line the parser stopped at tells the two traps a murmur config walks into.
    const hint = syntaxHint(text.split('\n')[line - 1] ?? '');
    throw new ConfigError(`config ${file}:${line}:${col}: not valid YAML: ${problem.message}${hint}`);
  }

  const lines = new Map<string, number>();
  const lineAt = (node: { range?: readonly number[] | null | undefined }): number => counter.linePos(node.range?.[0] ?? 0).line;
  const fail = (line: number, path: string, message: string): never => {
    throw new ConfigError(`config ${file}:${line}: ${path || 'top level'}: ${message}`);
  };
  // Anchors seen so far, in document order (an alias may only name one defined before it), and
  // aliases met: checked here rather than with node.resolve(), which scans the whole document
  // for every alias and made a 120 KB file of aliases take two minutes.
  const anchors = new Set<string>();
  let aliases = 0;
  const walk = (node: unknown, path: string): void => {
    if (node === null || node === undefined) return;
    if (isAlias(node)) {
      if (++aliases > MAX_ALIASES) fail(lineAt(node), path, `more than ${MAX_ALIASES} aliases in one file; write the values out`);
      // Unquoted, a cron schedule such as */30 * * * * * reads as an alias named "/30".
      if (!anchors.has(node.source)) {
        fail(lineAt(node), path, `expected a value, got the alias *${node.source} with no anchor &${node.source} before it (quote a value that starts with "*", e.g. "*/30 * * * * *")`);
      }
      return;
    }
    if (isScalar(node) || isMap(node) || isSeq(node)) {
      if (node.anchor) anchors.add(node.anchor);
      if (node.tag !== undefined && !CORE_TAGS.has(node.tag)) fail(lineAt(node), path, `expected a plain value, got the tag ${node.tag.replace('tag:yaml.org,2002:', '!!')}`);
    }
    if (isScalar(node)) {
      if (typeof node.value === 'number' && !Number.isFinite(node.value)) fail(lineAt(node), path, `expected a finite number, got ${String(node.source ?? node.value)}`);
    } else if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        // stringKeys has already refused keys that are not scalars.
        const key = pair.key as { value: unknown; range?: [number, number, number] } | null;
        const line = key ? lineAt(key) : lineAt(node);
        const name = key?.value;
        if (typeof name !== 'string' || name === '') fail(line, path, `expected a field name before ":", got ${JSON.stringify(name ?? null)}`);
        const p = path ? `${path}.${name as string}` : (name as string);
        const first = seen.get(name as string);
        if (first !== undefined) fail(line, p, `duplicate key (first on line ${first}); YAML allows each key once per map`);
        seen.set(name as string, line);
        lines.set(p, line);
        walk(pair.value, p);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const p = `${path}[${i}]`;
        if (item && typeof item === 'object' && 'range' in item) lines.set(p, lineAt(item as { range?: [number, number, number] }));
        walk(item, p);
      });
    }
  };
  walk(doc.contents, '');

  let value: unknown;
  try {
    // The library refuses when uses (weighted by nesting) reach maxAliasCount.
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_USES + 1 });
  } catch (e) {
    // An alias to an anchor that is not defined (yet), or more alias expansion than a config needs.
    const why = /excessive alias count/i.test((e as Error).message) ? `aliases (*name) expand to more than ${MAX_ALIAS_USES} copies` : (e as Error).message;
    throw new ConfigError(`config ${file}: not a usable config: ${why}`);
  }
  return {
    file,
    value,
    lineOf(path: string): number | undefined {
      for (let p = path; p !== ''; p = parentPath(p)) {
        const line = lines.get(p);
        if (line !== undefined) return line;
      }
      return undefined;
    },
  };
}

/** The two YAML traps a murmur config walks into, recognised on the line the parser stopped at. */
function syntaxHint(line: string): string {
  // Unquoted, "[fd00::5]:7478" starts a YAML list.
  if (/(?:^|[\s,:-])\[[^\]"']*\]:\d/.test(line)) return ' (quote a bracketed IPv6 address: "[fd00::5]:7478")';
  // Unquoted, */30 * * * * * starts with an alias (*name).
  if (/(?:^|[\s-]|:)\s*\*\S*\s+\*/.test(line)) return ' (quote a value that starts with "*", e.g. schedule: "*/30 * * * * *")';
  return '';
}

/** The file's text, reading at most MAX_CONFIG_BYTES + 1 bytes: a wrong path such as a log or /dev/zero is refused, not read whole. */
function readBounded(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new ConfigError(`config ${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > MAX_CONFIG_BYTES) throw new ConfigError(`config ${file}: larger than ${MAX_CONFIG_BYTES / 1024} KB, which no device config needs: is it the right file?`);
    return buf.toString('utf8', 0, n);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`config ${file}: cannot read: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
