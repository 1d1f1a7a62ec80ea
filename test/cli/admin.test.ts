import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../runtime/cli/main.js';
import { recordingIo } from './recording-io.js';
import { loadAdminKey } from '../../runtime/trust/admin-key.js';
import { parseCertificate, verifyCertificate } from '../../runtime/trust/certificate.js';
import { loadOrCreateDeviceKey } from '../../runtime/trust/device-key.js';
import { fingerprint, generateSigningKey } from '../../runtime/trust/ed25519.js';
import { decodeRevocation, encodeRevocation, parseRevocation, verifyRevocation } from '../../runtime/trust/revocation.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = recordingIo();
  const code = await main(argv, io);
  return { code, out: io.outLines.join('\n'), err: io.errLines.join('\n') };
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

let dir: string;
let adminFile: string;
let stateDir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-admin-cli-'));
  adminFile = join(dir, 'admin-key.json');
  stateDir = join(dir, 'state');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('murmur admin', () => {
  it('init → provision → show-key → sign → revoke', async () => {
    const init = await run('admin', 'init', '--out', adminFile);
    expect(init.code).toBe(0);
    const admin = loadAdminKey(adminFile);
    expect(statSync(adminFile).mode & 0o777).toBe(0o600);
    expect(init.out).toContain(`admin public key: ${b64(admin.publicKey)}`);
    expect(init.out).toMatch(/security\.adminPublicKey/);
    expect(init.out).toContain(`Keep ${adminFile} offline`);

    const prov = await run('admin', 'provision', '--admin-key', adminFile, '--state-dir', stateDir, '--name', 'pi-kitchen-03');
    expect(prov.code).toBe(0);
    const { key, created } = loadOrCreateDeviceKey(stateDir);
    expect(created).toBe(false); // provision made it
    expect(prov.out).toContain('provisioned node "pi-kitchen-03"');
    expect(prov.out).toContain(`fingerprint  ${fingerprint(key.publicKey)} (new key)`);
    expect(JSON.parse(readFileSync(join(stateDir, 'identity.json'), 'utf8'))).toEqual({ id: 'pi-kitchen-03' });
    expect(statSync(join(stateDir, 'identity.json')).mode & 0o777).toBe(0o600);
    const cert = parseCertificate(readFileSync(join(stateDir, 'certificate.json'), 'utf8'), 'certificate.json');
    expect(cert.id).toBe('pi-kitchen-03');
    expect(cert.publicKey).toEqual(key.publicKey);
    expect(verifyCertificate(cert, admin.publicKey)).toBe(true);

    // Provisioning again keeps the key and the identity.
    const again = await run('admin', 'provision', '--admin-key', adminFile, '--state-dir', stateDir);
    expect(again.code).toBe(0);
    expect(again.out).toContain('(existing key)');
    expect(loadOrCreateDeviceKey(stateDir).key).toEqual(key);

    const show = await run('admin', 'show-key', '--state-dir', stateDir);
    expect(show.code).toBe(0);
    expect(show.out).toMatch(/^id\s+pi-kitchen-03$/m);
    expect(show.out).toContain(`public key   ${b64(key.publicKey)}`);
    expect(show.out).toContain(`fingerprint  ${fingerprint(key.publicKey)}`);
    expect(show.out).toMatch(/^certificate\s+for "pi-kitchen-03"$/m);

    // A device that made its own key on first start, certified afterwards.
    const other = generateSigningKey();
    const sign = await run('admin', 'sign', '--admin-key', adminFile, '--name', 'pi-garage', '--public-key', b64(other.publicKey));
    expect(sign.code).toBe(0);
    const signed = parseCertificate(sign.out, 'stdout');
    expect(signed).toMatchObject({ id: 'pi-garage', publicKey: other.publicKey });
    expect(verifyCertificate(signed, admin.publicKey)).toBe(true);
    const tampered = Uint8Array.from(signed.signature);
    tampered[10]! ^= 1;
    expect(verifyCertificate({ ...signed, signature: tampered }, admin.publicKey)).toBe(false);

    const certOut = join(dir, 'garage-cert.json');
    const signTo = await run('admin', 'sign', '--admin-key', adminFile, '--name', 'pi-garage', '--public-key', b64(other.publicKey), '--out', certOut);
    expect(signTo.code).toBe(0);
    expect(signTo.out).toContain(`written to ${certOut}`);
    expect(verifyCertificate(parseCertificate(readFileSync(certOut, 'utf8'), certOut), admin.publicKey)).toBe(true);

    const revoke = await run('admin', 'revoke', '--admin-key', adminFile, '--public-key', b64(key.publicKey), '--reason', 'stolen');
    expect(revoke.code).toBe(0);
    const r = parseRevocation(revoke.out, 'stdout');
    expect(r).toMatchObject({ publicKey: key.publicKey, reason: 'stolen' });
    expect(verifyRevocation(r, admin.publicKey)).toBe(true);
    expect(verifyRevocation(decodeRevocation(encodeRevocation(r))!, admin.publicKey)).toBe(true);
    expect(verifyRevocation({ ...r, reason: 'stolem' }, admin.publicKey)).toBe(false);

    const revokeOut = join(dir, 'revoke.json');
    const revokeTo = await run('admin', 'revoke', '--admin-key', adminFile, '--public-key', b64(key.publicKey), '--out', revokeOut);
    expect(revokeTo.code).toBe(0);
    const rf = parseRevocation(readFileSync(revokeOut, 'utf8'), revokeOut);
    expect(rf.reason).toBe('');
    expect(verifyRevocation(rf, admin.publicKey)).toBe(true);
  });

  it('show-key without a certificate says how to get one', async () => {
    const { key } = loadOrCreateDeviceKey(stateDir);
    writeFileSync(join(stateDir, 'identity.json'), '{"id":"n7"}\n');
    const show = await run('admin', 'show-key', '--state-dir', stateDir);
    expect(show.code).toBe(0);
    expect(show.out).toMatch(/^certificate\s+none$/m);
    expect(show.out).toContain(`murmur admin sign --admin-key FILE --name n7 --public-key ${b64(key.publicKey)}`);
  });

  it('show-key reports a certificate made for another key', async () => {
    await run('admin', 'init', '--out', adminFile);
    await run('admin', 'provision', '--admin-key', adminFile, '--state-dir', stateDir, '--name', 'n1');
    rmSync(join(stateDir, 'device-key.json'));
    const show = await run('admin', 'show-key', '--state-dir', join(stateDir));
    expect(show.code).toBe(1);
    expect(show.err).toMatch(/device-key\.json: no device key yet/);
    loadOrCreateDeviceKey(stateDir);
    expect((await run('admin', 'show-key', '--state-dir', stateDir)).out).toMatch(/certificate\s+for "n1", but for another public key/);
  });

  it('provision without --name and without an identity asks for --name', async () => {
    await run('admin', 'init', '--out', adminFile);
    const r = await run('admin', 'provision', '--admin-key', adminFile, '--state-dir', stateDir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/identity\.json does not exist; give the device a node id with --name ID/);
    expect(existsSync(join(stateDir, 'device-key.json'))).toBe(false);
  });

  it('provision refuses a state directory that belongs to another device', async () => {
    await run('admin', 'init', '--out', adminFile);
    await run('admin', 'provision', '--admin-key', adminFile, '--state-dir', stateDir, '--name', 'n1');
    const certBefore = readFileSync(join(stateDir, 'certificate.json'), 'utf8');
    const r = await run('admin', 'provision', '--admin-key', adminFile, '--state-dir', stateDir, '--name', 'n2');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/identity\.json holds id "n1", not "n2": this state directory belongs to another device/);
    expect(readFileSync(join(stateDir, 'certificate.json'), 'utf8')).toBe(certBefore);
  });

  it('provision refuses a damaged device key instead of replacing it', async () => {
    await run('admin', 'init', '--out', adminFile);
    await run('admin', 'provision', '--admin-key', adminFile, '--state-dir', stateDir, '--name', 'n1');
    writeFileSync(join(stateDir, 'device-key.json'), '{"type":"murmur-device-key"}');
    const r = await run('admin', 'provision', '--admin-key', adminFile, '--state-dir', stateDir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/device-key\.json: publicKey: expected 32 bytes of base64, got nothing\. This is the device's identity key/);
  });

  it('init refuses to overwrite an existing admin key file', async () => {
    expect((await run('admin', 'init', '--out', adminFile)).code).toBe(0);
    const before = readFileSync(adminFile, 'utf8');
    const r = await run('admin', 'init', '--out', adminFile);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${adminFile}: already exists; refusing to overwrite an admin key`);
    expect(readFileSync(adminFile, 'utf8')).toBe(before);
  });

  it('missing or bad flags are usage errors (exit 2) that name the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['admin'], /murmur admin: expected a subcommand/],
      [['admin', 'frob'], /unknown subcommand "frob"/],
      [['admin', 'init'], /murmur admin init: --out is required/],
      [['admin', 'init', '--out'], /--out: expected a value/],
      [['admin', 'init', '--out', 'a', '--bogus', 'b'], /murmur admin init: unknown option "--bogus"/],
      [['admin', 'provision', '--state-dir', 'x'], /murmur admin provision: --admin-key is required/],
      [['admin', 'sign', '--admin-key', 'k', '--public-key', 'AAAA'], /--name is required/],
      [['admin', 'sign', '--admin-key', 'k', '--name', 'a b', '--public-key', 'AAAA'], /--name: expected up to 64 letters, digits/],
      [['admin', 'sign', '--admin-key', 'k', '--name', 'n1', '--public-key', 'AAAA'], /--public-key: expected 32 bytes of base64, got 3/],
      [['admin', 'revoke', '--admin-key', 'k'], /--public-key is required/],
      [['admin', 'revoke', '--admin-key', 'k', '--public-key', b64(new Uint8Array(32)), '--reason', 'r'.repeat(65)], /--reason: expected at most 64 bytes, got 65/],
      [['admin', 'show-key'], /--state-dir is required/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/^\s+at /m); // no stack trace
    }
  });

  it('a missing admin key file is named, with how to create one', async () => {
    const r = await run('admin', 'sign', '--admin-key', adminFile, '--name', 'n1', '--public-key', b64(generateSigningKey().publicKey));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${adminFile}: no such admin key file (create one with: murmur admin init --out ${adminFile})`);
  });

  it('help for admin and each subcommand exits 0', async () => {
    expect((await run('--help')).out).toMatch(/admin\s+fleet admin key: provision devices, sign certificates, revoke/);
    const top = await run('admin', '--help');
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/usage: murmur admin <subcommand>/);
    for (const sub of ['init', 'provision', 'sign', 'revoke', 'show-key']) {
      const r = await run('admin', sub, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^usage: murmur admin ${sub}`));
    }
  });
});
