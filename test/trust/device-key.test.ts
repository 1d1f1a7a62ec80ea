import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { certificateToJson, signCertificate, verifyCertificate } from '../../runtime/trust/certificate.js';
import { loadCertificate, loadDeviceKey, loadOrCreateDeviceKey } from '../../runtime/trust/device-key.js';
import { generateSigningKey, publicKeyOf, signBytes, verifyBytes } from '../../runtime/trust/ed25519.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-device-key-'));
  file = join(dir, 'device-key.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function rewrite(patch: Record<string, unknown>): void {
  const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...j, ...patch }), { mode: 0o600 });
}

describe('device key', () => {
  it('is created on first start, mode 0600, and the same key comes back afterwards', () => {
    const first = loadOrCreateDeviceKey(dir);
    expect(first.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(j).toMatchObject({ type: 'murmur-device-key', publicKey: Buffer.from(first.key.publicKey).toString('base64') });
    expect(publicKeyOf(first.key.secretKey)).toEqual(first.key.publicKey);

    const again = loadOrCreateDeviceKey(dir);
    expect(again.created).toBe(false);
    expect(again.key).toEqual(first.key);
    const msg = new TextEncoder().encode('hello');
    expect(verifyBytes(msg, signBytes(msg, again.key.secretKey), first.key.publicKey)).toBe(true);
  });

  it('creates a missing state directory', () => {
    const nested = join(dir, 'a', 'b');
    expect(loadOrCreateDeviceKey(nested).created).toBe(true);
    expect(existsSync(join(nested, 'device-key.json'))).toBe(true);
  });

  it('tightens a key file readable by others to 0600', () => {
    loadOrCreateDeviceKey(dir);
    chmodSync(file, 0o644);
    const r = loadOrCreateDeviceKey(dir);
    expect(r).toMatchObject({ created: false, modeFixed: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateDeviceKey(dir).modeFixed).toBe(false);
  });

  it.each([
    ['not JSON', () => writeFileSync(file, '{"type": "murmur-dev'), /device-key\.json: not JSON/],
    ['an empty file', () => writeFileSync(file, ''), /device-key\.json: not JSON/],
    ['the wrong type', () => rewrite({ type: 'murmur-admin-key' }), /device-key\.json: type: expected "murmur-device-key", got "murmur-admin-key"/],
    ['a short secret', () => rewrite({ secretKey: Buffer.alloc(31).toString('base64') }), /device-key\.json: secretKey: expected 32 bytes of base64, got 31/],
    ['a mangled public key', () => rewrite({ publicKey: 'AB$C' }), /device-key\.json: publicKey: expected 32 bytes of base64, got "AB\$C" \(not base64\)/],
    [
      'a public key of another secret',
      () => rewrite({ publicKey: Buffer.from(generateSigningKey().publicKey).toString('base64') }),
      /device-key\.json: publicKey does not belong to secretKey/,
    ],
  ])('a key file with %s is an error naming it and the remedy, never a new key', (_what, damage, message) => {
    const { key } = loadOrCreateDeviceKey(dir);
    damage();
    const before = readFileSync(file);
    expect(() => loadOrCreateDeviceKey(dir)).toThrow(message);
    expect(() => loadOrCreateDeviceKey(dir)).toThrow(/restore the file from a backup, or delete it to give the device a new identity/);
    expect(readFileSync(file)).toEqual(before);
    expect(key.publicKey.length).toBe(32);
  });

  it('loadDeviceKey does not create one', () => {
    expect(loadDeviceKey(dir)).toBeUndefined();
    expect(existsSync(file)).toBe(false);
  });
});

describe('certificate in the state directory', () => {
  it('is undefined when absent, and parsed when present', () => {
    expect(loadCertificate(dir)).toBeUndefined();
    const admin = generateSigningKey();
    const { key } = loadOrCreateDeviceKey(dir);
    const cert = signCertificate('n1', key.publicKey, admin.secretKey);
    writeFileSync(join(dir, 'certificate.json'), certificateToJson(cert) + '\n');
    const loaded = loadCertificate(dir)!;
    expect(loaded).toEqual(cert);
    expect(verifyCertificate(loaded, admin.publicKey)).toBe(true);
  });

  it('a damaged one is an error naming the file and field', () => {
    writeFileSync(join(dir, 'certificate.json'), JSON.stringify({ type: 'murmur-certificate', id: 'n1', publicKey: 'AAAA', signature: '' }));
    expect(() => loadCertificate(dir)).toThrow(`${join(dir, 'certificate.json')}: publicKey: expected 32 bytes of base64, got 3`);
  });
});
