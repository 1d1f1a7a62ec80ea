// Event hooks run real processes here: /bin/sh scripts in a temporary directory.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CoreEvent } from '../../runtime/core/effects.js';
import type { MemberStatus, Verdict } from '../../runtime/core/messages.js';
import type { HookConfig } from '../../runtime/config/hooks-config.js';
import { Hooks, MAX_BATCH_EVENTS } from '../../runtime/agent/hooks/hooks.js';
import { hookEventOf } from '../../runtime/agent/hooks/hook-event.js';
import { MAX_LOGGED_LINES } from '../../runtime/agent/hooks/hook-process.js';
import type { Fields, Level } from '../../runtime/log/log.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-hooks-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Line {
  level: Level;
  event: string;
  fields: Fields;
}

function hooks(commands: Array<Partial<HookConfig> & { name: string; command: readonly string[] }>, concurrency = 2): { h: Hooks; lines: Line[] } {
  const lines: Line[] = [];
  const full = commands.map((c) => ({ events: ['member-failed'] as HookConfig['events'], prefix: undefined, shell: false, timeoutS: 10, coalesceMs: 50, ...c }));
  const h = new Hooks({ concurrency, commands: full }, { log: { log: (level, event, fields = {}) => void lines.push({ level, event, fields }) }, self: () => 'self-1' });
  return { h, lines };
}

const failed = (id: string): CoreEvent => ({ type: 'member-status', member: { id, gen: 7 }, status: 'dead', previous: 'suspect', verdict: 'dead', previousVerdict: 'alive', sources: ['x'] });

