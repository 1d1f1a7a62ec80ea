// The fleet keyring on disk: <state>/keyring.json, mode 0600, written atomically. Key bytes
// never leave this file and the sealed channel: not in logs, not in the API, not in `keys list`.
//
// First start: the keyring is seeded from security.fleetKeyFile (the fleet key written at flash
// time). Without one, the device makes up a key and says so loudly: it forms a fleet of one
// until it is given the fleet's key (`murmur keys install`). A keyring file that exists but
// cannot be read is an error, never a reason to make up a new key: that would silently cut the
// device off from its fleet. A keyring other users could read (a mode wider than 0600) is
// narrowed before it is read, and logged; one murmur cannot narrow stops the start.
//
// A keyring that is damaged, holds no usable key, or carries impossible stamps is mended by
// hand with the node stopped: `murmur keys install --state-dir DIR --force KEY` replaces it
// with that one key, keeping the old file as keyring.json.damaged. Every error here names it.

import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import nacl from '../crypto/nacl.js';
import { FLEET_KEY_BYTES, formatKeyId, Keyring, MAX_STAMP, type KeyRecord } from '../crypto/keyring.js';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { octal, restrictMode } from '../persist/secret-file.js';
import type { Logger } from '../log/log.js';
import type { KeyringGrant } from '../wire/keyring-offer.js';

export const KEYRING_FILE = 'keyring.json';

/** Parse a fleet key as text: base64 of 32 bytes. The error names `source`. */
export function parseFleetKey(text: string, source: string): Uint8Array {
  const t = text.trim();
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(t) ? Buffer.from(t, 'base64') : Buffer.alloc(0);
  if (bytes.length !== FLEET_KEY_BYTES) throw new Error(`${source}: expected a fleet key, ${FLEET_KEY_BYTES} bytes in base64 (murmur keys generate makes one)`);
  return new Uint8Array(bytes);
}

export function generateFleetKey(): string {
  return Buffer.from(nacl.randomBytes(FLEET_KEY_BYTES)).toString('base64');
}

export function loadKeyring(
  file: string,
  opts: { readonly graceMs: number; readonly fleetKeyFile: string | undefined; readonly log: Logger; readonly wallClock?: () => number },
): Keyring {
  const ring = new Keyring(opts.graceMs, opts.wallClock ?? Date.now);
  if (existsSync(file)) {
    // Before reading, so the keys are exposed for no longer than they have to be.
    const mode = restrictMode(file, 0o600, 'fleet keyring');
    if (mode?.fixed) opts.log.log('warn', 'keyring-mode-fixed', { file, was: octal(mode.was), now: '0600' });
    ring.merge(readRecords(file));
    if (ring.primaryId !== undefined) return ring;
    throw new Error(`${file}: holds no usable fleet key; with the node stopped, "murmur keys install --state-dir ${dirname(file)} --force KEY" replaces it (or remove the file to start from security.fleetKeyFile)`);
  }
  if (opts.fleetKeyFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.fleetKeyFile, 'utf8');
    } catch (e) {
      throw new Error(`security.fleetKeyFile ${opts.fleetKeyFile}: cannot read: ${(e as Error).message}`);
    }
    ring.use(ring.install(parseFleetKey(text, `security.fleetKeyFile ${opts.fleetKeyFile}`)));
    opts.log.log('info', 'fleet-key-imported', { from: opts.fleetKeyFile, key: formatKeyId(ring.primaryId!) });
  } else {
    ring.use(ring.install(nacl.randomBytes(FLEET_KEY_BYTES)));
    opts.log.log('warn', 'fleet-key-generated', {
      key: formatKeyId(ring.primaryId!),
      meaning: 'no security.fleetKeyFile: this device is a fleet of one until it gets the fleet key (murmur keys install)',
    });
  }
  saveKeyring(file, ring);
  return ring;
}

export function saveKeyring(file: string, ring: Keyring): void {
  const records = ring.records().map((r) => ({
    id: formatKeyId(r.id),
    ...(r.key ? { key: Buffer.from(r.key).toString('base64') } : {}),
    installed: r.installed,
    used: r.used,
    removed: r.removed,
    compromised: r.compromised,
  }));
  writeFileAtomic(file, JSON.stringify({ type: 'murmur-keyring', records }, null, 1) + '\n', 0o600);
}

function readRecords(file: string): KeyRecord[] {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: unreadable keyring (${(e as Error).message}); with the node stopped, "murmur keys install --state-dir ${dirname(file)} --force KEY" replaces it, or restore it from a backup`);
  }
  const list = (j as { records?: unknown })?.records;
  if (!Array.isArray(list)) throw new Error(`${file}: records: expected a list`);
  return list.map((r, i) => {
    const x = r as Record<string, unknown>;
    const where = `${file}: records[${i}]`;
    const stamp = (k: string): number => {
      const v = x[k];
      if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > MAX_STAMP) {
        throw new Error(`${where}.${k}: expected milliseconds since 1970 before the year 2200, got ${String(v)}; with the node stopped, "murmur keys install --state-dir ${dirname(file)} --force KEY" replaces the keyring`);
      }
      return v as number;
    };
    if (typeof x.id !== 'string' || !/^[0-9a-f]{8}$/.test(x.id)) throw new Error(`${where}.id: expected 8 hex digits`);
    const key = x.key === undefined ? undefined : parseFleetKey(String(x.key), `${where}.key`);
    return { id: parseInt(x.id, 16), key, installed: stamp('installed'), used: stamp('used'), removed: stamp('removed'), compromised: x.compromised === true };
  });
}

/** The newest keyring grant of the fleet admin this device checked (runtime/agent/key-sync.ts), beside the keyring. */
export const KEYRING_GRANT_FILE = 'keyring-grant.json';

/** A grant file, or undefined when there is none or it is unreadable (the next grant heard replaces it). */
export function loadKeyringGrant(file: string): KeyringGrant | undefined {
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as { type?: unknown; granted?: unknown; signature?: unknown };
    if (j.type !== 'murmur-keyring-grant' || typeof j.granted !== 'string' || typeof j.signature !== 'string') return undefined;
    return { granted: new Uint8Array(Buffer.from(j.granted, 'base64')), signature: new Uint8Array(Buffer.from(j.signature, 'base64')) };
  } catch {
    return undefined;
  }
}

export function saveKeyringGrant(file: string, grant: KeyringGrant): void {
  const text = JSON.stringify({ type: 'murmur-keyring-grant', granted: Buffer.from(grant.granted).toString('base64'), signature: Buffer.from(grant.signature).toString('base64') }, null, 1);
  writeFileAtomic(file, text + '\n', 0o600);
}
