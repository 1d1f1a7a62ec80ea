import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../runtime/trust/ed25519.js';
import { MAX_REVOCATIONS, RevocationList, signRevocation } from '../../runtime/trust/revocation.js';

const admin = generateSigningKey();
const AT = Date.UTC(2026, 2, 1);
let dir: string;
let file: string;
let problems: string[];
const log = (p: string) => problems.push(p);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-revocations-'));
  file = join(dir, 'revocations.json');
  problems = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('RevocationList', () => {
  it('holds only revocations the admin signed, one per key', () => {
    const list = new RevocationList(admin.publicKey);
    const a = generateSigningKey().publicKey;
    expect(list.isRevoked(a)).toBe(false);
    expect(list.add(signRevocation(a, 'stolen', admin.secretKey, AT))).toBe(true);
    expect(list.isRevoked(a)).toBe(true);
    expect(list.isRevoked(Uint8Array.from(a))).toBe(true); // by value, not by identity
    expect(list.add(signRevocation(a, 'again', admin.secretKey, AT + 1))).toBe(false);
    expect(list.all().map((r) => r.reason)).toEqual(['stolen']);

    const b = generateSigningKey().publicKey;
    const rogue = generateSigningKey();
    expect(list.add(signRevocation(b, 'forged', rogue.secretKey, AT))).toBe(false);
    const tampered = signRevocation(b, 'x', admin.secretKey, AT);
    expect(list.add({ ...tampered, at: AT + 1 })).toBe(false);
    expect(list.isRevoked(b)).toBe(false);
    expect(list.size).toBe(1);
  });

  it(`refuses revocations beyond ${MAX_REVOCATIONS}`, () => {
    const list = new RevocationList(admin.publicKey);
    for (let i = 0; i < MAX_REVOCATIONS; i++) {
      const pk = new Uint8Array(32);
      new DataView(pk.buffer).setUint32(0, i);
      pk[31] = 1;
      expect(list.add(signRevocation(pk, '', admin.secretKey, AT))).toBe(true);
    }
    const extra = generateSigningKey().publicKey;
    expect(list.add(signRevocation(extra, '', admin.secretKey, AT))).toBe(false);
    expect(list.isRevoked(extra)).toBe(false);
    expect(list.size).toBe(MAX_REVOCATIONS);
  });

  it('saves atomically with mode 0600 and loads back what it saved', () => {
    const list = new RevocationList(admin.publicKey);
    const keys = [generateSigningKey().publicKey, generateSigningKey().publicKey];
    for (const k of keys) list.add(signRevocation(k, 'gone', admin.secretKey, AT));
    list.save(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ type: 'murmur-revocation-list' });
    const back = RevocationList.load(file, admin.publicKey, log);
    expect(problems).toEqual([]);
    expect(back.size).toBe(2);
    for (const k of keys) expect(back.isRevoked(k)).toBe(true);
    expect(back.all()).toEqual(list.all());
  });

  it('a missing file is an empty list, reported as nothing', () => {
    expect(RevocationList.load(file, admin.publicKey, log).size).toBe(0);
    expect(problems).toEqual([]);
  });

  it('a damaged file is reported, kept as .corrupt, and not fatal', () => {
    writeFileSync(file, '{"type": "murmur-revocation-list", "revoc');
    const list = RevocationList.load(file, admin.publicKey, log);
    expect(list.size).toBe(0);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${file}: not JSON .*starting with no revocations; the file is kept as ${file}\\.corrupt`));
    expect(existsSync(`${file}.corrupt`)).toBe(true);

    writeFileSync(file, '{"type": "murmur-revocation-list", "revocations": {}}');
    expect(RevocationList.load(file, admin.publicKey, log).size).toBe(0);
    expect(problems[1]).toMatch(/revocations: expected an array, got \{\}/);
    // Loading without a callback is just as quiet about it.
    expect(RevocationList.load(file, admin.publicKey).size).toBe(0);
  });

  it('skips, and reports, each entry that is damaged or not signed by this admin', () => {
    const list = new RevocationList(admin.publicKey);
    const good = generateSigningKey().publicKey;
    list.add(signRevocation(good, 'ok', admin.secretKey, AT));
    list.save(file);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { revocations: Record<string, unknown>[] };
    const other = generateSigningKey();
    const forgedKey = generateSigningKey().publicKey;
    const forged = new RevocationList(other.publicKey);
    forged.add(signRevocation(forgedKey, 'rogue', other.secretKey, AT));
    forged.save(join(dir, 'other.json'));
    const forgedEntry = (JSON.parse(readFileSync(join(dir, 'other.json'), 'utf8')) as typeof doc).revocations[0]!;
    doc.revocations.push({ ...doc.revocations[0]!, publicKey: 'AAAA' }, forgedEntry, { ...doc.revocations[0]!, reason: 'edited' });
    writeFileSync(file, JSON.stringify(doc));

    const back = RevocationList.load(file, admin.publicKey, log);
    expect(back.size).toBe(1);
    expect(back.isRevoked(good)).toBe(true);
    expect(back.isRevoked(forgedKey)).toBe(false);
    expect(problems).toEqual([
      `${file}: revocations[1]: publicKey: expected 32 bytes of base64, got 3; skipped`,
      expect.stringMatching(/revocations\[2\]: signature does not verify under the admin key [0-9a-f]{16}; skipped/),
      expect.stringMatching(/revocations\[3\]: signature does not verify/),
    ]);
  });
});
