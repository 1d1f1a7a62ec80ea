import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApi, startApiTcp, type ApiBackend } from '../../runtime/api/server.js';
import { MAX_WATCHERS, WatchHub, type WatchSink } from '../../runtime/api/watch.js';
import { aggregateKey } from '../../runtime/sensing/key-aggregate.js';

let dir: string;
let servers: Server[] = [];
let hub: WatchHub;

const backend = (): ApiBackend => ({
  status: () => ({ id: 'me' }),
  members: () => [],
  keysOf: () => undefined,
  set: () => 1,
  delete: () => false,
  watch: hub,
  agg: (key) => (key === 'temp' ? { key, count: 1 } : undefined),
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-watch-'));
  hub = new WatchHub('me');
});
afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  servers = [];
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a watch and collects its lines until `n` have arrived. */
function watchLines(path: string, n: number, accept?: string): { lines: Promise<string[]>; abort: () => void } {
  let req: ReturnType<typeof request> | undefined;
  const lines = new Promise<string[]>((resolve, reject) => {
    req = request({ socketPath: join(dir, 'api.sock'), method: 'GET', path, headers: accept ? { accept } : {} }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        const got = text.split(accept ? '\n\n' : '\n').filter(Boolean);
        if (got.length >= n) {
          resolve(got.slice(0, n));
          req!.destroy();
        }
      });
    });
    req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
    req.end();
  });
  return { lines, abort: () => req?.destroy() };
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('GET /v1/watch', () => {
  it('streams NDJSON: a hello, then the changes that pass the prefix and device filters, as they happen', async () => {
    servers.push(await startApi(join(dir, 'api.sock'), backend()));
    const w = watchLines('/v1/watch?prefix=sensor/&device=pi-2', 3);
    await until(() => hub.size === 1);
    hub.publish({ type: 'kv', owner: 'pi-2', key: 'alarm', value: 'smoke', version: 1 });
    hub.publish({ type: 'kv', owner: 'pi-3', key: 'sensor/t', value: 1, version: 1 });
    hub.publish({ type: 'member', id: 'pi-2', status: 'dead', previous: 'suspect', gen: 4 });
    hub.publish({ type: 'kv', owner: 'pi-2', key: 'sensor/t', value: 21.5, version: 7 });
    hub.publish({ type: 'kv', owner: 'pi-2', key: 'sensor/t', value: null, version: 8, deleted: true });
    expect((await w.lines).map((l) => JSON.parse(l) as unknown)).toEqual([
      { type: 'hello', id: 'me', prefix: 'sensor/', device: 'pi-2' },
      { type: 'kv', owner: 'pi-2', key: 'sensor/t', value: 21.5, version: 7 },
      { type: 'kv', owner: 'pi-2', key: 'sensor/t', value: null, version: 8, deleted: true },
    ]);
    await until(() => hub.size === 0);
    expect(hub.size).toBe(0);
  });

  it('writes control characters from the fleet (C1, DEL, U+2028) as \\u escapes, in the stream and in replies', async () => {
    servers.push(await startApi(join(dir, 'api.sock'), { ...backend(), status: () => ({ id: 'me\u009b\u001b' }) }));
    const w = watchLines('/v1/watch', 2);
    await until(() => hub.size === 1);
    hub.publish({ type: 'kv', owner: 'pi\u009b2J', key: 'k\u007f\u2028', value: 'v\u0085', version: 1 });
    const [, line] = await w.lines;
    expect(line).toBe('{"type":"kv","owner":"pi\\u009b2J","key":"k\\u007f\\u2028","value":"v\\u0085","version":1}');
    const status = await new Promise<string>((resolve) => {
      request({ socketPath: join(dir, 'api.sock'), path: '/v1/status' }, (res) => {
        let t = '';
        res.on('data', (c: Buffer) => (t += c.toString('latin1')));
        res.on('end', () => resolve(t));
      }).end();
    });
    expect(status).toBe('{"id":"me\\u009b\\u001b"}\n');
  });

  it('speaks Server-Sent Events when asked, and member changes pass an empty prefix', async () => {
    servers.push(await startApi(join(dir, 'api.sock'), backend()));
    const w = watchLines('/v1/watch', 2, 'text/event-stream');
    await until(() => hub.size === 1);
    hub.publish({ type: 'member', id: 'pi-2', status: 'suspect', previous: 'alive', gen: 4 });
    const [hello, ev] = await w.lines;
    expect(hello).toBe('data: {"type":"hello","id":"me","prefix":"","device":null}');
    expect(ev).toBe('data: {"type":"member","id":"pi-2","status":"suspect","previous":"alive","gen":4}');
  });

  it('answers GET /v1/agg with 404 for a key nobody publishes', async () => {
    servers.push(await startApi(join(dir, 'api.sock'), backend()));
    const status = await new Promise<number>((resolve) => {
      request({ socketPath: join(dir, 'api.sock'), path: '/v1/agg/nope' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end();
    });
    expect(status).toBe(404);
  });

  it('serves loopback TCP when asked, refuses any other address, and refuses what a web page could send', async () => {
    const token = 'a'.repeat(43);
    const free = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    servers.push(await startApiTcp(`127.0.0.1:${free}`, backend(), { token }));
    const ask = (method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: free, method, path, headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
          let t = '';
          res.on('data', (c: Buffer) => (t += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: t }));
        });
        req.on('error', reject);
        req.end(body);
      });
    expect(JSON.parse((await ask('GET', '/v1/status', {})).text)).toEqual({ id: 'me' });
    // A page in a browser on the device: it carries an Origin, or (DNS rebinding) its own Host.
    expect((await ask('GET', '/v1/status', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await ask('GET', '/v1/status', { host: `evil.example:${free}` })).status).toBe(403);
    // A form post needs no preflight; a JSON one does, and murmur never answers preflights.
    expect((await ask('PUT', '/v1/kv/x', { 'content-type': 'text/plain' }, '{"value": 1}')).status).toBe(415);
    expect((await ask('PUT', '/v1/kv/x', { 'content-type': 'application/json' }, '{"value": 1}')).status).toBe(200);
    await expect(startApiTcp('0.0.0.0:7479', backend(), { token })).rejects.toThrow('api.tcp: "0.0.0.0:7479" is not a loopback address');
    await expect(startApiTcp('10.0.0.5:7479', backend(), { token })).rejects.toThrow(/not a loopback/);
    await expect(startApiTcp('127.evil.example:7479', backend(), { token })).rejects.toThrow(/host names are not accepted/);
  });
});

