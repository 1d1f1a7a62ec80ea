// `murmur keys` in-process, with no node running: generate, the "not running" answer of list,
// and the offline edits of <state>/keyring.json that install/use/remove fall back to.

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../runtime/cli/main.js';
import { recordingIo } from './recording-io.js';
import { parseFleetKey } from '../../runtime/agent/keyring-store.js';
import { formatKeyId, keyId } from '../../runtime/crypto/keyring.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = recordingIo();
  const code = await main(argv, io);
  return { code, out: io.outLines.join('\n'), err: io.errLines.join('\n') };
}

interface FileRecord {
  id: string;
  key?: string;
  installed: number;
  used: number;
  removed: number;
  compromised: boolean;
}

/** The keyring file as it is on disk: its mode and its records. */
function keyringFile(dir: string): { mode: number; type: unknown; records: FileRecord[] } {
  const file = join(dir, 'keyring.json');
  const j = JSON.parse(readFileSync(file, 'utf8')) as { type: unknown; records: FileRecord[] };
  return { mode: statSync(file).mode & 0o777, type: j.type, records: j.records };
}

const idOf = (key: string): string => formatKeyId(keyId(parseFleetKey(key, 'test')));

async function generate(): Promise<string> {
  const r = await run('keys', 'generate');
  expect(r.code).toBe(0);
  return r.out.trim();
}

