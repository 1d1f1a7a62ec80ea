import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// A user who may not enter the state directory: the built binary, run as "nobody". Only root
// can start a process as another user, so elsewhere this is skipped.

const BIN = join(import.meta.dirname, '../../dist/runtime/cli/bin.js');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-perm-'));
  chmodSync(dir, 0o700);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('a user without access to the API socket', () => {
  it.skipIf(process.getuid?.() !== 0)('is told about api.group and the socket path, exit 1', () => {
    const socket = join(dir, 'murmur.sock');
    const r = spawnSync(process.execPath, [BIN, 'status', '--socket', socket], { uid: 65534, gid: 65534, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`API at ${socket}: permission denied (EACCES)`);
    expect(r.stderr).toMatch(/set api\.group in the node's config to a group you are in/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
