import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lineLogger } from '../../runtime/log/log.js';
import { StateDir } from '../../runtime/agent/state-dir.js';
import { writeFileAtomic } from '../../runtime/persist/atomic-file.js';
import { restrictMode } from '../../runtime/persist/secret-file.js';
import { loadKeyring } from '../../runtime/agent/keyring-store.js';

let dir: string;
let lines: string[];
const log = () => lineLogger((l) => lines.push(l), 'debug');
const JAN_2026 = Date.UTC(2026, 0, 1);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-state-'));
  lines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('identity', () => {
  it('is chosen once (hostname plus a suffix, since flashed images share hostnames) and kept', () => {
    const id = StateDir.open(dir, log()).identity(undefined);
    expect(id).toMatch(/-[0-9a-f]{4}$/);
    expect(StateDir.open(dir, log()).identity(undefined)).toBe(id);
  });
  it('a configured name wins, and a change of name is logged', () => {
    const s = StateDir.open(dir, log());
    s.identity(undefined);
    expect(s.identity('pi-kitchen')).toBe('pi-kitchen');
    expect(lines.join('\n')).toMatch(/event=identity-changed .*to=pi-kitchen/);
    expect(StateDir.open(dir, log()).identity(undefined)).toBe('pi-kitchen');
  });
  it('an unreadable identity file is an error naming the file, not a silent new identity', () => {
    writeFileSync(join(dir, 'identity.json'), '{broken');
    expect(() => StateDir.open(dir, log()).identity(undefined)).toThrow(/identity\.json: unreadable/);
  });
  it('an unwritable state directory is an error naming it', () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, '');
    expect(() => StateDir.open(join(file, 'sub'), log())).toThrow(/state directory .*plain-file\/sub/);
  });
});

