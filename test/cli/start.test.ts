import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseLine } from '../../runtime/log/log.js';
import { begin, run } from './recording-io.js';

// `murmur start`, in-process, and as an operator runs it: the built binary, for its exit codes
// and its stop on SIGTERM. Multicast is off and the node binds to loopback, so nothing leaves
// this host.

const BIN = join(import.meta.dirname, '../../dist/runtime/cli/bin.js');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-start-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('murmur start', () => {
  it('a bad config file fails with exit code 78 and a message naming the file and the field', async () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, '{"network": {"multicast": "yes"}}');
    const r = await run(['start', '--config', f]);
    expect(r.code).toBe(78);
    expect(r.err).toMatch(/bad\.json:1: network\.multicast: expected true or false, got "yes"/);
    expect(r.err).not.toMatch(/at .*\.js:\d+/);
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
    const proc = spawn(process.execPath, [BIN, 'start', '--state-dir', state, '--name', 'solo', '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    const put = (): Promise<number> =>
      new Promise<number>((resolve, reject) => {
        const req = request({ socketPath: join(state, 'murmur.sock'), method: 'PUT', path: '/v1/kv/role' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end('{"value": "gateway"}');
      });
    // node-starting is logged before the API socket listens: retry while it is not there yet.
    let status = 0;
    for (let i = 0; ; i++) {
      try {
        status = await put();
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (i >= 200 || (code !== 'ENOENT' && code !== 'ECONNREFUSED')) throw e;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
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

describe('murmur start that cannot start, on a device with a board LED', () => {
  const ACT = 'sys/class/leds/ACT';
  const board = (): string => {
    const root = join(dir, 'root');
    mkdirSync(join(root, ACT), { recursive: true });
    writeFileSync(join(root, ACT, 'trigger'), 'none timer heartbeat default-on [mmc0]\n');
    writeFileSync(join(root, ACT, 'brightness'), '0\n');
    writeFileSync(join(root, ACT, 'max_brightness'), '1\n');
    return root;
  };
  // As a service runs it: no terminal on stdin, so the LED says what the log says.
  const env = { MURMUR_FATAL_LED_MS: '1500' };

  it('a bad cron expression is a config error (exit 78), shown as error on the LED, which is then handed back', async () => {
    const root = board();
    const f = join(dir, 'c.json');
    writeFileSync(f, JSON.stringify({ hal: { sensors: [{ name: 'x', type: 'load', schedule: '*/70 * * * *' }] } }));
    const t0 = Date.now();
    const r = await run(['start', '--config', f, '--hal-root', root, '--state-dir', join(dir, 's')], { env });
    expect(r.code).toBe(78);
    expect(r.err).toMatch(/c\.json:\d+: hal\.sensors\[0\]\.schedule: "\*\/70 \* \* \* \*" is not a valid cron expression/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(readFileSync(join(root, ACT, 'trigger'), 'utf8')).toContain('mmc0');
  });

  it('at a terminal, a config error is only printed: the LED is left alone', async () => {
    const root = board();
    const f = join(dir, 'c.json');
    writeFileSync(f, '{"network": {"multicast": "yes"}}');
    const t0 = Date.now();
    // Long enough that playing the pattern could not go unnoticed.
    const r = await run(['start', '--config', f, '--hal-root', root], { env: { MURMUR_FATAL_LED_MS: '30000' }, stdinTTY: true });
    expect(r.code).toBe(78);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(readFileSync(join(root, ACT, 'trigger'), 'utf8')).toBe('none timer heartbeat default-on [mmc0]\n');
  });

  it('a start that fails after the LEDs were taken over hands them back to the kernel', async () => {
    const root = board();
    const state = join(dir, 's');
    mkdirSync(state, { recursive: true });
    // Not a socket: the API refuses to replace it, after the HAL, keys and sockets are up.
    writeFileSync(join(state, 'murmur.sock'), 'a file');
    const r = await run(['start', '--hal-root', root, '--state-dir', state, '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0'], { env });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/event=start-failed .*exists and is not a socket/);
    expect(r.out).toMatch(/event=led-ready led=status backend=sysfs-led/);
    expect(readFileSync(join(root, ACT, 'trigger'), 'utf8')).toContain('mmc0');
  });
});

describe('murmur start whose port is taken', () => {
  it('fails naming the socket, and the board LED it had taken over is handed back', async () => {
    const { createSocket } = await import('node:dgram');
    const held = createSocket('udp4');
    await new Promise<void>((r) => held.bind(0, '0.0.0.0', () => r()));
    const port = held.address().port;
    try {
      const root = join(dir, 'root');
      mkdirSync(join(root, 'sys/class/leds/ACT'), { recursive: true });
      writeFileSync(join(root, 'sys/class/leds/ACT/trigger'), 'none timer [mmc0]\n');
      writeFileSync(join(root, 'sys/class/leds/ACT/brightness'), '0\n');
      writeFileSync(join(root, 'sys/class/leds/ACT/max_brightness'), '1\n');
      const r = await run(['start', '--hal-root', root, '--state-dir', join(dir, 's'), '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', String(port)], { env: { MURMUR_FATAL_LED_MS: '0' } });
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/event=start-failed/);
      expect(r.out).toMatch(new RegExp(`${port}`));
      expect(readFileSync(join(root, 'sys/class/leds/ACT/trigger'), 'utf8')).toContain('mmc0');
    } finally {
      held.close();
    }
  });
});

describe('murmur start asked twice to stop', () => {
  it('stops at once with exit 130 and the own keys saved, not waiting for the leave', async () => {
    const state = join(dir, 'state');
    const node = begin(['start', '--state-dir', state, '--name', 'hasty', '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware']);
    const log = (): string => node.io.stdoutText();
    const until = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 200 && !re.test(log()); i++) await new Promise((r) => setTimeout(r, 25));
      expect(log()).toMatch(re);
    };
    await until(/event=node-starting/);
    let set = await run(['set', 'role', 'gateway', '--state-dir', state]);
    for (let i = 0; i < 200 && set.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
      set = await run(['set', 'role', 'gateway', '--state-dir', state]);
    }
    expect(set.code, set.err).toBe(0);
    expect(node.io.signal('SIGINT')).toBe(true);
    expect(node.io.signal('SIGINT')).toBe(true);
    expect(await node.exited).toBe(130);
    const events = log().trim().split('\n').map(parseLine).map((e) => e['event']);
    expect(events.slice(events.indexOf('signal'))).toEqual(['signal', 'stop-forced']);
    expect(JSON.parse(readFileSync(join(state, 'own-keys.json'), 'utf8'))).toEqual({ keys: { role: { value: 'gateway' } } });
    // A process would exit here; in this one the first stop goes on, and is let finish.
    await until(/event=node-stopped/);
  });
});

describe('murmur start with an admin group', () => {
  it('lets the group reach the socket: the state directory becomes 0710 and the socket 0660, both the group\'s', async () => {
    const { statSync } = await import('node:fs');
    const [name, , gid] = readFileSync('/etc/group', 'utf8').split('\n').find((l) => !l.startsWith('root:') && l.includes(':'))!.split(':');
    const state = join(dir, 'state');
    const f = join(dir, 'c.yaml');
    writeFileSync(f, `api:\n  group: ${name}\n`);
    const node = begin(['start', '--config', f, '--state-dir', state, '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware']);
    for (let i = 0; i < 200 && !/event=node-starting/.test(node.io.stdoutText()); i++) await new Promise((r) => setTimeout(r, 25));
    // The socket is given its group just after it starts listening; wait for the API to answer.
    const { request } = await import('node:http');
    const answers = (): Promise<boolean> =>
      new Promise((resolve) => {
        const req = request({ socketPath: join(state, 'murmur.sock'), path: '/v1/status' }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on('error', () => resolve(false));
        req.end();
      });
    for (let i = 0; i < 200 && !(await answers()); i++) await new Promise((r) => setTimeout(r, 25));
    expect(statSync(state).mode & 0o777).toBe(0o710);
    expect(statSync(state).gid).toBe(Number(gid));
    expect(statSync(join(state, 'murmur.sock')).gid).toBe(Number(gid));
    expect(statSync(join(state, 'device-key.json')).mode & 0o777).toBe(0o600);
    expect(node.io.signal('SIGTERM')).toBe(true);
    expect(await node.exited).toBe(0);
  });
});

describe('murmur start on a state directory already in use', () => {
  it('is refused, naming the running node, and leaves boot.json as it was', async () => {
    const state = join(dir, 'state');
    const args = ['start', '--state-dir', state, '--name', 'first', '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware'];
    const first = begin(args);
    let status = await run(['status', '--state-dir', state]);
    for (let i = 0; i < 800 && status.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
      status = await run(['status', '--state-dir', state]);
    }
    expect(status.code, status.err).toBe(0);
    const boot = readFileSync(join(state, 'boot.json'), 'utf8');
    const second = await run(args, { env: { MURMUR_FATAL_LED_MS: '0' } });
    expect(second.code).toBe(1);
    expect(second.out + second.err).toMatch(new RegExp(`state directory ${state} is in use by another murmur \\(pid ${process.pid}`));
    expect(readFileSync(join(state, 'boot.json'), 'utf8')).toBe(boot);
    // The first node still serves, and once it stops the directory is free again.
    expect((await run(['status', '--state-dir', state])).code).toBe(0);
    expect(first.io.signal('SIGTERM')).toBe(true);
    expect(await first.exited).toBe(0);
    const third = begin(args);
    let again = await run(['status', '--state-dir', state]);
    for (let i = 0; i < 800 && again.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
      again = await run(['status', '--state-dir', state]);
    }
    expect(again.code, again.err).toBe(0);
    expect(third.io.signal('SIGTERM')).toBe(true);
    expect(await third.exited).toBe(0);
  });
});

describe('a healthy start', () => {
  it('prints nothing on stderr, with a dozen sensors sampled at spread offsets (no Node warning)', async () => {
    const f = join(dir, 'many.yaml');
    const types = ['load', 'memory', 'uptime', 'simulated'];
    const sensors = Array.from({ length: 12 }, (_, i) => `    - {name: s${i}, type: ${types[i % types.length]!}}`);
    writeFileSync(f, ['hal:', '  simulate: true', '  sampling:', '    spreadS: 1', '  sensors:', ...sensors, ''].join('\n'));
    const proc = spawn(process.execPath, [BIN, 'start', '--config', f, '--state-dir', join(dir, 'state'), '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    for (let i = 0; i < 800 && !/event=node-starting/.test(out); i++) await new Promise((r) => setTimeout(r, 25));
    expect(out).toMatch(/event=node-starting/);
    // Past the spread offsets: every sensor has been read once.
    await new Promise((r) => setTimeout(r, 1500));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toBe('');
  });
});
