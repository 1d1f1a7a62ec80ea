import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminKeyFile, loadAdminKey, parsePublicKey } from '../../runtime/trust/admin-key.js';
import { signCertificate, verifyCertificate } from '../../runtime/trust/certificate.js';
import { generateSigningKey } from '../../runtime/trust/ed25519.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-admin-key-'));
  file = join(dir, 'admin-key.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('admin key file', () => {
  it('is created with mode 0600 and loads back as a key that signs certificates', () => {
    const key = createAdminKeyFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ type: 'murmur-admin-key' });
    const loaded = loadAdminKey(file);
    expect(loaded).toEqual(key);
    const cert = signCertificate('n1', generateSigningKey().publicKey, loaded.secretKey);
    expect(verifyCertificate(cert, key.publicKey)).toBe(true);
  });

  it('is never overwritten', () => {
    const key = createAdminKeyFile(file);
    expect(() => createAdminKeyFile(file)).toThrow(`${file}: already exists; refusing to overwrite an admin key`);
    expect(loadAdminKey(file)).toEqual(key);
  });

  it('loading names the file and what is wrong', () => {
    expect(() => loadAdminKey(file)).toThrow(`${file}: no such admin key file (create one with: murmur admin init --out ${file})`);
    writeFileSync(file, JSON.stringify({ type: 'murmur-device-key', publicKey: '', secretKey: '' }));
    expect(() => loadAdminKey(file)).toThrow(`${file}: type: expected "murmur-admin-key", got "murmur-device-key"`);
    createAdminKeyFile(join(dir, 'good.json'));
    const j = JSON.parse(readFileSync(join(dir, 'good.json'), 'utf8')) as Record<string, string>;
    const secret = Buffer.from(j.secretKey!, 'base64');
    secret[0]! ^= 1;
    writeFileSync(file, JSON.stringify({ ...j, secretKey: secret.toString('base64') }));
    expect(() => loadAdminKey(file)).toThrow(`${file}: publicKey does not belong to secretKey (one of them is damaged)`);
  });
});

describe('parsePublicKey', () => {
  it('accepts base64 of 32 bytes, with surrounding whitespace', () => {
    const k = generateSigningKey().publicKey;
    const b64 = Buffer.from(k).toString('base64');
    expect(parsePublicKey(b64, 'config')).toEqual(k);
    expect(parsePublicKey(` ${b64}\n`, 'config')).toEqual(k);
  });

  it('names the source and the problem', () => {
    expect(() => parsePublicKey(Buffer.alloc(12).toString('base64'), 'security.adminPublicKey')).toThrow(
      'security.adminPublicKey: expected 32 bytes of base64, got 12',
    );
    expect(() => parsePublicKey('not base64 at all', 'security.adminPublicKey')).toThrow(/not base64/);
    // A key with one character dropped must not silently decode to another key.
    const b64 = Buffer.from(generateSigningKey().publicKey).toString('base64');
    expect(() => parsePublicKey(b64.slice(0, 20) + b64.slice(21), 'x')).toThrow(/x: expected 32 bytes of base64/);
  });
});