async function until(f: () => boolean, ms = 10_000): Promise<void> {
  for (const t0 = Date.now(); !f(); ) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function script(name: string, body: string): string {
  const f = join(dir, name);
  writeFileSync(f, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return f;
}

describe('which core events fire which hooks', () => {
  const at = '2026-01-01T00:00:00.000Z';
  it('verdicts fire hooks: dead, left and unreliable, and alive after one of those; a suspicion begun or refuted fires nothing', () => {
    const st = (status: MemberStatus, previous: MemberStatus, verdict: Verdict, previousVerdict: Verdict): CoreEvent => ({ type: 'member-status', member: { id: 'n1', gen: 2 }, status, previous, verdict, previousVerdict, sources: [] });
    expect(hookEventOf(st('dead', 'suspect', 'dead', 'alive'), at)).toMatchObject({ event: 'member-failed', status: 'dead', previous: 'alive' });
    expect(hookEventOf(st('left', 'alive', 'left', 'alive'), at)?.event).toBe('member-left');
    // The detector's verdict for a device that keeps failing and coming back.
    expect(hookEventOf(st('unreliable', 'suspect', 'unreliable', 'alive'), at)).toMatchObject({ event: 'member-unreliable', member: 'n1', status: 'unreliable', previous: 'alive' });
    expect(hookEventOf(st('unreliable', 'dead', 'unreliable', 'dead'), at)).toMatchObject({ event: 'member-unreliable', previous: 'dead' });
    expect(hookEventOf(st('alive', 'dead', 'alive', 'dead'), at)?.event).toBe('member-alive-again');
    expect(hookEventOf(st('alive', 'unreliable', 'alive', 'unreliable'), at)?.event).toBe('member-alive-again');
    expect(hookEventOf(st('suspect', 'alive', 'alive', 'alive'), at)).toBeUndefined();
    expect(hookEventOf(st('alive', 'suspect', 'alive', 'alive'), at)).toBeUndefined();
    // An unreliable member suspected again and answering is not reported unreliable twice.
    expect(hookEventOf(st('suspect', 'unreliable', 'unreliable', 'unreliable'), at)).toBeUndefined();
    expect(hookEventOf(st('unreliable', 'suspect', 'unreliable', 'unreliable'), at)).toBeUndefined();
    // A suspected unreliable member declared dead: failed, from unreliable.
    expect(hookEventOf(st('dead', 'suspect', 'dead', 'unreliable'), at)).toMatchObject({ event: 'member-failed', previous: 'unreliable' });
    expect(hookEventOf({ type: 'member-joined', member: { id: 'n2', gen: 1 }, addr: '10.0.0.2:7478' }, at)).toMatchObject({ event: 'member-joined', member: 'n2', addr: '10.0.0.2:7478' });
    expect(hookEventOf({ type: 'kv-changed', owner: { id: 'n1', gen: 1 }, key: '_murmur/identify/n2', value: true, version: 3 }, at)).toBeUndefined();
    expect(hookEventOf({ type: 'kv-changed', owner: { id: 'n1', gen: 1 }, key: 'config/mode', value: null, version: 4 }, at)).toMatchObject({ event: 'key-changed', key: 'config/mode', value: null });
  });
});

describe('hooks', () => {
  it('40 devices failing at once are one run, with the events on stdin and in the environment, and no shell', async () => {
    const out = join(dir, 'out');
    const f = script('record.sh', `cat > ${out}.json; env | grep ^MURMUR_ | sort > ${out}.env; echo "args: $1"`);
    const { h, lines } = hooks([{ name: 'pager', command: [f, '$(touch pwned); `id`'], coalesceMs: 200 }]);
    for (let i = 0; i < 40; i++) h.observe(failed(`pi-${i}`));
    await until(() => lines.some((l) => l.event === 'hook-ran'));
    const stdin = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    expect(stdin.hook).toBe('pager');
    expect(stdin.node).toBe('self-1');
    expect(stdin.events).toHaveLength(40);
    expect(stdin.events[39]).toMatchObject({ event: 'member-failed', member: 'pi-39', gen: 7, status: 'dead', previous: 'alive' });
    const env = readFileSync(`${out}.env`, 'utf8');
    expect(env).toContain('MURMUR_COUNT=40\n');
    expect(env).toContain('MURMUR_EVENT=member-failed\n');
    expect(env).toContain('MURMUR_MEMBER=pi-0\n');
    expect(env).toMatch(/MURMUR_MEMBERS=pi-0,pi-1,.*,pi-39\n/);
    expect(h.view()['pager']).toMatchObject({ runs: 1, ok: 1 });
    // The argument reached the program as text: nothing expanded it.
    expect(lines.find((l) => l.event === 'hook-output')?.fields).toMatchObject({ hook: 'pager', stream: 'stdout', line: 'args: $(touch pwned); `id`' });
    expect(existsSync(join(process.cwd(), 'pwned'))).toBe(false);
  });

  it('shell: true runs one command line with sh -c', async () => {
    const { h, lines } = hooks([{ name: 'sh', command: ['echo "$MURMUR_EVENT for $MURMUR_MEMBER" | tr a-z A-Z'], shell: true }]);
    h.observe(failed('pi-9'));
    await until(() => lines.some((l) => l.event === 'hook-ran'));
    expect(lines.find((l) => l.event === 'hook-output')?.fields.line).toBe('MEMBER-FAILED FOR PI-9');
  });

  it('a hook that hangs is killed with its whole process group at the timeout; the node keeps running meanwhile', async () => {
    const pidFile = join(dir, 'child.pid');
    const { h, lines } = hooks([{ name: 'hang', command: [script('hang.sh', `sleep 300 & echo $! > ${pidFile}; wait`)], timeoutS: 1 }]);
    h.observe(failed('pi-1'));
    // The event loop is free while the hook hangs.
    let ticks = 0;
    const tick = setInterval(() => ticks++, 50);
    await until(() => lines.some((l) => l.event === 'hook-timeout'), 8000);
    clearInterval(tick);
    expect(ticks).toBeGreaterThan(10);
    expect(lines.find((l) => l.event === 'hook-timeout')).toMatchObject({ level: 'warn', fields: { hook: 'hang', timeout_s: 1, killed: 'process group', timeouts: 1 } });
    expect(h.view()['hang']!.timedOut).toBe(1);
    const child = Number(readFileSync(pidFile, 'utf8'));
    await until(() => !alive(child), 5000);
  });

  it('a run in progress ends with the node: stop() kills its process group', async () => {
    const pidFile = join(dir, 'child.pid');
    const { h } = hooks([{ name: 'long', command: [script('long.sh', `sleep 300 & echo $! > ${pidFile}; wait`)], timeoutS: 600, coalesceMs: 0 }]);
    h.observe(failed('pi-1'));
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(child)).toBe(true);
    h.stop();
    await until(() => !alive(child), 5000);
  });

  it('a hook that floods its output is cut: bounded log lines, its pipe closed, a counter', async () => {
    const { h, lines } = hooks([{ name: 'flood', command: ['/usr/bin/yes', 'spam \u001b[31mred'], timeoutS: 20 }]);
    const t0 = Date.now();
    h.observe(failed('pi-1'));
    await until(() => lines.some((l) => l.event === 'hook-failed' || l.event === 'hook-ran' || l.event === 'hook-timeout'));
    // Closing the pipe ends `yes` (EPIPE/SIGPIPE) long before the timeout.
    expect(Date.now() - t0).toBeLessThan(5000);
    const output = lines.filter((l) => l.event === 'hook-output');
    expect(output).toHaveLength(MAX_LOGGED_LINES);
    expect(output[0]!.fields.line).toBe('spam \u001b[31mred'); // the logger escapes it when it writes the line
    expect(lines.find((l) => l.event === 'hook-output-truncated')?.fields).toMatchObject({ hook: 'flood' });
    expect(h.view()['flood']).toMatchObject({ outputTruncated: 1 });
    expect(h.view()['flood']!.linesDropped).toBeGreaterThan(100);
  });

  it('a hook that exits non-zero, and one that cannot start, each get a log line and a counter', async () => {
    const { h, lines } = hooks([
      { name: 'bad-exit', command: [script('fail.sh', 'echo oops >&2; exit 3')] },
      { name: 'missing', command: [join(dir, 'no-such-program')] },
    ]);
    h.observe(failed('pi-1'));
    await until(() => lines.filter((l) => l.event === 'hook-failed').length === 2);
    const byHook = (n: string): Line => lines.find((l) => l.event === 'hook-failed' && l.fields.hook === n)!;
    expect(byHook('bad-exit')).toMatchObject({ level: 'warn', fields: { code: 3, failures: 1 } });
    expect(lines.find((l) => l.event === 'hook-output')?.fields).toMatchObject({ hook: 'bad-exit', stream: 'stderr', line: 'oops' });
    expect(byHook('missing')).toMatchObject({ level: 'error', fields: { error: expect.stringContaining('ENOENT') } });
    expect(h.view()).toMatchObject({ 'bad-exit': { failed: 1 }, missing: { spawnFailed: 1 } });
  });

  it('runs no more hooks at once than hooks.concurrency; one hook has one run at a time, the events meanwhile in its next batch', async () => {
    const log = join(dir, 'log');
    const body = `echo "start $MURMUR_HOOK $MURMUR_COUNT" >> ${log}; sleep 0.3; echo "end $MURMUR_HOOK" >> ${log}`;
    const { h, lines } = hooks(
      ['a', 'b', 'c'].map((n) => ({ name: n, command: [script(`${n}.sh`, body)], coalesceMs: 10 })),
      1,
    );
    h.observe(failed('pi-1'));
    await new Promise((r) => setTimeout(r, 100));
    h.observe(failed('pi-2'));
    h.observe(failed('pi-3'));
    // a runs pi-1, then pi-2 and pi-3 together; b and c, still waiting for a slot, take all three in one run.
    await until(() => lines.filter((l) => l.event === 'hook-ran').length === 4, 10_000);
    const seq = readFileSync(log, 'utf8').trim().split('\n');
    // Strictly alternating start/end: never two at once.
    seq.forEach((l, i) => expect(l.startsWith(i % 2 === 0 ? 'start' : 'end')).toBe(true));
    expect(seq.filter((l) => l.startsWith('start'))).toEqual(['start a 1', 'start b 3', 'start c 3', 'start a 2']);
  });

  it('a burst past the batch bound is counted, not queued without end', async () => {
    const { h, lines } = hooks([{ name: 'count', command: ['/bin/sh', '-c', 'cat >/dev/null; echo $MURMUR_COUNT'], coalesceMs: 100 }]);
    for (let i = 0; i < MAX_BATCH_EVENTS + 50; i++) h.observe(failed(`pi-${i}`));
    await until(() => lines.some((l) => l.event === 'hook-ran'));
    expect(lines.find((l) => l.event === 'hook-ran')?.fields).toMatchObject({ events: MAX_BATCH_EVENTS, dropped: 50 });
    expect(lines.find((l) => l.event === 'hook-output')?.fields.line).toBe(String(MAX_BATCH_EVENTS + 50));
    expect(h.view()['count']!.eventsDropped).toBe(50);
  });

  it('key-changed fires for keys under the prefix only; test() runs a hook by hand and returns what it did', async () => {
    const { h, lines } = hooks([{ name: 'cfg', events: ['key-changed'], prefix: 'config/', command: ['/bin/sh', '-c', 'echo "$MURMUR_KEY=$MURMUR_VALUE by $MURMUR_OWNER"'] }]);
    h.observe({ type: 'kv-changed', owner: { id: 'n4', gen: 1 }, key: 'other/x', value: 1, version: 1 });
    h.observe({ type: 'kv-changed', owner: { id: 'n4', gen: 1 }, key: 'config/mode', value: 'eco', version: 2 });
    await until(() => lines.some((l) => l.event === 'hook-ran'));
    expect(lines.filter((l) => l.event === 'hook-output').map((l) => l.fields.line)).toEqual(['config/mode="eco" by n4']);
    const r = await h.test('key-changed', { key: 'config/fan', value: 'on' });
    expect(r).toEqual([{ hook: 'cfg', code: 0, signal: null, timedOut: false, error: undefined, durationMs: expect.any(Number), output: ['stdout: config/fan="on" by self-1'] }]);
    expect(await h.test('key-changed', { key: 'elsewhere' })).toEqual([]);
    expect(await h.test('member-failed', {})).toEqual([]);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
