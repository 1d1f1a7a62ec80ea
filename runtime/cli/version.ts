// murmur's version, from the package.json beside the compiled tree: dist/runtime/cli/ in a
// checkout and /usr/lib/murmur/dist/runtime/cli/ when installed both sit three levels below it.

import { readFileSync } from 'node:fs';

export function murmurVersion(): string {
  const file = new URL('../../../package.json', import.meta.url);
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file.pathname}: cannot read murmur's version: ${(e as Error).message}`);
  }
  const v = (pkg as { version?: unknown } | null)?.version;
  if (typeof v !== 'string') throw new Error(`${file.pathname}: has no "version" string`);
  return v;
}
