// The fleet page's server against a stand-in backend, on loopback: what it serves, who it lets
// in (token, Host, Origin), and that bad requests, slow clients and too many pages get an HTTP
// error while the node keeps answering. "Beyond loopback" is the page's policy for a non-loopback
// listen address, exercised here on 127.0.0.1 by telling the server it is not loopback.

import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UnknownMemberError, type ApiBackend } from '../../runtime/api/server.js';
import { WatchHub } from '../../runtime/api/watch.js';
import { startPage, type PageServer } from '../../runtime/api/page/page-server.js';
import type { FleetView } from '../../runtime/api/page/fleet-view.js';

const TOKEN = 'a'.repeat(43);
let page: PageServer | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await page?.close();
  page = undefined;
});

function fakeBackend(hub = new WatchHub('me')): ApiBackend & { identified: unknown[]; watch: WatchHub } {
  const identified: unknown[] = [];
  return {
    identified,
    watch: hub,
    status: () => ({ id: 'me', fleet: 'greenhouse', gen: 7, addr: '127.0.0.1:1', led: { status: 'degraded', why: ['1 peer suspect', 'partition suspected (2 of 3 peers lost within 30 s)'] } }),
    members: () => [
      { id: 'flaky', gen: 3, status: 'unreliable', explanation: 'answers 60% of probes', addr: '127.0.0.1:2', lastHeardMsAgo: 1200, suspicion: null, led: 'healthy' },
      { id: 'gone', gen: 2, status: 'suspect', addr: '127.0.0.1:3', lastHeardMsAgo: 9000, suspicion: { confirmations: 1 }, led: 'healthy' },
    ],
    keysOf: (owner) =>
      owner === 'me'
        ? { 'sensor/room/temperature': { value: '{"v":21.5,"u":"°C","t":1,"i":300}', version: 1 }, note: { value: 'hello', version: 2 } }
        : owner === 'flaky' || owner === 'gone'
          ? {}
          : undefined,
    set: () => 1,
    delete: () => false,
    hal: {
      sensors: () => ({}),
      fleet: () => [{ key: 'sensor/room/temperature', unit: '°C', count: 1, min: 21.5, max: 21.5, mean: 21.5, leftOut: [], devices: 1 }],
      identify: (target, seconds, off) => {
        if (target === 'nobody') throw new UnknownMemberError(`target: no device "${target}"`);
        identified.push({ target, seconds, off });
        return { target, seconds };
      },
      ledsTest: () => ({}),
    },
  };
}

