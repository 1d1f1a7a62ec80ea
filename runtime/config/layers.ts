// Layering: the embedded defaults, then the fleet file, then the device file, then command-line
// options. Maps merge field by field; any other value, lists included, replaces what was below
// it whole (a device listing its sensors gets exactly those, not the fleet's plus its own).
//
// Every value a layer sets is remembered with the layer, so a validation error found after all
// the layers are applied still names the file and line that wrote the offending value.

import { looksLikeKey } from './secrets.js';
import { parentPath } from './yaml-source.js';

type Obj = Record<string, unknown>;

export interface Layer {
  /** How errors name it: a file, or "command line". */
  readonly name: string;
  /** The directory relative paths in a file resolve against; none for the command line. */
  readonly dir?: string;
  readonly value: unknown;
  lineOf(path: string): number | undefined;
}

export function isMap(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export class Layers {
  readonly merged: Obj;
  /**
   * Fields no layer may set (unknown names, a value where a map belongs), one message each.
   * Such a field is skipped and the rest applied, so validation can report everything at once.
   */
  readonly errors: string[] = [];
  /** field path -> the layer that set the value there (maps that merely merged are not recorded). */
  readonly #setBy = new Map<string, Layer>();

  constructor(defaults: object) {
    this.merged = structuredClone(defaults) as Obj;
  }

  apply(layer: Layer): void {
    this.#overlay(this.merged, layer.value, layer, '');
  }

  /** The layer whose value `path` is (or is part of); undefined: the embedded defaults. */
  layerOf(path: string): Layer | undefined {
    for (let p = path; p !== ''; p = parentPath(p)) {
      const layer = this.#setBy.get(p);
      if (layer) return layer;
    }
    return undefined;
  }

  /** "config FILE:LINE" for the value at `path`, as the start of an error message. */
  where(path: string): string {
    const layer = this.layerOf(path);
    return layer ? at(layer, path) : 'config defaults (device-config/defaults.ts)';
  }

  #overlay(target: Obj, src: unknown, layer: Layer, path: string): void {
    // `network:` with everything under it commented out reads as null: the same as leaving it out.
    if (src === null || src === undefined) return;
    if (!isMap(src)) {
      this.errors.push(`${at(layer, path)}: ${path || 'top level'}: expected a map of fields (${Object.keys(target).join(', ')}), got ${describe(src)}`);
      return;
    }
    for (const [k, v] of Object.entries(src)) {
      const p = path ? `${path}.${k}` : k;
      // hasOwn, not `in`: "toString" or "__proto__" must be unknown fields, not inherited ones.
      if (!Object.hasOwn(target, k)) {
        this.errors.push(`${at(layer, p)}: ${p}: ${unknownField(k, Object.keys(target))}`);
        continue;
      }
      const cur = target[k];
      if (isMap(cur)) {
        this.#overlay(cur, v, layer, p);
      } else {
        target[k] = v;
        for (const q of [...this.#setBy.keys()]) if (q.startsWith(`${p}.`) || q.startsWith(`${p}[`)) this.#setBy.delete(q);
        this.#setBy.set(p, layer);
      }
    }
  }
}

/** "config FILE:LINE" (or without the line when the layer has none, as the command line). */
export function at(layer: Layer, path: string): string {
  const line = layer.lineOf(path);
  return `config ${layer.name}${line === undefined ? '' : `:${line}`}`;
}

/** Command-line overrides ("network.port" -> 9100) as a layer. */
export function overridesLayer(overrides: Readonly<Record<string, unknown>>): Layer {
  const value: Obj = {};
  for (const [path, v] of Object.entries(overrides)) {
    const parts = path.split('.');
    let o = value;
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Obj;
    o[parts.at(-1)!] = v;
  }
  return { name: 'command line', value, lineOf: () => undefined };
}

export function unknownField(name: string, known: readonly string[]): string {
  const close = known.filter((k) => distance(k.toLowerCase(), name.toLowerCase()) <= Math.max(1, Math.floor(k.length / 4)));
  const hint = close.length > 0 ? `; did you mean ${close.join(' or ')}?` : '';
  return `unknown field${hint} (expected one of: ${known.join(', ')})`;
}

/** A value for an error message: key material hidden at any depth, and kept short (it goes to the journal). */
export function describe(v: unknown): string {
  const safe = withoutKeys(v);
  const text = Array.isArray(safe) ? `a list ${JSON.stringify(safe)}` : (JSON.stringify(safe) ?? String(safe));
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** `v` with key material replaced, at any depth. */
export function withoutKeys(v: unknown): unknown {
  if (typeof v === 'string') return looksLikeKey(v) ? '(key material, not shown)' : v;
  if (Array.isArray(v)) return v.map(withoutKeys);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutKeys(x)]));
  return v;
}

/** Edit distance counting a swap of neighbours as one: config typos are a letter dropped, doubled or swapped. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
