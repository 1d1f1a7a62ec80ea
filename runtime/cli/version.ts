// murmur's version, from its package.json: the nearest one above this file whose name is
// murmur. That is the checkout's (above runtime/cli/ in the sources, or dist/runtime/cli/
// when built) or the installed tree's (/usr/lib/murmur).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function murmurVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      let pkg: { name?: unknown; version?: unknown } | null;
      try {
        pkg = JSON.parse(readFileSync(file, 'utf8')) as typeof pkg;
      } catch (e) {
        throw new Error(`${file}: cannot read murmur's version: ${(e as Error).message}`);
      }
      if (pkg?.name === 'murmur') {
        if (typeof pkg.version !== 'string') throw new Error(`${file}: has no "version" string`);
        return pkg.version;
      }
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of murmur above ${from}: cannot tell murmur's version`);
  }
}