describe('a watcher that stops reading', () => {
  it('is dropped and its connection closed once 1 MB waits unread, so it cannot pile up memory', async () => {
    servers.push(await startApi(join(dir, 'api.sock'), backend()));
    const { connect } = await import('node:net');
    const sock = connect(join(dir, 'api.sock'));
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => {});
    sock.write('GET /v1/watch HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => hub.size === 1);
    sock.pause();
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 200 && hub.size > 0; i++) {
      hub.publish({ type: 'kv', owner: 'a', key: 'k', value: big, version: i });
      await new Promise((r) => setImmediate(r));
    }
    expect(hub.size).toBe(0);
    expect(hub.dropped).toBe(1);
    // Reading again, the client finds the stream ended: the node let go of the connection.
    sock.resume();
    const timeout = new Promise<string>((r) => setTimeout(() => r('still open'), 5000));
    expect(await Promise.race([closed.then(() => 'closed'), timeout])).toBe('closed');
  });
});

describe('key paths', () => {
  it('refuses ".", ".." and empty segments instead of resolving them to another key', async () => {
    const written: string[] = [];
    servers.push(await startApi(join(dir, 'api.sock'), { ...backend(), set: (k) => (written.push(k), 1) }));
    const put = (path: string): Promise<number> =>
      new Promise((resolve) => {
        request({ socketPath: join(dir, 'api.sock'), method: 'PUT', path }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).end('{"value": 1}');
      });
    expect(await put('/v1/kv/sensor/../temp')).toBe(400);
    expect(await put('/v1/kv/sensor/%2e%2e/temp')).toBe(400);
    expect(await put('/v1/kv/a//b')).toBe(400);
    expect(await put('/v1/kv/a/b/')).toBe(400);
    expect(await put('/v1/kv/a%2Fb')).toBe(200);
    expect(await put('/v1/kv/sensor/t/temperature')).toBe(200);
    expect(written).toEqual(['a/b', 'sensor/t/temperature']);
  });
});

describe('WatchHub', () => {
  const sink = (buffered: () => number, got: unknown[], dropped: string[]): WatchSink => ({ buffered, send: (e) => got.push(e), drop: (why) => dropped.push(why) });

  it('drops a watcher that stops reading, and counts it', () => {
    const h = new WatchHub('me');
    let queued = 0;
    const got: unknown[] = [];
    const dropped: string[] = [];
    h.subscribe({ prefix: '', device: undefined }, sink(() => queued, got, dropped));
    h.publish({ type: 'kv', owner: 'a', key: 'k', value: 1, version: 1 });
    queued = 2 << 20;
    h.publish({ type: 'kv', owner: 'a', key: 'k', value: 2, version: 2 });
    h.publish({ type: 'kv', owner: 'a', key: 'k', value: 3, version: 3 });
    expect(got).toHaveLength(1);
    expect(dropped).toHaveLength(1);
    expect(h.dropped).toBe(1);
    expect(h.size).toBe(0);
  });

  it('takes at most MAX_WATCHERS', () => {
    const h = new WatchHub('me');
    for (let i = 0; i < MAX_WATCHERS; i++) expect(h.subscribe({ prefix: '', device: undefined }, sink(() => 0, [], []))).toBeTypeOf('function');
    expect(h.subscribe({ prefix: '', device: undefined }, sink(() => 0, [], []))).toBeUndefined();
  });
});