describe('murmur keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('generate prints a fresh fleet key: 32 random bytes in base64, different every time', async () => {
    const a = await generate();
    const b = await generate();
    expect(a).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a, 'base64')).toHaveLength(32);
    expect(parseFleetKey(a, 'generated')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('list with no node running exits 3 and names the socket it tried', async () => {
    const r = await run('keys', 'list', '--state-dir', dir);
    expect(r.code).toBe(3);
    expect(r.out).toBe('');
    expect(r.err).toContain(`no API at ${join(dir, 'murmur.sock')}`);
    expect(r.err).toMatch(/murmur is not running/);
    expect(r.err).not.toMatch(/^\s+at /m);
    // --socket wins over the state directory's default.
    const s = await run('keys', 'list', '--state-dir', dir, '--socket', join(dir, 'elsewhere.sock'));
    expect(s.code).toBe(3);
    expect(s.err).toContain(join(dir, 'elsewhere.sock'));
  });

  it('offline install/use/remove edit the keyring file (mode 0600) and say so: a whole rotation by hand', async () => {
    const first = await generate();
    const second = await generate();

    // No keyring yet: install creates one, and its only key is the primary.
    let r = await run('keys', 'install', first, '--state-dir', dir);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`murmur is not running: changed ${join(dir, 'keyring.json')}`);
    expect(r.err).toContain(`primary ${idOf(first)}`);
    let k = keyringFile(dir);
    expect(k.mode).toBe(0o600);
    expect(k.type).toBe('murmur-keyring');
    expect(k.records).toHaveLength(1);
    expect(k.records[0]).toMatchObject({ id: idOf(first), key: first, removed: 0, compromised: false });
    expect(k.records[0]!.used).toBeGreaterThan(0);

    // A second key from a file: installed, not yet the primary.
    const keyFile = join(dir, 'new.key');
    writeFileSync(keyFile, second + '\n');
    r = await run('keys', 'install', '--file', keyFile, '--state-dir', dir);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`primary ${idOf(first)}`);
    k = keyringFile(dir);
    expect(k.records.map((x) => x.id).sort()).toEqual([idOf(first), idOf(second)].sort());
    expect(k.records.find((x) => x.id === idOf(second))).toMatchObject({ key: second, used: 0 });

    r = await run('keys', 'use', idOf(second), '--state-dir', dir);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`primary ${idOf(second)}`);
    k = keyringFile(dir);
    const used = (id: string): number => k.records.find((x) => x.id === id)!.used;
    expect(used(idOf(second))).toBeGreaterThan(used(idOf(first)));

    // Retire the old key: its bytes stay (a device that slept through the rotation still gets a handoff).
    r = await run('keys', 'remove', idOf(first), '--state-dir', dir);
    expect(r.code).toBe(0);
    k = keyringFile(dir);
    const old = k.records.find((x) => x.id === idOf(first))!;
    expect(old.removed).toBeGreaterThan(old.installed);
    expect(old).toMatchObject({ key: first, compromised: false });
    expect(k.mode).toBe(0o600);

    // Compromised: the bytes are erased from the file, and the key can never come back.
    r = await run('keys', 'remove', idOf(first), '--compromised', '--state-dir', dir);
    expect(r.code).toBe(0);
    k = keyringFile(dir);
    expect(k.records.find((x) => x.id === idOf(first))).toMatchObject({ compromised: true });
    expect(k.records.find((x) => x.id === idOf(first))!.key).toBeUndefined();
    expect(readFileSync(join(dir, 'keyring.json'), 'utf8')).not.toContain(first);
    r = await run('keys', 'install', first, '--state-dir', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`fleet key ${idOf(first)}: was removed as compromised and cannot be installed again`);
  });

  it('offline edits refuse bad ids and keys with a message naming what was wrong, and leave the file alone', async () => {
    const key = await generate();
    expect((await run('keys', 'install', key, '--state-dir', dir)).code).toBe(0);
    const before = readFileSync(join(dir, 'keyring.json'), 'utf8');

    let r = await run('keys', 'use', 'not-an-id', '--state-dir', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('key id: expected 8 hex digits, got "not-an-id"');

    r = await run('keys', 'use', 'DEADBEEF', '--state-dir', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('expected 8 hex digits, got "DEADBEEF"');

    r = await run('keys', 'use', '0badc0de', '--state-dir', dir);
    expect(r.code).toBe(4);
    expect(r.err).toContain('fleet key 0badc0de: not installed');

    r = await run('keys', 'remove', idOf(key), '--state-dir', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`fleet key ${idOf(key)}: is the primary; install and use another key first`);

    r = await run('keys', 'use', '--state-dir', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/murmur keys use: expected a key id/);

    r = await run('keys', 'install', '--file', join(dir, 'missing.key'), '--state-dir', dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--file ${join(dir, 'missing.key')}: cannot read`);

    for (const bad of ['not base64!', Buffer.alloc(16).toString('base64'), `${key}AAAA`]) {
      r = await run('keys', 'install', bad, '--state-dir', dir);
      expect(r.code, bad).toBe(2);
      expect(r.err, bad).toBe('KEY: expected a fleet key, 32 bytes in base64 (murmur keys generate makes one)');
    }
    const badFile = join(dir, 'bad.key');
    writeFileSync(badFile, 'hello\n');
    r = await run('keys', 'install', '--file', badFile, '--state-dir', dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${badFile}: expected a fleet key`);

    expect(readFileSync(join(dir, 'keyring.json'), 'utf8')).toBe(before);
  });

  it('use or remove before any keyring exists points at install', async () => {
    const r = await run('keys', 'use', '0badc0de', '--state-dir', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(dir, 'keyring.json')}: no keyring yet; "murmur keys install" creates one`);
  });

  it('an unreadable keyring file is reported, never replaced', async () => {
    writeFileSync(join(dir, 'keyring.json'), '{"records": [', { mode: 0o600 });
    const r = await run('keys', 'install', await generate(), '--state-dir', dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/keyring\.json: unreadable keyring/);
    expect(readFileSync(join(dir, 'keyring.json'), 'utf8')).toBe('{"records": [');
  });

  it('--help (and no subcommand) prints the usage and exits 0; unknown subcommands and options exit 2 with it', async () => {
    for (const argv of [['keys', '--help'], ['keys'], ['keys', 'help'], ['keys', 'list', '--help']]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.out).toMatch(/^usage: murmur keys <command>/);
      expect(r.out).toMatch(/A rotation: install NEW, wait until every device lists it, use NEW, then remove\s+OLD/);
      expect(r.err).toBe('');
    }
    let r = await run('keys', 'rotate', '--state-dir', dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/murmur keys: unknown command "rotate"/);
    r = await run('keys', 'list', '--frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/murmur keys: unknown option "--frobnicate"/);
    expect(r.err).toMatch(/usage: murmur keys/);
    r = await run('keys', 'list', '--state-dir');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--state-dir: expected a value/);
  });
});

describe('murmur keys: mending a keyring by hand', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a damaged keyring (unreadable, no usable key, or a stamp of 2^53) is refused by name with its remedy, and replaced by "keys install --force" with the node stopped; the old file is kept', async () => {
    const key = await generate();
    const file = join(dir, 'keyring.json');
    const damaged = [
      '{"type": "murmur-keyring", "records": [',
      JSON.stringify({ type: 'murmur-keyring', records: [{ id: idOf(key), installed: 1, used: 1, removed: 2, compromised: true }] }),
      JSON.stringify({ type: 'murmur-keyring', records: [{ id: idOf(key), key, installed: 1, used: 9007199254740992, removed: 0, compromised: false }] }),
    ];
    for (const text of damaged) {
      writeFileSync(file, text);
      const refused = await run('keys', 'install', key, '--state-dir', dir);
      expect(refused.code, text).toBe(1);
      expect(refused.err).toContain(`murmur keys install --state-dir ${dir} --force KEY`);
      const r = await run('keys', 'install', key, '--force', '--state-dir', dir);
      expect(r.code, text).toBe(0);
      expect(r.err).toContain(`kept as ${file}.damaged`);
      expect(readFileSync(`${file}.damaged`, 'utf8')).toBe(text);
      const k = keyringFile(dir);
      expect(k.mode).toBe(0o600);
      expect(k.records).toHaveLength(1);
      expect(k.records[0]).toMatchObject({ id: idOf(key), key, removed: 0, compromised: false });
    }
  });

  it('--force takes back a key the keyring marks compromised, and only with the node stopped', async () => {
    const key = await generate();
    const other = await generate();
    expect((await run('keys', 'install', key, '--state-dir', dir)).code).toBe(0);
    expect((await run('keys', 'install', other, '--state-dir', dir)).code).toBe(0);
    expect((await run('keys', 'use', idOf(other), '--state-dir', dir)).code).toBe(0);
    expect((await run('keys', 'remove', idOf(key), '--compromised', '--state-dir', dir)).code).toBe(0);
    expect((await run('keys', 'install', key, '--state-dir', dir)).code).toBe(1);
    const r = await run('keys', 'install', key, '--force', '--state-dir', dir);
    expect(r.code).toBe(0);
    expect(keyringFile(dir).records).toEqual([expect.objectContaining({ id: idOf(key), key, compromised: false })]);
    expect((await run('keys', 'use', idOf(key), '--force', '--state-dir', dir)).code).toBe(2);
  });
});
