import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certificateToJson, signCertificate } from '../../runtime/trust/certificate.js';
import { loadOrCreateDeviceKey } from '../../runtime/trust/device-key.js';
import { fingerprint, generateSigningKey } from '../../runtime/trust/ed25519.js';
import { revocationToJson, signRevocation } from '../../runtime/trust/revocation.js';
import { allDeclaredDead, allSee, labAvailable, withLab } from './lab-support.js';

// A fleet with an admin key: real processes in the lab, provisioned the way a flashing station
// would (device key + certificate in each state directory).

describe.skipIf(!labAvailable)('fleet lab: admission and revocation', () => {
  it('a device with the fleet key but no certificate is ignored; a revoked device is declared dead everywhere and its state stops spreading', async () => {
    const admin = generateSigningKey();
    const adminB64 = Buffer.from(admin.publicKey).toString('base64');
    const certified = [0, 1, 2];
    let revokedKey: Uint8Array | undefined;
    await withLab(
      {
        nodes: 4,
        args: ['--families', 'ipv4'],
        // n3 runs without the admin requirement: it holds the fleet key but no certificate.
        nodeArgs: (i) => (certified.includes(i) ? ['--admin-public-key', adminB64] : []),
        beforeStart: (lab) => {
          for (const i of certified) {
            const dir = lab.nodes[i]!.stateDir;
            const { key } = loadOrCreateDeviceKey(dir);
            if (i === 2) revokedKey = key.publicKey;
            writeFileSync(join(dir, 'identity.json'), JSON.stringify({ id: lab.name(i) }) + '\n');
            writeFileSync(join(dir, 'certificate.json'), certificateToJson(signCertificate(lab.name(i), key.publicKey, admin.secretKey)) + '\n');
          }
        },
      },
      async (lab) => {
        await lab.waitFor('certified nodes meet', 10_000, () => lab.allAlive(certified));
        // Give the uncertified node time to be heard: it must never become a member.
        await new Promise((r) => setTimeout(r, 3000));
        for (const i of certified) expect([...(await lab.members(i)).keys()]).not.toContain('n3');
        const status = (await lab.api(0, 'GET', '/v1/status')).body as { rejected: Record<string, number> };
        expect(status.rejected['no-certificate'] ?? 0).toBeGreaterThan(0);

        // The admin revokes n2 (stolen). Applied on n0 only; n1 learns it by gossip.
        const r = revocationToJson(signRevocation(revokedKey!, 'stolen from rack 4', admin.secretKey));
        const applied = await lab.api(0, 'POST', '/v1/revocations', JSON.parse(r));
        expect(applied.status).toBe(200);
        await lab.waitFor('revocation known to n1', 10_000, async () => {
          const list = (await lab.api(1, 'GET', '/v1/revocations')).body as { fingerprint: string }[];
          return list.some((x) => x.fingerprint === fingerprint(revokedKey!));
        });
        await lab.waitFor('revoked node declared dead by the others', 20_000, () => allDeclaredDead(lab, [0, 1], 2));
        // It still runs and still holds the fleet key; nothing it says is believed.
        await lab.api(2, 'PUT', '/v1/kv/door', { value: 'open' });
        await new Promise((resolve) => setTimeout(resolve, 3000));
        expect(await allSee(lab, [0, 1], 2, 'door', 'open')).toBe(false);
        const dead = ((await lab.members(1)).get('n2') ?? { status: 'removed' }).status;
        expect(['dead', 'removed']).toContain(dead);
        // Revocations are refused without the admin's signature.
        const forged = revocationToJson(signRevocation(revokedKey!, 'x', generateSigningKey().secretKey));
        expect((await lab.api(0, 'POST', '/v1/revocations', JSON.parse(forged))).status).toBe(400);
      },
    );
  });
});
