// DeviceTrust on a real state directory (a temporary one) with a fake publish: a device that
// holds revocations republishes every one of them when it starts, and each new one as it
// arrives, whether from the local API or from another device's gossip. That republishing is
// what carries a revocation to devices that were off when it was applied.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nullLogger } from '../../runtime/log/log.js';
import { StateDir } from '../../runtime/agent/state-dir.js';
import { DeviceTrust, RESERVED_PREFIX } from '../../runtime/agent/trust.js';
import { loadConfig } from '../../runtime/config/config.js';
import { certificateToJson, signCertificate } from '../../runtime/trust/certificate.js';
import { Gatekeeper } from '../../runtime/trust/gatekeeper.js';
import { loadOrCreateDeviceKey } from '../../runtime/trust/device-key.js';
import { fingerprint, generateSigningKey } from '../../runtime/trust/ed25519.js';
import { decodeRevocation, encodeRevocation, RevocationList, revocationToJson, signRevocation, type Revocation } from '../../runtime/trust/revocation.js';

const SELF = { id: 'pi-hall', gen: 1_795_000_001 };
const AT = Date.UTC(2026, 10, 23, 9);
const admin = generateSigningKey();
const stolen = generateSigningKey();
const lost = generateSigningKey();
const broken = generateSigningKey();

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-trust-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A provisioned device: its key, the admin's certificate for it, and `saved` revocations from a previous run. */
function openTrust(saved: readonly Revocation[] = []): DeviceTrust {
  const key = loadOrCreateDeviceKey(dir).key;
  writeFileSync(join(dir, 'certificate.json'), certificateToJson(signCertificate(SELF.id, key.publicKey, admin.secretKey)));
  if (saved.length > 0) {
    const list = new RevocationList(admin.publicKey);
    for (const r of saved) expect(list.add(r)).toBe(true);
    list.save(join(dir, 'revocations.json'));
  }
  const base = loadConfig(undefined);
  const config = { ...base, security: { ...base.security, adminPublicKey: Buffer.from(admin.publicKey).toString('base64') } };
  const trust = DeviceTrust.open(StateDir.open(dir, nullLogger), SELF, config, nullLogger);
  // What the assembly does: a gatekeeper from the device's material, handed back to guard.
  const m = trust.material();
  trust.guard(
    new Gatekeeper({
      self: SELF,
      key: m.deviceKey,
      certificate: m.certificate,
      adminPublicKey: m.adminPublicKey,
      ...(m.isRevoked ? { isRevoked: m.isRevoked } : {}),
      held: { version: () => undefined, max: () => 0 },
      isMember: () => false,
    }),
  );
  return trust;
}

/** What was published, as "key -> fingerprint of the revoked key" (the value decodes to the revocation). */
function recorder(): { publish: (key: string, value: Uint8Array) => void; published: [string, string][] } {
  const published: [string, string][] = [];
  return {
    published,
    publish: (key, value) => {
      const r = decodeRevocation(value);
      expect(r, `published ${key} does not decode as a revocation`).toBeDefined();
      published.push([key, fingerprint(r!.publicKey)]);
    },
  };
}

const slot = (publicKey: Uint8Array): [string, string] => [`${RESERVED_PREFIX}revoked/${fingerprint(publicKey)}`, fingerprint(publicKey)];
const gossip = (owner: string, r: Revocation, value: Uint8Array | string) => ({
  type: 'kv-changed' as const,
  owner: { id: owner, gen: 1 },
  key: `${RESERVED_PREFIX}revoked/${fingerprint(r.publicKey)}`,
  value,
  version: 3,
});

describe('revocations are republished by every device that holds them', () => {
  it('at start: every revocation saved by a previous run is published once, under its own key', () => {
    const saved = [signRevocation(stolen.publicKey, 'stolen', admin.secretKey, AT), signRevocation(lost.publicKey, 'lost', admin.secretKey, AT + 1)];
    const trust = openTrust(saved);
    const out = recorder();
    trust.attach(out.publish);
    expect(out.published.sort()).toEqual([slot(stolen.publicKey), slot(lost.publicKey)].sort());
  });

  it('at start with none saved: nothing is published', () => {
    const out = recorder();
    openTrust().attach(out.publish);
    expect(out.published).toEqual([]);
  });

  it('on a revocation from the local API: published once; the same one again is not new and not published again', () => {
    const trust = openTrust();
    const out = recorder();
    trust.attach(out.publish);
    const json = revocationToJson(signRevocation(stolen.publicKey, 'stolen', admin.secretKey, AT));
    expect(trust.applyJson(json)).toEqual({ fingerprint: fingerprint(stolen.publicKey), new: true });
    expect(out.published).toEqual([slot(stolen.publicKey)]);
    expect(trust.applyJson(json)).toEqual({ fingerprint: fingerprint(stolen.publicKey), new: false });
    expect(out.published).toEqual([slot(stolen.publicKey)]);
  });

  it('on a revocation heard from another device: published under our own key; our own echo, a forgery and a duplicate are not', () => {
    const trust = openTrust();
    const out = recorder();
    trust.attach(out.publish);
    const r = signRevocation(lost.publicKey, 'lost', admin.secretKey, AT);
    trust.observe(gossip(SELF.id, r, encodeRevocation(r)), SELF.id);
    expect(out.published).toEqual([]);
    const forged = signRevocation(broken.publicKey, 'lost', stolen.secretKey, AT);
    trust.observe(gossip('pi-kitchen', forged, encodeRevocation(forged)), SELF.id);
    trust.observe(gossip('pi-kitchen', r, 'not bytes'), SELF.id);
    expect(out.published).toEqual([]);
    trust.observe(gossip('pi-kitchen', r, encodeRevocation(r)), SELF.id);
    expect(out.published).toEqual([slot(lost.publicKey)]);
    trust.observe(gossip('pi-porch', r, encodeRevocation(r)), SELF.id);
    expect(out.published).toEqual([slot(lost.publicKey)]);
  });

  it('a revocation applied before attach is published at attach, and kept for the next start', () => {
    const trust = openTrust();
    trust.applyJson(revocationToJson(signRevocation(broken.publicKey, 'broken', admin.secretKey, AT)));
    const out = recorder();
    trust.attach(out.publish);
    expect(out.published).toEqual([slot(broken.publicKey)]);
    const next = recorder();
    openTrust().attach(next.publish);
    expect(next.published).toEqual([slot(broken.publicKey)]);
  });
});
