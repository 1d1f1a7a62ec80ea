// GET /metrics from running agents (in-process, loopback, multicast off): on the local API's
// socket, and on the LAN listener (metrics.listen) with its token. promtool checks a real
// scrape. Bad requests (paths, methods, tokens, huge headers, slow and idle clients) are
// answered with an HTTP error or closed, and the node keeps answering meanwhile.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { begin, run, until, type Started } from '../cli/recording-io.js';

let dir: string;
let port: number;
const started: Started[] = [];
let a: { at: string[]; state: string; addr: string };

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function get(opts: { socketPath?: string; port?: number; path?: string; method?: string; headers?: Record<string, string> }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { ...(opts.socketPath ? { socketPath: opts.socketPath } : { host: '127.0.0.1', port: opts.port }), path: opts.path ?? '/metrics', method: opts.method ?? 'GET', headers: opts.headers ?? {} },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const token = (): string => readFileSync(join(a.state, 'metrics-token'), 'utf8').trim();
const scrapeLan = (headers: Record<string, string> = {}): Promise<Reply> => get({ port, headers: { authorization: `Bearer ${token()}`, ...headers } });

async function startNode(name: string, extra: readonly string[]): Promise<{ at: string[]; state: string; addr: string }> {
  const state = join(dir, name);
  const s = begin(['start', '--state-dir', state, '--name', name, '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware', ...extra]);
  started.push(s);
  const at = ['--state-dir', state];
  const addr = await until(`${name} to serve (log: ${s.io.stdoutText()}${s.io.stderrText()})`, async () => {
    const r = await run(['status', '--json', ...at]);
    return r.code === 0 ? String((JSON.parse(r.out) as { addr: string }).addr) : undefined;
  }, 15_000);
  return { at, state, addr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-metrics-'));
  port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
  const keyFile = join(dir, 'fleet.key');
  writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`);
  const config = join(dir, 'metrics.yaml');
  writeFileSync(config, `metrics:\n  enabled: true\n  listen: 127.0.0.1:${port}\n`);
  a = await startNode('a', ['--config', config, '--fleet-key-file', keyFile]);
  await startNode('b', ['--fleet-key-file', keyFile, '--seed', a.addr]);
  await until('a to know b', async () => ((await run(['members', '--json', ...a.at])).out.includes('"id":"b"') ? true : undefined), 15_000);
}, 40_000);

afterAll(async () => {
  for (const s of started) s.io.signal('SIGTERM');
  await Promise.all(started.map((s) => s.exited));
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /metrics on a running agent', () => {
  it('is served on the API socket: membership, traffic, keyring, sensors and LED, and promtool passes it', async () => {
    await until('a sensor reading in the metrics', async () => {
      const r = await get({ socketPath: join(a.state, 'murmur.sock') });
      return /^murmur_sensor_celsius\{sensor="[^"]+",quantity="temperature"\} [\d.]+$/m.test(r.text) ? true : undefined;
    });
    const r = await get({ socketPath: join(a.state, 'murmur.sock') });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toMatch(/^murmur_members\{status="alive"\} 1$/m);
    expect(r.text).toMatch(/^murmur_node_info\{node="a",profile="lan"\} 1$/m);
    expect(r.text).toMatch(/^murmur_datagrams_sent_total\{type="heartbeat"\} [1-9]\d*$/m);
    expect(r.text).toMatch(/^murmur_fleet_keys\{state="active"\} 1$/m);
    expect(r.text).toMatch(/^murmur_led_status\{status="[a-z]+"\} 1$/m);
    expect(r.text).toMatch(/^murmur_sensor_ratio\{sensor="[^"]+",quantity="humidity"\} 0\.\d+$/m);
    expect(r.text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(r.text).toMatch(/^# TYPE murmur_change_arrival_seconds histogram$/m);
    // No series names a peer unless metrics.peerLabels asks.
    expect(r.text).not.toMatch(/peer="/);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: r.text, encoding: 'utf8' });
    expect(promtool.error, 'promtool is missing: install Debian\'s "prometheus" package').toBeUndefined();
    expect(promtool.stdout + promtool.stderr).toBe('');
    expect(promtool.status).toBe(0);
  });

  it('is served on metrics.listen with the bearer token from a 0600 file it made', async () => {
    expect(statSync(join(a.state, 'metrics-token')).mode & 0o777).toBe(0o600);
    const r = await scrapeLan();
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^murmur_members\{status="alive"\} 1$/m);
    const head = await get({ port, method: 'HEAD', headers: { authorization: `Bearer ${token()}` } });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it.each([
    ['no token', { headers: {} }, 401, 'unauthorized'],
    ['a wrong token', { headers: { authorization: 'Bearer not-the-token-not-the-token-not-the-token' } }, 401, 'unauthorized'],
    ['a web page (Origin)', { headers: { origin: 'http://evil.example' }, withToken: true }, 403, 'forbidden'],
    ['another path', { path: '/v1/status', withToken: true }, 404, 'not-found'],
    ['a path traversal', { path: '/metrics/../v1/kv/a', withToken: true }, 404, 'not-found'],
    ['a write', { method: 'POST', withToken: true }, 405, 'method-not-allowed'],
  ] as const)('refuses %s on the LAN listener', async (_what, req, status, code) => {
    const headers: Record<string, string> = { ...('headers' in req ? req.headers : {}), ...('withToken' in req ? { authorization: `Bearer ${token()}` } : {}) };
    const r = await get({ port, headers, ...('path' in req ? { path: req.path } : {}), ...('method' in req ? { method: req.method } : {}) });
    expect(r.status).toBe(status);
    expect(JSON.parse(r.text)).toMatchObject({ error: code });
  });

  it('answers 431 to huge headers, and closes slow and idle clients while scrapes and the API go on', async () => {
    const huge = await get({ port, headers: { authorization: `Bearer ${token()}`, 'x-pad': 'x'.repeat(20_000) } });
    expect(huge.status).toBe(431);
    // Clients that connect and never finish their headers: more than the listener admits.
    const slow: Socket[] = [];
    for (let i = 0; i < 12; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.resume();
      s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      slow.push(s);
    }
    const replies: string[] = [];
    for (const s of slow) s.on('data', (d: Buffer) => replies.push(d.toString().split('\r\n')[0]!));
    const closed = Promise.all(slow.map((s) => new Promise<void>((r) => s.once('close', () => r()))));
    // The node goes on: its API answers, a scrape on the socket too, and a scraper on the
    // listener is served at once (the oldest idle connection makes room for it).
    expect((await run(['status', '--json', ...a.at])).code).toBe(0);
    expect((await get({ socketPath: join(a.state, 'murmur.sock') })).status).toBe(200);
    expect((await scrapeLan()).status).toBe(200);
    // All of it while slow clients still hold connections.
    expect(slow.filter((s) => !s.closed).length).toBeGreaterThan(0);
    // The slow ones are cut off: the oldest to make room, the rest by the headers timeout, told why.
    await closed;
    expect(replies.length).toBeGreaterThan(0);
    expect(new Set(replies)).toEqual(new Set(['HTTP/1.1 408 Request Timeout']));
    expect((await scrapeLan()).status).toBe(200);
  }, 20_000);

  it('answers 404 naming the field on a node with metrics off, and 405 to a write on the socket', async () => {
    const b = join(dir, 'b', 'murmur.sock');
    const off = await get({ socketPath: b });
    expect(off.status).toBe(404);
    expect(JSON.parse(off.text)).toMatchObject({ error: 'metrics-off', message: expect.stringMatching(/metrics\.enabled: true/) });
    const post = await get({ socketPath: join(a.state, 'murmur.sock'), method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });
});