describe('generation (boot counter)', () => {
  it('grows on every start, and is at least the wall-clock second', () => {
    const s = StateDir.open(dir, log());
    const g1 = s.nextGeneration(JAN_2026);
    const g2 = s.nextGeneration(JAN_2026);
    expect(g1).toBe(JAN_2026 / 1000);
    expect(g2).toBe(g1 + 1);
  });
  it('still grows when the clock is wrong after boot (no RTC: 1970)', () => {
    const s = StateDir.open(dir, log());
    const g1 = s.nextGeneration(JAN_2026);
    expect(s.nextGeneration(0)).toBe(g1 + 1);
    expect(s.nextGeneration(5_000)).toBe(g1 + 2);
  });
  it('a corrupt or missing boot record is recovered from its twin, never going below a generation already used', () => {
    const s = StateDir.open(dir, log());
    s.nextGeneration(JAN_2026); // a clock-based generation, far above the counter
    const used = s.nextGeneration(0);
    writeFileSync(join(dir, 'boot.json'), '\0\0\0');
    expect(s.nextGeneration(0)).toBe(used + 1);
    expect(lines.join('\n')).toMatch(/event=boot-record-corrupt .*recovered_from=.*boot\.json\.bak/);
    rmSync(join(dir, 'boot.json'));
    expect(s.nextGeneration(0)).toBe(used + 2);
    writeFileSync(join(dir, 'boot.json.bak'), '');
    expect(s.nextGeneration(0)).toBe(used + 3);
  });
  it('a crash between the two writes leaves the newer generation in one of them, and it wins', () => {
    const s = StateDir.open(dir, log());
    const g = s.nextGeneration(JAN_2026);
    // As if the process died after writing the twin and before the main record.
    writeFileSync(join(dir, 'boot.json.bak'), JSON.stringify({ gen: g + 1 }));
    expect(s.nextGeneration(0)).toBe(g + 2);
  });
  it('with both records damaged and the clock at 1970, the floor still numbers this start above every one before', () => {
    const s = StateDir.open(dir, log());
    const NOV_2026 = Date.UTC(2026, 10, 3);
    s.nextGeneration(NOV_2026);
    const used = s.nextGeneration(0);
    writeFileSync(join(dir, 'boot.json'), 'x');
    writeFileSync(join(dir, 'boot.json.bak'), '{"gen": "y"}');
    expect(s.nextGeneration(60_000)).toBe(used + 1);
    expect(lines.join('\n')).toMatch(/event=boot-record-corrupt .*recovered_from=.*boot\.floor/);
    // The records written by that start are good again, and the count goes on from them.
    rmSync(join(dir, 'boot.floor'));
    expect(s.nextGeneration(0)).toBe(used + 2);
  });
  it('the clock still lifts the generation when it is ahead of every record', () => {
    const s = StateDir.open(dir, log());
    s.nextGeneration(JAN_2026);
    writeFileSync(join(dir, 'boot.json'), 'x');
    writeFileSync(join(dir, 'boot.json.bak'), 'y');
    expect(s.nextGeneration(JAN_2026 + 60_000)).toBe(JAN_2026 / 1000 + 60);
  });
  it('with every record damaged, the start is refused naming the files and the way out, never numbered from the clock', () => {
    const s = StateDir.open(dir, log());
    const used = s.nextGeneration(JAN_2026);
    for (const f of ['boot.json', 'boot.json.bak', 'boot.floor']) writeFileSync(join(dir, f), '\0\0');
    let err: Error | undefined;
    try {
      s.nextGeneration(0);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(/boot counter: .*boot\.json, .*boot\.json\.bak, .*boot\.floor are damaged/);
    expect(err?.message).toContain(`rm -f ${join(dir, 'boot.json')} ${join(dir, 'boot.json.bak')} ${join(dir, 'boot.floor')}`);
    // Nothing was rewritten: the damaged records are still there to be looked at.
    expect(readFileSync(join(dir, 'boot.floor'), 'utf8')).toBe('\0\0');
    // The way out: with the records removed (and the clock checked), the clock numbers the start.
    for (const f of ['boot.json', 'boot.json.bak', 'boot.floor']) rmSync(join(dir, f));
    expect(s.nextGeneration(JAN_2026 + 5_000)).toBe(used + 5);
  });
});

describe('file modes at start', () => {
  const modeOf = (p: string): number => statSync(p).mode & 0o777;

  it('a state directory open to others is narrowed to 0700, and the fix is logged', () => {
    chmodSync(dir, 0o755);
    StateDir.open(dir, log());
    expect(modeOf(dir)).toBe(0o700);
    expect(lines.join('\n')).toMatch(/level=warn event=state-dir-mode-fixed .*was=0755 now=0700/);
  });
  it('with the API group, the group may pass through (0710) but not list', () => {
    chmodSync(dir, 0o775);
    StateDir.open(dir, log(), { groupAccess: true });
    expect(modeOf(dir)).toBe(0o710);
    lines = [];
    StateDir.open(dir, log(), { groupAccess: true });
    expect(lines).toEqual([]);
    StateDir.open(dir, log());
    expect(modeOf(dir)).toBe(0o700);
  });
  it('a new state directory is created 0700', () => {
    const sub = join(dir, 'new');
    StateDir.open(sub, log());
    expect(modeOf(sub)).toBe(0o700);
  });
  it('a fleet keyring readable by others is narrowed to 0600 before it is read, and the fix is logged', () => {
    const file = join(dir, 'keyring.json');
    loadKeyring(file, { graceMs: 0, fleetKeyFile: undefined, log: log() });
    expect(modeOf(file)).toBe(0o600);
    chmodSync(file, 0o644);
    loadKeyring(file, { graceMs: 0, fleetKeyFile: undefined, log: log() });
    expect(modeOf(file)).toBe(0o600);
    expect(lines.join('\n')).toMatch(/level=warn event=keyring-mode-fixed .*keyring\.json was=0644 now=0600/);
  });
  it('a secret murmur cannot narrow (another user owns it) stops the start with a message naming it and the fix', () => {
    const file = join(dir, 'keyring.json');
    writeFileSync(file, '{}', { mode: 0o644 });
    chmodSync(file, 0o644);
    // As if murmur ran as uid 4242: the file is root's, so chmod would be refused.
    expect(() => restrictMode(file, 0o600, 'fleet keyring', 4242)).toThrow(
      `fleet keyring ${file}: mode 0644 lets other users read or replace it (at most 0600 is allowed), and murmur (uid 4242) cannot change it: it belongs to uid ${statSync(file).uid}. Run as root: chown 4242 ${file} && chmod 600 ${file}`,
    );
    expect(modeOf(file)).toBe(0o644);
  });
});

describe('own keys', () => {
  it('round-trip strings, numbers, booleans and bytes', () => {
    const s = StateDir.open(dir, log());
    const keys = new Map<string, { value: string | number | boolean | Uint8Array }>([
      ['a', { value: 'x' }],
      ['b', { value: 21.5 }],
      ['c', { value: false }],
      ['d', { value: new Uint8Array([1, 2, 255]) }],
    ]);
    s.saveOwnKeys(keys);
    expect(StateDir.open(dir, log()).loadOwnKeys()).toEqual(keys);
  });
  it('a corrupt file is reported and kept aside; the node starts with no own keys rather than not at all', () => {
    writeFileSync(join(dir, 'own-keys.json'), '{"keys": [1,');
    const got = StateDir.open(dir, log()).loadOwnKeys();
    expect(got.size).toBe(0);
    expect(lines.join('\n')).toMatch(/level=error event=own-keys-unreadable/);
    expect(existsSync(join(dir, 'own-keys.json.corrupt'))).toBe(true);
  });
  it('a value of the wrong type is skipped and named', () => {
    writeFileSync(join(dir, 'own-keys.json'), JSON.stringify({ keys: { good: { value: 1 }, bad: { value: [1] } } }));
    expect([...StateDir.open(dir, log()).loadOwnKeys().keys()]).toEqual(['good']);
    expect(lines.join('\n')).toMatch(/event=own-key-skipped .*key=bad/);
  });
});

// A real full disk: a 64 KiB tmpfs. Needs root (CI runs as root); skipped, and said so, without.
const canMount = spawnSync('sh', ['-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; r=$?; rmdir "$d"; exit $r']).status === 0;

describe.skipIf(!canMount)('on a full disk', () => {
  let mnt: string;
  beforeEach(() => {
    mnt = mkdtempSync(join(tmpdir(), 'murmur-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  });
  afterEach(() => {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it('a failed write names the file and leaves the previous file intact; no temp file is left behind', () => {
    const sdir = join(mnt, 'state');
    mkdirSync(sdir);
    const s = StateDir.open(sdir, log());
    s.saveOwnKeys(new Map([['k', { value: 'old' }]]));
    const before = readFileSync(join(sdir, 'own-keys.json'), 'utf8');
    // Fill the filesystem.
    let i = 0;
    try {
      for (;;) writeFileSync(join(mnt, `fill${i++}`), Buffer.alloc(4096));
    } catch {
      // ENOSPC: full.
    }
    const big = new Map([['k', { value: 'x'.repeat(900) }], ...Array.from({ length: 50 }, (_, j) => [`k${j}`, { value: 'y'.repeat(900) }] as const)]);
    expect(() => s.saveOwnKeys(big)).toThrow(/writing .*own-keys\.json: .*ENOSPC/);
    expect(readFileSync(join(sdir, 'own-keys.json'), 'utf8')).toBe(before);
    expect(spawnSync('ls', ['-a', sdir], { encoding: 'utf8' }).stdout).not.toMatch(/tmp-/);
    expect(() => writeFileAtomic(join(sdir, 'boot.json'), 'x'.repeat(10_000))).toThrow(/boot\.json/);
  });
});

describe('lock', () => {
  it('refuses a second holder while the first lives, takes over one left by a process that is gone', () => {
    const a = StateDir.open(dir, log());
    a.lock();
    expect(() => StateDir.open(dir, log()).lock()).toThrow(new RegExp(`in use by another murmur \\(pid ${process.pid}`));
    a.unlock();
    const b = StateDir.open(dir, log());
    b.lock();
    b.unlock();
    // A pid above the kernel's maximum can belong to no process.
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(join(dir, 'murmur.lock'), JSON.stringify({ pid: 2 ** 22 + 1, boot }));
    const c = StateDir.open(dir, log());
    c.lock();
    expect(JSON.parse(readFileSync(join(dir, 'murmur.lock'), 'utf8'))).toEqual({ pid: process.pid, boot });
    c.unlock();
    // A live pid from an earlier boot (a power cut) is some other program now.
    writeFileSync(join(dir, 'murmur.lock'), JSON.stringify({ pid: process.pid, boot: 'an-earlier-boot' }));
    StateDir.open(dir, log()).lock();
    expect(lines.join('\n')).toMatch(/state-dir-lock-taken-over/);
  });
});
