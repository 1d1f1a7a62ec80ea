// A config file written for each test into its own temporary directory, removed afterwards:
// the field tests load YAML the way a device does, from a file, so errors name it.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { loadConfig } from '../../runtime/config/config.js';

export interface ConfigFiles {
  /** The current test's directory. */
  dir(): string;
  /** Writes `text` as murmur.yaml in it and loads it. */
  load(text: string): ReturnType<typeof loadConfig>;
}

/** Call at the top of a test file; `prefix` names the temporary directories. */
export function configFiles(prefix: string): ConfigFiles {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir: () => dir,
    load(text) {
      const f = join(dir, 'murmur.yaml');
      writeFileSync(f, text);
      return loadConfig(f);
    },
  };
}
