import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../runtime/config/config.js';
import { changedFields, planReload } from '../../runtime/cli/config-reload.js';
import { serviceNotifier, watchdogPeriodMs } from '../../runtime/cli/service-notify.js';
import type { Logger } from '../../runtime/log/log.js';

// `murmur start` under systemd: readiness, the watchdog and stopping go out through
// systemd-notify (replaced here by a script that records its arguments), and SIGHUP re-reads
// the config. Multicast is off and the node binds to loopback.

const BIN = join(import.meta.dirname, '../../dist/runtime/cli/bin.js');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-service-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const quiet: Logger = { log: () => {} };

describe('watchdogPeriodMs', () => {
  it.each([
    [{ WATCHDOG_USEC: '30000000' }, 30_000],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 30_000],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, undefined],
    [{ WATCHDOG_USEC: '0' }, undefined],
    [{ WATCHDOG_USEC: 'x' }, undefined],
    [{}, undefined],
  ])('%j for pid 42 -> %s', (env, ms) => {
    expect(watchdogPeriodMs(env, 42)).toBe(ms);
  });
});

describe('serviceNotifier', () => {
  it('is absent without NOTIFY_SOCKET, so a node at a terminal spawns nothing', () => {
    expect(serviceNotifier({ WATCHDOG_USEC: '1000000' }, quiet)).toBeUndefined();
  });

  it('sends READY=1, feeds the watchdog three times a period, and stops feeding on STOPPING=1', async () => {
    const sent: string[] = [];
    let tick: (() => void) | undefined;
    let every = 0;
    const n = serviceNotifier({ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '30000000' }, quiet, {
      send: async (args) => void sent.push(args.join(' ')),
      setInterval: (f, ms) => ((tick = f), (every = ms), 'timer'),
      clearInterval: () => (tick = undefined),
    })!;
    n.ready();
    expect(every).toBe(10_000);
    tick!();
    tick!();
    n.stopping();
    expect(tick).toBeUndefined();
    expect(sent).toEqual(['--ready', 'WATCHDOG=1', 'WATCHDOG=1', 'STOPPING=1']);
  });

  it('logs a failing systemd-notify once, not on every feed', async () => {
    const log = { log: vi.fn() };
    let tick: (() => void) | undefined;
    const n = serviceNotifier({ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '3000000' }, log, {
      send: () => Promise.reject(new Error('systemd-notify: not found')),
      setInterval: (f) => ((tick = f), 't'),
      clearInterval: () => {},
    })!;
    n.ready();
    for (let i = 0; i < 3; i++) tick!();
    await new Promise((r) => setTimeout(r, 10));
    const failures = log.log.mock.calls.filter((c) => c[1] === 'service-notify-failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]![2]).toEqual({ error: 'systemd-notify: not found' });
  });
});

describe('reload', () => {
  it('names each changed leaf; a changed list is one field', () => {
    expect(changedFields({ a: { b: 1, c: [1] }, d: 'x' }, { a: { b: 2, c: [1, 2] }, d: 'x' })).toEqual(['a.b', 'a.c']);
  });

  it('takes log.level live and lists every other change as needing a restart', () => {
    const before = loadConfig(undefined, { 'log.level': 'info' });
    const after = loadConfig(undefined, { 'log.level': 'debug', 'network.port': 7000, 'hal.simulate': true });
    const plan = planReload(before, after);
    expect(plan.live).toEqual(['log.level']);
    expect(plan.restart).toEqual(['hal.simulate', 'network.port']);
    expect(plan.running.log.level).toBe('debug');
    expect(plan.running.network.port).toBe(before.network.port);
    expect(plan.hal).toBe(false);
  });

  it('takes LEDs, sensors and sampling live, and hands the hardware layer the new hal section; hal.root and hal.simulate need a restart', () => {
    const before = loadConfig(undefined, {});
    const after = loadConfig(undefined, {
      'hal.sensors': [{ name: 'env', type: 'simulated' }],
      'hal.sampling.spreadS': 3,
      'hal.leds': [{ name: 'power', backend: 'simulated' }],
      'hal.root': '/tmp',
    });
    const plan = planReload(before, after);
    expect(plan.live).toEqual(['hal.leds', 'hal.sampling.spreadS', 'hal.sensors']);
    expect(plan.restart).toEqual(['hal.root']);
    expect(plan.hal).toBe(true);
    expect(plan.running.hal.sensors).toEqual(after.hal.sensors);
    expect(plan.running.hal.leds).toEqual(after.hal.leds);
    expect(plan.running.hal.sampling.spreadS).toBe(3);
    expect(plan.running.hal.root).toBe(before.hal.root);
  });
});

describe('murmur start as a systemd service', () => {
  it('notifies ready, feeds the watchdog, reloads on SIGHUP, and notifies stopping on SIGTERM', async () => {
    const record = join(dir, 'notified');
    const fake = join(dir, 'systemd-notify');
    writeFileSync(fake, `#!/bin/sh\necho "$*" >> '${record}'\n`);
    chmodSync(fake, 0o755);
    const config = join(dir, 'murmur.yaml');
    writeFileSync(config, 'log:\n  level: info\n');
    const args = ['start', '--config', config, '--state-dir', join(dir, 'state'), '--name', 'svc', '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware'];
    const proc = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${dir}:${process.env['PATH']}`, NOTIFY_SOCKET: '/run/fake-notify', WATCHDOG_USEC: '300000' },
    });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const notified = (): string[] => (existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : []);
    const until = async (ok: () => boolean, what: string): Promise<void> => {
      for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(ok(), `${what}\nlog:\n${out}\nnotified: ${notified().join(' | ')}`).toBe(true);
    };
    await until(() => notified().filter((l) => l === 'WATCHDOG=1').length >= 2, 'two watchdog feeds');
    expect(notified()[0]).toBe('--ready');
    expect(out).toMatch(/event=watchdog periodMs=300/);

    writeFileSync(config, 'log:\n  level: debug\nnetwork:\n  ttl: 2\n');
    proc.kill('SIGHUP');
    await until(() => /event=reload/.test(out), 'a reload line');
    expect(out).toMatch(/level=warn event=reload applied=log.level restartNeeded=network.ttl hint="systemctl restart murmur"/);

    // Sensors change live: the new one is sampled and the one no longer configured is gone.
    writeFileSync(config, 'log:\n  level: debug\nnetwork:\n  ttl: 2\nhal:\n  sensors:\n    - { name: env2, type: simulated }\n');
    proc.kill('SIGHUP');
    await until(() => /event=sensors-ready sensors=env2:simulated/.test(out), 'the reloaded sensors');
    await until(() => /event=reload applied=hal.sensors/.test(out), 'a reload line for the sensors');
    expect(out).toMatch(/event=sensors-ready sensors=env2:simulated removed=\S*sim-env/);
    // The keys of the sensor no longer configured are deleted, so the fleet stops showing it.
    const keys = (): string => spawnSync(process.execPath, [BIN, 'get', '--state-dir', join(dir, 'state')], { encoding: 'utf8' }).stdout;
    await until(() => /sensor\/env2\//.test(keys()), 'the new sensor published');
    expect(keys()).not.toMatch(/sensor\/sim-env\//);

    writeFileSync(config, 'log:\n  level: loud\n');
    proc.kill('SIGHUP');
    await until(() => /event=reload-failed/.test(out), 'a failed reload line');
    expect(out).toMatch(/reload-failed error=.*log\.level.*kept="the running config"/);

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(notified()).toContain('STOPPING=1');
  });
});