describe('aggregating one key across the fleet', () => {
  const members = [
    { id: 'a', status: 'alive' as const },
    { id: 'b', status: 'alive' as const },
    { id: 'c', status: 'dead' as const },
    { id: 'd', status: 'alive' as const },
  ];

  it('plain numbers: fresh while their device is alive; other values are listed, not averaged', () => {
    const r = aggregateKey(
      {
        members,
        entries: [
          { owner: 'a', key: 'level', value: 10, at: 0 },
          { owner: 'b', key: 'level', value: 30, at: 0 },
          { owner: 'c', key: 'level', value: 99, at: 0 },
          { owner: 'd', key: 'level', value: 'full', at: 0 },
        ],
      },
      'level',
      1000,
    );
    expect(r).toMatchObject({ count: 2, min: 10, max: 30, mean: 20, unit: null, stale: ['c'], nonNumeric: ['d'] });
  });

  it('sensor readings: with their unit, errors and staleness', () => {
    const reading = (v: number): string => JSON.stringify({ v, u: '°C', t: 0, i: 30 });
    const r = aggregateKey(
      {
        members,
        entries: [
          { owner: 'a', key: 'sensor/t/temperature', value: reading(20), at: 0 },
          { owner: 'b', key: 'sensor/t/temperature', value: JSON.stringify({ e: 'crc', u: '°C', t: 0, i: 30 }), at: 0 },
          { owner: 'd', key: 'sensor/t/temperature', value: reading(24), at: 0 },
        ],
      },
      'sensor/t/temperature',
      1000,
    );
    expect(r).toMatchObject({ count: 2, min: 20, max: 24, mean: 22, unit: '°C', errors: ['b'], stale: [] });
    expect(aggregateKey({ members, entries: [] }, 'x', 0)).toBeUndefined();
  });
});

describe('aggregating one key that made-up devices poison', () => {
  it('plain numbers: 1e308 and an outlier are left out with their reason; min, max and mean stay finite', () => {
    const members = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => ({ id, status: 'alive' as const }));
    const values: Record<string, unknown> = { a: 10, b: 11, c: 12, d: 11.5, e: 5000, f: 1e308, g: 'full' };
    const r = aggregateKey({ members, entries: Object.entries(values).map(([owner, value]) => ({ owner, key: 'level', value, at: 0 })) }, 'level', 1000);
    expect(r).toMatchObject({ count: 4, min: 10, max: 12, mean: 11.125, nonNumeric: ['g'] });
    expect(r!.leftOut).toEqual([
      { owner: 'e', reason: 'outlier', value: 5000 },
      { owner: 'f', reason: 'out-of-range', value: 1e308 },
      { owner: 'g', reason: 'not-a-number' },
    ]);
    expect(r!.devices.find((d) => d.owner === 'f')).toMatchObject({ state: 'fresh', reason: 'out-of-range' });
  });

  it('sensor readings: the unit the real devices use wins over absurd values in another, and this device breaks a tie', () => {
    const reading = (v: number, u: string): string => JSON.stringify({ v, u, t: 0, i: 30 });
    const members = ['a', 'b', 'x', 'y', 'z'].map((id) => ({ id, status: 'alive' as const }));
    const entries = [
      { owner: 'a', key: 'sensor/t/temperature', value: reading(20, '°C'), at: 0 },
      { owner: 'b', key: 'sensor/t/temperature', value: reading(293, 'K'), at: 0 },
      ...['x', 'y', 'z'].map((owner) => ({ owner, key: 'sensor/t/temperature', value: reading(1e308, 'K'), at: 0 })),
    ];
    const mine = aggregateKey({ members, entries }, 'sensor/t/temperature', 1000, { self: 'a' });
    expect(mine).toMatchObject({ unit: '°C', count: 1, min: 20, max: 20, mean: 20 });
    expect(mine!.leftOut.map((l) => `${l.owner}:${l.reason}`)).toEqual(['b:unit', 'x:out-of-range', 'y:out-of-range', 'z:out-of-range']);
    expect(aggregateKey({ members, entries }, 'sensor/t/temperature', 1000, { self: 'b' })).toMatchObject({ unit: 'K', mean: 293 });
  });
});

describe('the socket group', () => {
  it('gives the socket to the configured admin group (by name or gid), and names a group that does not exist', async () => {
    const { readFileSync, statSync } = await import('node:fs');
    const [name, , gid] = readFileSync('/etc/group', 'utf8').split('\n').find((l) => !l.startsWith('root:') && l.includes(':'))!.split(':');
    servers.push(await startApi(join(dir, 'api.sock'), backend(), { group: name! }));
    expect(statSync(join(dir, 'api.sock')).gid).toBe(Number(gid));
    expect(statSync(join(dir, 'api.sock')).mode & 0o777).toBe(0o660);
    await expect(startApi(join(dir, 'other.sock'), backend(), { group: 'no-such-group-here' })).rejects.toThrow('api.group: cannot give the socket to group "no-such-group-here": no group "no-such-group-here" in /etc/group');
  });
});