async function open(loopback = true, maxClients = 2, backend: ApiBackend = fakeBackend()): Promise<PageServer> {
  page = await startPage(backend, { listen: { host: '127.0.0.1', port: 0, loopback }, token: TOKEN, maxClients });
  return page;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function call(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: page!.port, method, path, headers: { host: `127.0.0.1:${page!.port}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A watch stream held open: its status, and the frames received so far. */
function stream(headers: Record<string, string> = {}): Promise<{ status: number; frames: () => string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: page!.port, path: '/v1/watch', headers: { host: `127.0.0.1:${page!.port}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      resolve({ status: res.statusCode ?? 0, frames: () => text, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('fleet page server', () => {
  it('serves the page and its two assets from itself, with a policy that forbids loading anything from elsewhere', async () => {
    await open();
    const html = await call('GET', '/');
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.text).toContain('<script src="/page.js"');
    // Every asset the HTML names is served here; none is fetched from the internet.
    const refs = [...html.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((r) => !r.startsWith('data:'));
    expect(refs.sort()).toEqual(['/page.css', '/page.js']);
    for (const r of refs) expect((await call('GET', r)).status).toBe(200);
    expect(html.text).not.toMatch(/https?:\/\//);
    expect(String(html.headers['content-security-policy'])).toContain("default-src 'none'");
    expect((await call('GET', '/page.js')).headers['content-type']).toMatch(/^text\/javascript/);
  });

  it('shows every device with its status as the member view says it, its explanation, LED, values and the aggregates', async () => {
    await open();
    const r = await call('GET', '/v1/fleet');
    expect(r.status).toBe(200);
    const v = JSON.parse(r.text) as FleetView;
    expect(v.devices.map((d) => [d.id, d.status, d.led])).toEqual([
      ['me', 'alive', 'degraded'],
      ['flaky', 'unreliable', 'healthy'],
      ['gone', 'suspect', 'healthy'],
    ]);
    expect(v.devices[1]!.explanation).toBe('answers 60% of probes');
    expect(v.devices[0]!.values).toEqual([
      { key: 'note', text: 'hello', unit: null, error: null, history: [] },
      { key: 'sensor/room/temperature', text: '21.5', unit: '°C', error: null, history: [[expect.any(Number), 21.5]] },
    ]);
    expect(v.suspicions).toEqual([{ id: 'gone', suspicion: { confirmations: 1 } }]);
    expect(v.partition).toMatch(/^partition suspected/);
    expect(v.self.fleet).toBe('greenhouse');
    expect((v.aggregates as unknown[]).length).toBe(1);
    // Read on loopback without a token: Identify is not offered.
    expect(v.canIdentify).toBe(false);
    expect((JSON.parse((await call('GET', '/v1/fleet', auth)).text) as FleetView).canIdentify).toBe(true);
  });

  it.each([
    ['GET', '/nothing', 404],
    ['GET', '/v1/members', 404],
    ['GET', '/../../etc/passwd', 404],
    ['GET', '/%zz', 404],
    ['PUT', '/v1/fleet', 405],
    ['DELETE', '/v1/identify', 405],
    ['POST', '/', 405],
  ])('%s %s: %i', async (method, path, status) => {
    await open();
    const r = await call(method, path);
    expect(r.status).toBe(status);
    expect(JSON.parse(r.text)).toHaveProperty('error');
  });

  it('on loopback: refuses a Host that is not this machine (DNS rebinding) and any other origin', async () => {
    await open();
    expect((await call('GET', '/v1/fleet', { host: 'evil.example:80' })).status).toBe(403);
    expect((await call('GET', '/v1/fleet', { host: `localhost:${page!.port}` })).status).toBe(200);
    expect((await call('GET', '/v1/fleet', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await call('GET', '/v1/fleet', { origin: `http://127.0.0.1:${page!.port}` })).status).toBe(200);
  });

  it('beyond loopback: every data request needs the token, a wrong one is refused, the assets are public', async () => {
    await open(false);
    expect((await call('GET', '/')).status).toBe(200);
    const none = await call('GET', '/v1/fleet', { host: 'pi-7.local:7480' });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect((await call('GET', '/v1/fleet', { authorization: `Bearer ${'b'.repeat(43)}` })).status).toBe(401);
    expect((await call('GET', '/v1/fleet', { authorization: TOKEN })).status).toBe(401);
    expect((await stream()).status).toBe(401);
    expect((await call('GET', '/v1/fleet', { host: 'pi-7.local:7480', ...auth })).status).toBe(200);
    expect((await call('GET', '/v1/fleet', { ...auth, origin: 'http://evil.example' })).status).toBe(403);
  });

  it('Identify needs the token even on loopback, a JSON body, a known device and sane seconds', async () => {
    const b = fakeBackend();
    await open(true, 2, b);
    const json = { 'content-type': 'application/json' };
    expect((await call('POST', '/v1/identify', json, '{"target":"flaky"}')).status).toBe(401);
    expect((await call('POST', '/v1/identify', { ...auth }, '{"target":"flaky"}')).status).toBe(415);
    expect((await call('POST', '/v1/identify', { ...auth, ...json }, '{"target":"nobody"}')).status).toBe(404);
    expect((await call('POST', '/v1/identify', { ...auth, ...json }, '{"target":"flaky","seconds":99999}')).status).toBe(400);
    expect((await call('POST', '/v1/identify', { ...auth, ...json }, '{"target":"flaky","seconds":30}')).status).toBe(200);
    expect((await call('POST', '/v1/identify', { ...auth, ...json }, JSON.stringify({ target: 'x'.repeat(2000) }))).status).toBe(413);
    expect(b.identified).toEqual([{ target: 'flaky', seconds: 30, off: false }]);
  });

  it('streams key and member changes as server-sent events', async () => {
    const b = fakeBackend();
    await open(true, 2, b);
    const s = await stream();
    expect(s.status).toBe(200);
    b.watch.publish({ type: 'member', id: 'gone', status: 'dead', previous: 'suspect', gen: 2 });
    b.watch.publish({ type: 'kv', owner: 'flaky', key: 'sensor/room/temperature', value: '{"v":19,"u":"°C","t":2,"i":300}', version: 4 });
    await until(() => s.frames().includes('"version":4'));
    expect(s.frames()).toContain('data: {"type":"member","id":"gone","status":"dead"');
    // The reading arrives as the JSON it spells, and went into the plot's history.
    expect(s.frames()).toContain('"value":{"v":19,"u":"°C","t":2,"i":300}');
    expect(page!.history.of('flaky', 'sensor/room/temperature').map((p) => p.v)).toEqual([19]);
    s.close();
  });

  it('at most http.maxClients pages: the next is refused with 503, and a closed one makes room', async () => {
    await open(true, 2);
    const a = await stream();
    const b = await stream();
    expect([a.status, b.status]).toEqual([200, 200]);
    const c = await stream();
    expect(c.status).toBe(503);
    expect(c.frames()).not.toContain('data:');
    // Reads still work while the streams are full.
    expect((await call('GET', '/v1/fleet')).status).toBe(200);
    a.close();
    await until(() => page!.clients() === 1);
    expect((await stream()).status).toBe(200);
  });

  it('huge headers get 431, and the node answers the next request', async () => {
    await open();
    expect((await call('GET', '/', { 'x-big': 'a'.repeat(20_000) })).status).toBe(431);
    expect((await call('GET', '/v1/fleet')).status).toBe(200);
  });

  it('slow clients (headers sent a byte at a time, or never finished) are cut off and never hold the node', async () => {
    await open();
    // Many connections that send part of a request line and stop.
    for (let i = 0; i < 40; i++) {
      const s = connect(page!.port, '127.0.0.1');
      s.on('error', () => {});
      s.write('GET /v1/fleet HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      sockets.push(s);
    }
    const started = Date.now();
    expect((await call('GET', '/v1/fleet')).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2000);
    // The oldest stalled one is closed by the server (408 or a plain close) within the header timeout.
    const first = sockets[sockets.length - 1]!;
    const ended = await new Promise<string>((resolve) => {
      let got = '';
      first.on('data', (c: Buffer) => (got += c.toString()));
      first.on('close', () => resolve(got));
    });
    expect(ended === '' || ended.startsWith('HTTP/1.1 408')).toBe(true);
  }, 20_000);

  it('a page that stops reading its stream is dropped once too much is queued for it', async () => {
    const b = fakeBackend();
    await open(true, 2, b);
    const s = connect(page!.port, '127.0.0.1');
    sockets.push(s);
    s.on('error', () => {});
    s.write(`GET /v1/watch HTTP/1.1\r\nHost: 127.0.0.1:${page!.port}\r\n\r\n`);
    await until(() => page!.clients() === 1);
    s.pause();
    const big = 'x'.repeat(900);
    for (let i = 0; i < 5000 && page!.clients() === 1; i++) {
      b.watch.publish({ type: 'kv', owner: 'me', key: `k${i}`, value: big, version: i });
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    await until(() => page!.clients() === 0);
    expect(b.watch.dropped).toBe(1);
  });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
