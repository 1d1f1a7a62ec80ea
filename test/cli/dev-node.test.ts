import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { begin, run } from './recording-io.js';

// A person tries murmur from a checkout: `npm start` in one terminal (its state in
// ./.murmur-dev), then `murmur status` in another, with no options at all.

let dir: string;
let cwd: string;
beforeEach(() => {
  cwd = process.cwd();
  dir = mkdtempSync(join(tmpdir(), 'murmur-dev-'));
  process.chdir(dir);
});
afterEach(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

describe('the CLI without --state-dir or --config', () => {
  it.skipIf(existsSync('/var/lib/murmur/murmur.sock'))('finds the node "npm start" started in this directory, and says so', async () => {
    const none = await run(['status']);
    expect(none.code).toBe(3);
    expect(none.err).toContain('no API at /var/lib/murmur/murmur.sock');

    const node = begin(['start', '--state-dir', '.murmur-dev', '--name', 'laptop', '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware']);
    let r = await run(['status']);
    for (let i = 0; i < 800 && r.code !== 0; i++) {
      await new Promise((res) => setTimeout(res, 25));
      r = await run(['status']);
    }
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^device\s+laptop\s/m);
    expect(r.err).toBe('murmur: no node at /var/lib/murmur/murmur.sock; using the one in ./.murmur-dev (started by "npm start"). Pass --state-dir or --config to choose.\n');
    // The note goes to stderr, so --json output stays a JSON document.
    const j = await run(['members', '--json']);
    expect(JSON.parse(j.out)).toEqual([]);
    expect(node.io.signal('SIGTERM')).toBe(true);
    expect(await node.exited).toBe(0);
  });
});
