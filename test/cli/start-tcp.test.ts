import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// `murmur start` with api.tcp, as an operator runs it: a spawned process on loopback only.

const BIN = join(import.meta.dirname, '../../dist/runtime/cli/bin.js');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-start-tcp-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('murmur start with api.tcp', () => {
  it('makes a 0600 token file, refuses TCP requests without the token, and the CLI uses it', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const state = join(dir, 'state');
    const config = join(dir, 'murmur.yaml');
    writeFileSync(config, `node:\n  name: solo\n  stateDir: ${state}\napi:\n  tcp: 127.0.0.1:${port}\n`);
    const proc = spawn(process.execPath, [BIN, 'start', '--config', config, '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 200 && !/event=api-tcp/.test(out); i++) await new Promise((r) => setTimeout(r, 25));
      expect(out).toMatch(/event=api-tcp listen=127\.0\.0\.1:\d+ token_file=\S+api-token token_created=true/);
      const tokenFile = join(state, 'api-token');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(readFileSync(tokenFile, 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'GET', path: '/v1/keys' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(401);
      const cli = spawnSync(process.execPath, [BIN, 'status', '--json', '--config', config, '--socket', `127.0.0.1:${port}`], { encoding: 'utf8' });
      expect(cli.stderr).toBe('');
      expect(JSON.parse(cli.stdout)).toMatchObject({ id: 'solo' });
    } finally {
      proc.kill('SIGTERM');
      await exited;
    }
  });
});
