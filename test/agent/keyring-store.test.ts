import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateFleetKey, loadKeyring, parseFleetKey, saveKeyring } from '../../runtime/agent/keyring-store.js';
import type { Logger } from '../../runtime/log/log.js';
import { formatKeyId, keyId, Keyring } from '../../runtime/crypto/keyring.js';

describe('the keyring file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-keyring-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const events: string[] = [];
  const log: Logger = { log: (_level, event) => events.push(event) };

  it('a keyring others can read (0644) is made 0600 at start, and the fix is logged', () => {
    const file = join(dir, 'keyring.json');
    const key = parseFleetKey(generateFleetKey(), 'test');
    const ring = new Keyring(1000);
    ring.use(ring.install(key));
    saveKeyring(file, ring);
    chmodSync(file, 0o644);
    const loaded = loadKeyring(file, { graceMs: 1000, fleetKeyFile: undefined, log });
    expect(loaded.primaryId).toBe(keyId(key));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(events).toContain('keyring-mode-fixed');
  });

  it('a stamp past the year 2200 (2^53 included) stops the start with the recovery command', () => {
    const file = join(dir, 'keyring.json');
    const key = generateFleetKey();
    const id = formatKeyId(keyId(parseFleetKey(key, 'test')));
    writeFileSync(file, JSON.stringify({ type: 'murmur-keyring', records: [{ id, key, installed: 1, used: 2 ** 53, removed: 0, compromised: false }] }), { mode: 0o600 });
    expect(() => loadKeyring(file, { graceMs: 1000, fleetKeyFile: undefined, log })).toThrow(`records[0].used: expected milliseconds since 1970 before the year 2200, got 9007199254740992; with the node stopped, "murmur keys install --state-dir ${dir} --force KEY" replaces the keyring`);
  });
});
