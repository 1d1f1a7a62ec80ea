import { mkdtempSync, rmSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_OPEN_QUERIES, QueryHub } from '../../runtime/api/query.js';
import { startApi } from '../../runtime/api/server.js';

// POST /v1/query against a hub whose "core" is this test: it sees what was asked and feeds
// the events a core would emit.

let dir: string;
let server: Server | undefined;
let asked: { name: string; payload: Uint8Array; prefix: string; timeoutMs: number }[];
let hub: QueryHub;
let clock = 0;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-query-api-'));
  asked = [];
  hub = new QueryHub({
    id: 'me',
    ask: (name, payload, prefix, timeoutMs) => asked.push({ name, payload, prefix, timeoutMs }),
    expected: () => 2,
    now: () => clock,
  });
  server = await startApi(join(dir, 'api.sock'), { status: () => ({}), members: () => [], keysOf: () => undefined, set: () => 1, delete: () => false, query: hub });
});
afterEach(async () => {
  server?.closeAllConnections();
  if (server) await new Promise((r) => server!.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** POST a query; resolves with the status and every line once the response ends. `onLine` sees each line as it arrives. */
function post(body: unknown, onLine: (line: string) => void = () => {}): Promise<{ status: number; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dir, 'api.sock'), method: 'POST', path: '/v1/query', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      const lines: string[] = [];
      res.on('data', (c: Buffer) => {
        text += c.toString();
        let nl: number;
        while ((nl = text.indexOf('\n')) >= 0) {
          const line = text.slice(0, nl);
          text = text.slice(nl + 1);
          lines.push(line);
          onLine(line);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, lines }));
    });
    req.on('error', reject);
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
}

describe('POST /v1/query', () => {
  it('streams each reply as it comes and ends with who did not answer', async () => {
    const result = post({ name: 'version', prefix: 'pi-', payload: 'héllo', timeoutMs: 2000 }, (line) => {
      const e = JSON.parse(line) as { type: string; qid: number };
      // The stream is live: each event below is fed only after the previous line reached the client.
      if (e.type === 'asked') {
        clock = 12;
        hub.observe({ type: 'query-reply', qid: e.qid, from: { id: 'pi-a', gen: 1 }, status: 'ok', body: new TextEncoder().encode('0.1.0') });
      } else if (e.type === 'reply') {
        clock = 2000;
        hub.observe({ type: 'query-done', qid: 1, answered: ['pi-a'], missing: ['pi-b'] });
      }
    });
    const r = await result;
    expect(r.status).toBe(200);
    expect(asked.map((q) => ({ ...q, payload: Buffer.from(q.payload).toString('utf8') }))).toEqual([{ name: 'version', payload: 'héllo', prefix: 'pi-', timeoutMs: 2000 }]);
    expect(r.lines.map((l) => JSON.parse(l))).toEqual([
      { type: 'asked', qid: 1, from: 'me', name: 'version', prefix: 'pi-', timeoutMs: 2000, expected: 2 },
      { type: 'reply', from: 'pi-a', status: 'ok', body: '0.1.0', ms: 12 },
      { type: 'done', answered: 1, missing: ['pi-b'], ms: 2000 },
    ]);
    expect(hub.open).toBe(0);
  });

  it('speaks Server-Sent Events when asked to', async () => {
    const text = await new Promise<{ type: string; body: string }>((resolve, reject) => {
      const req = request(
        { socketPath: join(dir, 'api.sock'), method: 'POST', path: '/v1/query', headers: { 'content-type': 'application/json', accept: 'text/event-stream' } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
            if (body.includes('\n\n') && !body.includes('"done"')) hub.observe({ type: 'query-done', qid: 1, answered: [], missing: ['pi-b'] });
          });
          res.on('end', () => resolve({ type: String(res.headers['content-type']), body }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ name: 'version' }));
    });
    expect(text.type).toBe('text/event-stream');
    expect(text.body).toMatch(/^data: \{"type":"asked".*\}\n\ndata: \{"type":"done","answered":0,"missing":\["pi-b"\],"ms":\d+\}\n\n$/s);
  });

  it('refuses a payload over 512 bytes with 413, naming the limit, without asking', async () => {
    const r = await post({ name: 'echo', payload: 'x'.repeat(600) });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.lines[0]!)).toEqual({ error: 'payload-too-large', message: 'body.payload: 600 bytes is over the 512-byte limit (a query travels in one datagram)' });
    // A 1 MB body is refused before it is even read whole.
    const big = await post({ name: 'echo', payload: 'x'.repeat(1 << 20) });
    expect(big.status).toBe(413);
    expect(asked).toEqual([]);
  });

  it('refuses a bad body with 400 and more than the open queries with 429', async () => {
    expect((await post({ payload: 'x' })).status).toBe(400);
    expect(JSON.parse((await post({ name: 'v', timeoutMs: 5 })).lines[0]!)).toMatchObject({ error: 'invalid-body', message: expect.stringMatching(/body\.timeoutMs/) });
    const open = Array.from({ length: MAX_OPEN_QUERIES }, () => post({ name: 'version' }));
    for (let i = 0; i < 100 && asked.length < MAX_OPEN_QUERIES; i++) await new Promise((r) => setTimeout(r, 10));
    const r = await post({ name: 'version' });
    expect(r.status).toBe(429);
    expect(JSON.parse(r.lines[0]!)).toMatchObject({ error: 'too-many-queries' });
    for (let qid = 1; qid <= MAX_OPEN_QUERIES; qid++) hub.observe({ type: 'query-done', qid, answered: [], missing: [] });
    for (const o of await Promise.all(open)) expect(o.status).toBe(200);
  });
});
