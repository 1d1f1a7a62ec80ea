import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApiTcp } from '../../runtime/api/server.js';
import { loadOrCreateApiToken } from '../../runtime/api/token.js';
import { apiRequest, resolveTarget } from '../../runtime/cli/api-client.js';

let dir: string;
let server: Server | undefined;
let port: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-cli-tcp-'));
  port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
});
afterEach(async () => {
  server?.closeAllConnections();
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const backend = { status: () => ({ id: 'me' }), members: () => [], keysOf: () => undefined, set: () => 1, delete: () => false };

describe('the CLI over the TCP API (--socket HOST:PORT)', () => {
  it('sends the token from the state directory\'s api-token, and is let in', async () => {
    const { token } = loadOrCreateApiToken(join(dir, 'api-token'));
    server = await startApiTcp(`127.0.0.1:${port}`, backend, { token });
    const target = resolveTarget({ stateDir: dir, socket: `127.0.0.1:${port}` });
    expect(await apiRequest(target.socket, 'GET', '/v1/status')).toEqual({ status: 200, body: { id: 'me' } });
  });

  it('follows api.tokenFile in the config', async () => {
    const file = join(dir, 'elsewhere-token');
    const { token } = loadOrCreateApiToken(file);
    server = await startApiTcp(`127.0.0.1:${port}`, backend, { token });
    const config = join(dir, 'murmur.yaml');
    writeFileSync(config, `node:\n  stateDir: ${dir}\napi:\n  tokenFile: ${file}\n`);
    const target = resolveTarget({ config, socket: `127.0.0.1:${port}` });
    expect((await apiRequest(target.socket, 'GET', '/v1/status')).status).toBe(200);
  });

  it('without a token file, says which file it needed', async () => {
    server = await startApiTcp(`127.0.0.1:${port}`, backend, { token: 'x'.repeat(43) });
    const target = resolveTarget({ stateDir: dir, socket: `127.0.0.1:${port}` });
    await expect(apiRequest(target.socket, 'GET', '/v1/status')).rejects.toThrow(`API token ${join(dir, 'api-token')}: cannot read it`);
  });

  it('with a stale token, the node\'s 401 is what comes back', async () => {
    loadOrCreateApiToken(join(dir, 'api-token'));
    server = await startApiTcp(`127.0.0.1:${port}`, backend, { token: 'x'.repeat(43) });
    const target = resolveTarget({ stateDir: dir, socket: `127.0.0.1:${port}` });
    expect(await apiRequest(target.socket, 'GET', '/v1/status')).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
  });
});
