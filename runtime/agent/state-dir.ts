// The device's persistent state: who it is, how many times it has started, and the keys it
// owns. This is the only durable state murmur has; everything else is soft state rebuilt from
// the fleet. Each file is written atomically, and the boot record also keeps its previous
// version, so a torn or corrupt file falls back to the last good one instead of starting over.
//
// The generation that orders this device's lives is max(previous + 1, wall-clock seconds), as
// Cassandra does: it grows on every start even when the clock is wrong after boot (no RTC), and
// a device whose state directory was wiped still comes back above its old life when the clock
// is right. It is written before the node says anything, so a crash cannot reuse it.
//
// The counter is kept in three files (boot.json, its twin boot.json.bak and the floor
// boot.floor), each written atomically, and the highest readable one counts: a damaged SD card
// has to lose all three before the clock alone could decide. When records exist and none can
// be read, the start is refused: a generation at or below one already used would make the
// fleet ignore this device (or take its new life for the old one), and only a person can tell
// whether the clock is right to start over from.
//
// The directory is 0700 (0710 when the API's group must reach a socket inside it), enforced at
// every start: it holds the device key and the fleet keyring.

import { existsSync, mkdirSync, readFileSync, accessSync, constants, copyFileSync, openSync, writeSync, closeSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Value } from '../core/messages.js';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { octal, restrictMode } from '../persist/secret-file.js';
import type { Logger } from '../log/log.js';

export interface OwnKey {
  readonly value: Value;
}

const BOOT = 'boot.json';
const BOOT_FLOOR = 'boot.floor';
const IDENTITY = 'identity.json';
const KEYS = 'own-keys.json';
const LOCK = 'murmur.lock';

