import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApi, startApiTcp, type ApiBackend } from '../../runtime/api/server.js';
import { loadOrCreateApiToken } from '../../runtime/api/token.js';

let dir: string;
let server: Server | undefined;
const own = new Map<string, { value: unknown; version: number }>();

const backend: ApiBackend = {
  status: () => ({ id: 'me' }),
  members: () => [{ id: 'other', status: 'alive' }],
  keysOf: (owner) => (owner === 'me' ? Object.fromEntries(own) : undefined),
  set: (key, value) => {
    if (key === 'forbidden') throw new Error('key: not allowed');
    const version = (own.get(key)?.version ?? 0) + 1;
    own.set(key, { value, version });
    return version;
  },
  delete: (key) => {
    if (key === 'forbidden') throw new Error('key: not allowed');
    return own.delete(key);
  },
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-api-'));
  own.clear();
});
afterEach(async () => {
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function call(method: string, path: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dir, 'api.sock'), method, path }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('local API over a Unix socket', () => {
  it('publishes, reads and deletes own keys', async () => {
    server = await startApi(join(dir, 'api.sock'), backend);
    expect(await call('PUT', '/v1/kv/temp', '{"value": 21.5}')).toEqual({ status: 200, json: { key: 'temp', version: 1 } });
    expect((await call('GET', '/v1/kv/me')).json).toEqual({ temp: { value: 21.5, version: 1 } });
    expect((await call('DELETE', '/v1/kv/temp')).status).toBe(200);
    expect((await call('GET', '/v1/kv/me')).json).toEqual({});
  });

  it('takes an object or list value as its JSON text for the wire, and gives such text back as the JSON value', async () => {
    server = await startApi(join(dir, 'api.sock'), backend);
    expect((await call('PUT', '/v1/kv/cfg', '{"value": {"a": 1, "b": [true, "x"]}}')).status).toBe(200);
    expect(own.get('cfg')?.value).toBe('{"a":1,"b":[true,"x"]}');
    await call('PUT', '/v1/kv/list', '{"value": [1, 2]}');
    // Text that only looks like JSON stays text.
    await call('PUT', '/v1/kv/brace', '{"value": "{not json"}');
    await call('PUT', '/v1/kv/quoted', '{"value": "\\"x\\""}');
    expect((await call('GET', '/v1/kv/me')).json).toEqual({
      cfg: { value: { a: 1, b: [true, 'x'] }, version: 1 },
      list: { value: [1, 2], version: 1 },
      brace: { value: '{not json', version: 1 },
      quoted: { value: '"x"', version: 1 },
    });
  });

  it.each([
    ['GET', '/v1/nothing', undefined, 404, 'not-found'],
    ['GET', '/v1/kv/stranger', undefined, 404, 'unknown-member'],
    ['PUT', '/v1/kv/x', '{"value": ', 400, 'invalid-json'],
    ['PUT', '/v1/kv/x', '{"value": null}', 400, 'invalid-value'],
    ['PUT', '/v1/kv/x', '{"value": 1, "ttlMs": -5}', 400, 'invalid-ttl'],
    ['PUT', '/v1/kv/x', '{"value": 1, "ttlMs": 1e20}', 400, 'invalid-ttl'],
    ['PUT', '/v1/kv/forbidden', '{"value": 1}', 400, 'rejected'],
    ['PUT', '/v1/kv/x', JSON.stringify({ value: 'x'.repeat(5000) }), 413, 'body-too-large'],
    ['DELETE', '/v1/kv/none', undefined, 404, 'unknown-key'],
    ['DELETE', '/v1/kv/forbidden', undefined, 400, 'rejected'],
  ])('%s %s answers %i with a stable error code and a message', async (method, path, body, status, code) => {
    server = await startApi(join(dir, 'api.sock'), backend);
    const r = await call(method, path, body);
    expect(r.status).toBe(status);
    expect(r.json.error).toBe(code);
    expect(typeof r.json.message).toBe('string');
  });

  it('replaces a stale socket left by a crash, but refuses to start beside a running node', async () => {
    // A process that dies without closing its server leaves the socket file behind.
    const path = join(dir, 'api.sock');
    spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`]);
    expect(lstatSync(path).isSocket()).toBe(true);
    server = await startApi(path, backend);
    await expect(startApi(path, backend)).rejects.toThrow(/another murmur is already running/);
  });

  it('never deletes a file that is not a socket (a misconfigured api.socket pointing at state)', async () => {
    const path = join(dir, 'own-keys.json');
    writeFileSync(path, '{"keys": {}}');
    await expect(startApi(path, backend)).rejects.toThrow(/own-keys\.json: exists and is not a socket/);
    expect(readFileSync(path, 'utf8')).toBe('{"keys": {}}');
  });

  it('a key may contain slashes, and bad percent-encoding is a 400 naming the path', async () => {
    server = await startApi(join(dir, 'api.sock'), backend);
    expect((await call('PUT', '/v1/kv/sensor/temp', '{"value": 1}')).json).toEqual({ key: 'sensor/temp', version: 1 });
    const r = await call('GET', '/v1/kv/%E0%A4%A');
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid-path');
  });
});

describe('local API over loopback TCP', () => {
  const token = 'k9'.repeat(22);
  let port: number;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
    server?.closeAllConnections();
  });

  function ask(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; json: Record<string, unknown>; auth: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown>, auth: res.headers['www-authenticate'] }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('answers only requests carrying the bearer token: none or a wrong one is 401, and nothing is done', async () => {
    server = await startApiTcp(`127.0.0.1:${port}`, backend, { token });
    const none = await ask('PUT', '/v1/kv/door', { 'content-type': 'application/json' }, '{"value": "open"}');
    expect(none).toMatchObject({ status: 401, json: { error: 'unauthorized' }, auth: 'Bearer' });
    expect((await ask('GET', '/v1/status', { authorization: `Bearer ${token.slice(1)}x` })).status).toBe(401);
    expect((await ask('GET', '/v1/status', { authorization: `Bearer ${token}x` })).status).toBe(401);
    expect((await ask('GET', '/v1/status', { authorization: token })).status).toBe(401);
    expect(own.has('door')).toBe(false);
    expect(await ask('GET', '/v1/status', { authorization: `Bearer ${token}` })).toMatchObject({ status: 200, json: { id: 'me' } });
    expect((await ask('PUT', '/v1/kv/door', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, '{"value": "open"}')).status).toBe(200);
  });

  it('70 idle, half-open connections do not keep a real request out', async () => {
    server = await startApiTcp(`127.0.0.1:${port}`, backend, { token });
    for (let i = 0; i < 70; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      // Half a request line, then nothing: a client that never finishes its headers.
      if (i % 2 === 0) s.write('GET /v1/status HTTP/1.1\r\n');
      sockets.push(s);
    }
    await Promise.all(sockets.map((s) => new Promise((r) => (s.readyState === 'open' ? r(null) : s.once('connect', r).once('error', r)))));
    const started = Date.now();
    const r = await ask('GET', '/v1/status', { authorization: `Bearer ${token}` });
    expect(r).toMatchObject({ status: 200, json: { id: 'me' } });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('the TCP API token file', () => {
  it('is made at first start (0600, random) and kept across restarts', () => {
    const file = join(dir, 'api-token');
    const first = loadOrCreateApiToken(file);
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateApiToken(file)).toEqual({ token: first.token, created: false, modeFixed: undefined });
  });
  it('one readable by others is narrowed to 0600 and says so; a damaged one is an error naming the file', () => {
    const file = join(dir, 'api-token');
    writeFileSync(file, `${'t'.repeat(40)}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(loadOrCreateApiToken(file)).toEqual({ token: 't'.repeat(40), created: false, modeFixed: '0644' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, 'short');
    expect(() => loadOrCreateApiToken(file)).toThrow(`API token ${file}: expected 32 to 256 letters, digits, "-" or "_"; remove the file and restart murmur to have a new one made`);
  });
});
