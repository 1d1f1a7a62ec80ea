// `murmur keys install|use --admin-key FILE` in a fleet with an admin key: the node prepares the
// change, the CLI signs it with the admin key file, the node checks the signature and makes it.
// The node here is its API and its real key sync (runtime/agent/key-sync.ts) on a Unix socket.

import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeySync } from '../../runtime/agent/key-sync.js';
import { parseFleetKey } from '../../runtime/agent/keyring-store.js';
import { startApi, type ApiBackend } from '../../runtime/api/server.js';
import { main } from '../../runtime/cli/main.js';
import { formatKeyId, keyId, Keyring } from '../../runtime/crypto/keyring.js';
import type { NodeHost } from '../../runtime/host/node-host.js';
import { nullLogger } from '../../runtime/log/log.js';
import { createAdminKeyFile } from '../../runtime/trust/admin-key.js';
import { generateSigningKey } from '../../runtime/trust/ed25519.js';
import { Gatekeeper } from '../../runtime/trust/gatekeeper.js';
import { signPassport } from '../../runtime/trust/records.js';
import { recordingIo } from './recording-io.js';

const fleetKey = Buffer.alloc(32, 1).toString('base64');
const newKey = Buffer.alloc(32, 2).toString('base64');
const NEW = formatKeyId(keyId(parseFleetKey(newKey, 'test')));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = recordingIo();
  const code = await main(argv, io);
  return { code, out: io.outLines.join('\n'), err: io.errLines.join('\n') };
}

describe('murmur keys with the fleet admin key', () => {
  let dir: string;
  let server: Server;
  let ring: Keyring;
  let sync: KeySync;
  let socket: string;
  let adminFile: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'murmur-keys-admin-'));
    adminFile = join(dir, 'admin.key');
    const admin = createAdminKeyFile(adminFile);
    ring = new Keyring(86_400_000);
    ring.use(ring.install(parseFleetKey(fleetKey, 'test')));
    const self = { id: 'pi-07', gen: 1 };
    const device = generateSigningKey();
    const gate = new Gatekeeper({ self, key: device, held: { version: () => undefined, max: () => 0 }, isMember: () => true });
    const host = { node: { members: () => [] }, sendControl: () => {} } as unknown as NodeHost;
    sync = new KeySync({ key: device, passport: () => signPassport(device, self, 0, false, null) }, gate, ring, () => host, () => {}, nullLogger, () => 0, { adminPublicKey: admin.publicKey });
    // The agent's keys backend, as runtime/agent/agent.ts wires it.
    const backend = {
      keys: {
        list: () => ({ primary: formatKeyId(ring.primaryId!) }),
        install: (text: string, prepare: boolean) => sync.change(prepare, (r) => ({ id: formatKeyId(r.install(parseFleetKey(text, 'key'))) })),
        use: (id: string, prepare: boolean) => sync.change(prepare, (r) => {
          r.use(parseInt(id, 16));
          return { primary: formatKeyId(r.primaryId!) };
        }),
        remove: (id: string, compromised: boolean, prepare: boolean) => sync.change(prepare, (r) => {
          r.remove(parseInt(id, 16), compromised);
          return { id, state: r.state(parseInt(id, 16)) };
        }),
        grant: (granted: string, signature: string, key: string | undefined) => {
          sync.applyGrant({ granted: new Uint8Array(Buffer.from(granted, 'base64')), signature: new Uint8Array(Buffer.from(signature, 'base64')) }, key === undefined ? undefined : parseFleetKey(key, 'key'));
          return { primary: formatKeyId(ring.primaryId!) };
        },
      },
    } as unknown as ApiBackend;
    socket = join(dir, 'api.sock');
    server = await startApi(socket, backend);
  });

  afterEach(async () => {
    sync.stop();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('without --admin-key a change is refused by the node, naming the option; with it, install and use are made at once', async () => {
    const refused = await run('keys', 'install', newKey, '--socket', socket);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/admin-signature-required/);
    expect(refused.err).toMatch(/--admin-key FILE/);
    expect(ring.record(keyId(parseFleetKey(newKey, 'test')))).toBeUndefined();

    const installed = await run('keys', 'install', newKey, '--admin-key', adminFile, '--socket', socket);
    expect(installed.err).toBe('');
    expect(installed.code).toBe(0);
    expect(installed.out).toContain(`installed ${NEW}`);
    const used = await run('keys', 'use', NEW, '--admin-key', adminFile, '--socket', socket);
    expect(used.code).toBe(0);
    expect(used.out).toContain(`primary is now ${NEW}`);
    expect(formatKeyId(ring.primaryId!)).toBe(NEW);
  });

  it('another admin key file is refused by the node and changes nothing; a missing one is named', async () => {
    const other = join(dir, 'other.key');
    createAdminKeyFile(other);
    const r = await run('keys', 'install', newKey, '--admin-key', other, '--socket', socket);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not signed by the fleet admin key/);
    expect(ring.size).toBe(1);
    const missing = await run('keys', 'install', newKey, '--admin-key', join(dir, 'nope.key'), '--socket', socket);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope\.key: no such admin key file/);
  });
});
