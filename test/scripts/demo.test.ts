// `npm run demo` (dist/scripts/demo.js): five nodes and the fleet page on loopback come up, the
// page lists them, and one Ctrl-C stops everything and removes what the demo made.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DEMO = join(import.meta.dirname, '../../dist/scripts/demo.js');

describe('npm run demo', () => {
  it('starts five nodes with the page, prints its address, and stops cleanly on Ctrl-C', async () => {
    const proc = spawn(process.execPath, [DEMO, '--http', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    try {
      await until(() => out.includes('Ctrl-C stops the fleet'), 60_000, () => out);
      const url = /fleet page: (http:\/\/127\.0\.0\.1:\d+\/)#token=[A-Za-z0-9_-]+/.exec(out)?.[1];
      expect(url, out).toBeDefined();
      const stateDir = /--state-dir (\S+)/.exec(out)![1]!;
      // All five, alive, as the page shows them.
      let alive = 0;
      await until(
        async () => {
          const view = (await (await fetch(`${url}v1/fleet`)).json()) as { devices: Array<{ status: string }> };
          alive = view.devices.filter((d) => d.status === 'alive').length;
          return alive === 5;
        },
        30_000,
        () => `${alive} alive`,
      );
      proc.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(out).toMatch(/stopping the fleet\.\.\.\nstopped\n$/);
      expect(existsSync(dirname(stateDir))).toBe(false);
      await expect(fetch(`${url}v1/fleet`)).rejects.toThrow();
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 120_000);
});

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      // Not up yet.
    }
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
