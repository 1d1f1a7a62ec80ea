// What the config never prints: key material. Today the config holds only paths to keys and the
// admin's public key; these tests pin that, and the rule that hides any secret field added later.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../runtime/config/config.js';
import { HIDDEN, hideSecrets, isSecretField, looksLikeKey } from '../../runtime/config/secrets.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-secrets-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('secrets in the config', () => {
  it('a fleet key pasted where its file belongs is refused, and the error does not repeat it', () => {
    const key = randomBytes(32).toString('base64');
    expect(looksLikeKey(key)).toBe(true);
    const f = join(dir, 'murmur.yaml');
    writeFileSync(f, `security:\n  fleetKeyFile: ${key}\n`);
    let message = '';
    try {
      loadConfig(f);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(
      `config ${f}:2: security.fleetKeyFile: expected the path of a file holding the fleet key, got what looks like the key itself (not shown): put it in a file readable only by murmur and give that path`,
    );
    expect(message).not.toContain(key);
    // Paths are not keys, even base64-looking ones.
    expect(looksLikeKey('/etc/murmur/fleet.key')).toBe(false);
    expect(looksLikeKey(randomBytes(31).toString('base64'))).toBe(false);
  });

  it('the rule for fields that hold secrets: by name, so a field added later is hidden without a list to update', () => {
    for (const p of ['security.fleetKey', 'security.privateKey', 'x.key', 'hal.sensors[0].token', 'api.password', 'api.clientSecret', 'mqtt.passphrase', 'a.apiToken']) {
      expect(isSecretField(p), p).toBe(true);
    }
    // Paths to keys and public keys are shown.
    for (const p of ['security.fleetKeyFile', 'security.adminPublicKey', 'security.keyGraceDays', 'node.name', 'hal.leds[0].led', 'monkey']) {
      expect(isSecretField(p), p).toBe(false);
    }
  });

  it('hideSecrets replaces secret values at any depth and keeps everything else', () => {
    const shown = hideSecrets({
      security: { fleetKey: 'c2VjcmV0', fleetKeyFile: '/etc/murmur/fleet.key', adminPublicKey: 'cHVibGlj' },
      sinks: [{ url: 'mqtt://broker', token: 't0k3n' }],
      unset: { password: null },
    });
    expect(shown).toEqual({
      security: { fleetKey: HIDDEN, fleetKeyFile: '/etc/murmur/fleet.key', adminPublicKey: 'cHVibGlj' },
      sinks: [{ url: 'mqtt://broker', token: HIDDEN }],
      // An unset secret is shown as unset: nothing to hide.
      unset: { password: null },
    });
  });

  it('no field of today\'s config is hidden: every value is a path, a public key or not secret', () => {
    const c = loadConfig(undefined, { 'security.fleetKeyFile': '/etc/murmur/fleet.key', 'security.adminPublicKey': randomBytes(32).toString('base64') });
    const plain = JSON.parse(JSON.stringify(c)) as unknown;
    expect(hideSecrets(plain)).toEqual(plain);
  });
});
