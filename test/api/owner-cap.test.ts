// A device's own writes past its per-owner caps (the caps every replica enforces for it) are
// refused by the local API with a 4xx that names the key and the cap.
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApi, type ApiBackend } from '../../runtime/api/server.js';
import { Node } from '../../runtime/core/node.js';
import { profiles } from '../../runtime/core/profiles.js';
import { lcg, Recorder, roughSize } from '../core/recorder.js';

let dir: string | undefined;
let server: Server | undefined;
afterEach(async () => {
  if (server) await new Promise((r) => server!.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function put(sock: string, key: string, value: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method: 'PUT', path: `/v1/kv/${key}` }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ value }));
  });
}

describe('local API: per-owner caps', () => {
  it('the 257th key, or a value past 64 KiB in all, answers 409 owner-cap naming the key and the cap', async () => {
    const node = new Node({ id: 'me', gen: 1, addr: 'sim:me', profile: profiles.lan, rng: lcg(1), size: roughSize, multicast: true });
    const fx = new Recorder();
    node.start(0, fx);
    const backend: ApiBackend = {
      status: () => ({}),
      members: () => [],
      keysOf: () => undefined,
      set: (key, value) => node.set(0, key, value, fx),
      delete: () => false,
    };
    dir = mkdtempSync(join(tmpdir(), 'murmur-cap-'));
    const sock = join(dir, 'api.sock');
    server = await startApi(sock, backend);
    for (let i = 0; i < 256; i++) node.set(0, `k${i}`, i, fx);
    const r = await put(sock, 'one-too-many', 1);
    expect(r.status).toBe(409);
    expect(r.json.error).toBe('owner-cap');
    expect(r.json.message).toMatch(/key "one-too-many": .*256 keys, the cap is 256 per device/);
    // Bytes: 70 values of 1000 bytes replace held keys, past 64 KiB in all.
    let last = { status: 200, json: {} as Record<string, unknown> };
    for (let i = 0; i < 70 && last.status === 200; i++) last = await put(sock, `k${i}`, 'v'.repeat(1000));
    expect(last.status).toBe(409);
    expect(last.json.message).toMatch(/cap of 65536 bytes per device/);
  });
});
