import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseLine } from '../../runtime/agent/log.js';

// `murmur start` as an operator runs it: a spawned process. Multicast is off and the node binds
// to loopback, so nothing leaves this host.

const BIN = join(import.meta.dirname, '../../dist/runtime/cli/bin.js');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-start-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('murmur start', () => {
  it('a bad config file fails with exit code 78 and a message naming the file and the field', () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, '{"network": {"multicast": "yes"}}');
    const r = spawnSync(process.execPath, [BIN, 'start', '--config', f], { encoding: 'utf8' });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/bad\.json: network\.multicast: expected true or false, got "yes"/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('an unknown option fails with exit code 2 and the usage', () => {
    const r = spawnSync(process.execPath, [BIN, 'start', '--prot', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option "--prot"/);
    expect(r.stderr).toMatch(/usage: murmur start/);
  });

  it('--help prints the options and exits 0', () => {
    const r = spawnSync(process.execPath, [BIN, 'start', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--no-multicast/);
  });

  it('runs, logs one parseable line per event, persists a key set through the API, and on SIGTERM leaves and exits 0', async () => {
    const state = join(dir, 'state');
    const proc = spawn(process.execPath, [BIN, 'start', '--state-dir', state, '--name', 'solo', '--no-multicast', '--families', 'ipv4', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const until = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 25));
      expect(out).toMatch(re);
    };
    await until(/event=node-starting/);
    await until(/event=node-starting[^\n]*\n/);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath: join(state, 'murmur.sock'), method: 'PUT', path: '/v1/kv/role' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{"value": "gateway"}');
    });
    expect(status).toBe(200);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    const events = out.trim().split('\n').map(parseLine);
    expect(events.map((e) => e['event'])).toEqual(expect.arrayContaining(['node-starting', 'signal', 'node-leaving', 'node-stopped']));
    for (const e of events) expect(e['ts']).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(events.find((e) => e['event'] === 'node-starting')).toMatchObject({ node: 'solo', multicast: 'false' });
    // The key was flushed on the way out, even though the coalescing delay had not passed.
    expect(JSON.parse(readFileSync(join(state, 'own-keys.json'), 'utf8'))).toEqual({ keys: { role: { value: 'gateway' } } });
    expect(JSON.parse(readFileSync(join(state, 'boot.json'), 'utf8')).gen).toBeGreaterThan(1_700_000_000);
  });
});
