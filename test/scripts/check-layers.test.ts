import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// The layering check as `npm test` runs it: a spawned Node process over a tree given as argv.

const SCRIPT = join(import.meta.dirname, '../../scripts/check-layers.mjs');
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'murmur-layers-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

function check(): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });
}

/** A small tree whose imports all point down (or sideways within a layer). */
function cleanTree(): void {
  write('hal/leds/led.ts', "import type { FsRoot } from '../fs-root.js';\nexport type Led = FsRoot;\n");
  write('hal/fs-root.ts', 'export type FsRoot = string;\n');
  write('runtime/core/reserved-keys.ts', "export const RESERVED_PREFIX = '_murmur/';\n");
  write('runtime/log/log.ts', "export type Level = 'info';\n");
  write('runtime/persist/atomic-file.ts', "import type { Level } from '../log/log.js';\nexport type L = Level;\n");
  write(
    'runtime/agent/agent.ts',
    [
      "import type { Level } from '../log/log.js';",
      'import {',
      '  RESERVED_PREFIX,',
      "} from '../core/reserved-keys.js';",
      "import type { Led } from '../../hal/leds/led.js';",
      "// import { main } from '../cli/main.js';",
      "/* import { main } from '../cli/main.js'; */",
      "const pattern = /'\\/\\//;",
      "export const use = [RESERVED_PREFIX, pattern, \"// from '../cli/main.js'\"] as unknown as [Level, Led];",
      '',
    ].join('\n'),
  );
  write('runtime/cli/main.ts', "export const load = () => import('../agent/agent.js');\n");
}

describe('check-layers', () => {
  it('passes on a tree where every import points down or within its layer', () => {
    cleanTree();
    const r = check();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/check-layers: 7 files, no folder imports from a folder above it/);
  });

  it('fails on an import of a higher folder and names the file, its line and both folders', () => {
    cleanTree();
    write(
      'runtime/trust/device-key.ts',
      ["import { RESERVED_PREFIX } from '../core/reserved-keys.js';", 'import {', '  writeFileAtomic,', "} from '../agent/agent.js';", ''].join('\n'),
    );
    const r = check();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('runtime/trust/device-key.ts:4: runtime/trust imports runtime/agent, which is above it');
    expect(r.stderr).toMatch(/1 violation\(s\)/);
  });

  it('fails when the hardware layer reaches into the runtime through a dynamic import', () => {
    cleanTree();
    write('hal/sensors/wifi.ts', "export const cfg = () => import('../../runtime/config/config.js');\n");
    const r = check();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('hal/sensors/wifi.ts:1: hal imports runtime/config, which is above it');
  });

  it('fails on a folder that is not in the layer list, so a new folder must be placed in it', () => {
    cleanTree();
    write('runtime/extra/thing.ts', 'export const x = 1;\n');
    const r = check();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('runtime/extra/thing.ts:1: runtime/extra is not in the layer list');
  });
});