export class StateDir {
  private constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  /**
   * Create the directory if needed, narrow its mode to 0700 (0710 with `groupAccess`: the API
   * group may pass through to its socket, never list), and check it is writable. A mode that
   * was wider is fixed and logged; one that cannot be fixed is an error naming the directory.
   */
  static open(dir: string, log: Logger, opts: { readonly groupAccess?: boolean } = {}): StateDir {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new Error(`state directory ${dir}: ${(e as Error).message}`);
    }
    const allowed = opts.groupAccess === true ? 0o710 : 0o700;
    const mode = restrictMode(dir, allowed, 'state directory');
    if (mode?.fixed) log.log('warn', 'state-dir-mode-fixed', { dir, was: octal(mode.was), now: octal(mode.was & allowed) });
    try {
      accessSync(dir, constants.W_OK);
    } catch (e) {
      throw new Error(`state directory ${dir}: ${(e as Error).message}`);
    }
    return new StateDir(dir, log);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /**
   * Claim the directory for this process before anything in it changes: a second node on the
   * same directory would advance the boot counter under the first one's feet. The lock file
   * holds the owner's pid and the kernel's boot id; one left behind by a process that is gone
   * (a crash) or by an earlier boot (a power cut: its pid may now be another program's) is
   * taken over.
   */
  lock(): void {
    const file = this.path(LOCK);
    for (let attempt = 0; ; attempt++) {
      let fd: number;
      try {
        fd = openSync(file, 'wx', 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw new Error(`state directory ${this.dir}: cannot take ${file}: ${(e as Error).message}`);
        const lock = this.#readJson(file, (j) => (Number.isSafeInteger(j.pid) ? { pid: j.pid as number, boot: j.boot } : undefined));
        const owner = lock?.pid;
        if (lock !== undefined && lock.boot === bootId() && murmurRunsAs(lock.pid)) {
          throw new Error(`state directory ${this.dir} is in use by another murmur (pid ${owner}, ${file}); stop it first, or give this node another --state-dir`);
        }
        this.log.log('info', 'state-dir-lock-taken-over', { file, pid: owner });
        unlinkSync(file);
        continue;
      }
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, boot: bootId() }) + '\n');
      } finally {
        closeSync(fd);
      }
      return;
    }
  }

  /** Release what lock() took. */
  unlock(): void {
    try {
      unlinkSync(this.path(LOCK));
    } catch {
      // Already gone: nothing to release.
    }
  }

  /** This device's node id: `configured` if given, else the one chosen on first start. */
  identity(configured: string | undefined): string {
    const file = this.path(IDENTITY);
    const stored = this.#readJson(file, (j) => (typeof j.id === 'string' && j.id.length > 0 ? j.id : undefined));
    if (configured) {
      if (stored !== undefined && stored !== configured) {
        this.log.log('warn', 'identity-changed', { from: stored, to: configured, file });
      }
      if (stored !== configured) writeFileAtomic(file, JSON.stringify({ id: configured }) + '\n');
      return configured;
    }
    if (stored !== undefined) return stored;
    if (existsSync(file)) {
      throw new Error(`${file}: unreadable or not {"id": "..."}; set node.name in the config or remove the file to pick a new identity`);
    }
    // Flashed images often share one hostname ("raspberrypi"); the suffix keeps ids unique.
    const id = `${hostname().slice(0, 40)}-${randomBytes(2).toString('hex')}`;
    writeFileAtomic(file, JSON.stringify({ id }) + '\n');
    return id;
  }

  /**
   * Advance and persist the boot counter; returns the generation for this start: above every
   * readable record (boot.json, boot.json.bak, boot.floor) and at least the wall-clock second.
   * Throws, naming the files and the way out, when records exist and none can be read.
   */
  nextGeneration(wallClockMs: number): number {
    const files = [this.path(BOOT), this.path(`${BOOT}.bak`), this.path(BOOT_FLOOR)];
    const readGen = (f: string): number | undefined =>
      this.#readJson(f, (j) => (Number.isSafeInteger(j.gen) && (j.gen as number) > 0 ? (j.gen as number) : undefined));
    const gens = files.map(readGen);
    const readable = gens.filter((g): g is number => g !== undefined);
    const damaged = files.filter((f, i) => gens[i] === undefined && existsSync(f));
    if (readable.length === 0 && damaged.length > 0) {
      throw new Error(
        `boot counter: ${damaged.join(', ')} ${damaged.length === 1 ? 'is' : 'are'} damaged and no other record is readable, so this start cannot be ` +
          `numbered above the last one (the fleet would ignore it). Check that the clock is right (date; timedatectl), then remove ` +
          `the records to count from the clock: rm -f ${files.join(' ')}`,
      );
    }
    const previous = Math.max(0, ...readable);
    for (const f of damaged) this.log.log('warn', 'boot-record-corrupt', { file: f, recovered_from: files[gens.indexOf(previous)] });
    const gen = Math.max(previous + 1, Math.floor(wallClockMs / 1000));
    const text = JSON.stringify({ gen }) + '\n';
    // One at a time: a crash between two writes leaves the new number in one file and the old in the others.
    for (const f of [files[1]!, files[0]!, files[2]!]) writeFileAtomic(f, text);
    return gen;
  }

  /** The keys this device published before it stopped. A damaged file is reported and skipped, never fatal. */
  loadOwnKeys(): Map<string, OwnKey> {
    const file = this.path(KEYS);
    const out = new Map<string, OwnKey>();
    if (!existsSync(file)) return out;
    const keys = this.#readJson(file, (j) => (j.keys && typeof j.keys === 'object' ? (j.keys as Record<string, unknown>) : undefined));
    if (!keys) {
      this.log.log('error', 'own-keys-unreadable', { file, action: 'starting with no own keys; the file is kept as .corrupt' });
      try {
        copyFileSync(file, `${file}.corrupt`);
      } catch {
        // Best effort only.
      }
      return out;
    }
    for (const [k, v] of Object.entries(keys)) {
      const value = decodeValue((v as { value?: unknown })?.value);
      if (value === undefined) this.log.log('warn', 'own-key-skipped', { file, key: k, reason: 'value is not a string, number, boolean or {"base64": ...}' });
      else out.set(k, { value });
    }
    return out;
  }

  /** Persist the keys this device owns. Throws (naming the file) on a full disk; the old file stays intact. */
  saveOwnKeys(keys: ReadonlyMap<string, OwnKey>): void {
    const obj = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of keys) obj[k] = { value: encodeValue(v.value) };
    writeFileAtomic(this.path(KEYS), JSON.stringify({ keys: obj }, null, 1) + '\n');
  }

  #readJson<T>(file: string, pick: (j: Record<string, unknown>) => T | undefined): T | undefined {
    try {
      const j = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (!j || typeof j !== 'object') return undefined;
      return pick(j as Record<string, unknown>);
    } catch {
      return undefined;
    }
  }
}

/** This boot of the machine (Linux); null elsewhere, where pids alone have to do. */
function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** Whether `pid` is a live process that could be murmur, not a pid another program has since. */
function murmurRunsAs(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /murmur|cli\/bin\.js/.test(cmdline);
  } catch {
    // No /proc (not Linux): the pid being alive has to do.
    return true;
  }
}

function encodeValue(v: Value): unknown {
  return v instanceof Uint8Array ? { base64: Buffer.from(v).toString('base64') } : v;
}

function decodeValue(v: unknown): Value | undefined {
  if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  if (v && typeof v === 'object' && typeof (v as { base64?: unknown }).base64 === 'string') {
    return new Uint8Array(Buffer.from((v as { base64: string }).base64, 'base64'));
  }
  return undefined;
}
