// Hooks in a running node: `murmur hooks test` by hand, and a real member-left from a second
// node that stops. Both nodes run in this process, on loopback, without multicast.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLine } from '../../runtime/log/log.js';
import { begin, run, until, type Started } from './recording-io.js';

let dir: string;
let alpha: Started;
let alphaState: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-cli-hooks-'));
  writeFileSync(join(dir, 'fleet.key'), (await run(['keys', 'generate'])).out);
  writeFileSync(join(dir, 'record.sh'), `#!/bin/sh\ncat >> ${join(dir, 'events.ndjson')}\necho "seen $MURMUR_EVENT $MURMUR_MEMBERS"\n`, { mode: 0o755 });
  writeFileSync(
    join(dir, 'alpha.yaml'),
    [
      'hooks:',
      '  commands:',
      '    - name: record',
      '      on: [member-left, member-failed]',
      `      command: [${join(dir, 'record.sh')}]`,
      '      coalesceMs: 100',
      '    - name: fails',
      '      on: member-failed',
      '      command: [/bin/sh, -c, "echo no >&2; exit 2"]',
      '    - name: flood',
      '      on: member-failed',
      '      command: [/usr/bin/yes, flood]',
      '    - name: hang',
      '      on: member-failed',
      '      command: [/bin/sleep, "600"]',
      '      timeoutS: 1',
      '',
    ].join('\n'),
  );
  alphaState = join(dir, 'alpha');
  alpha = begin(['start', '--config', join(dir, 'alpha.yaml'), '--state-dir', alphaState, '--name', 'alpha', '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware', '--fleet-key-file', join(dir, 'fleet.key')]);
  await until('alpha to serve', async () => (existsSync(join(alphaState, 'murmur.sock')) && (await run(['status', '--state-dir', alphaState])).code === 0 ? true : undefined), 20_000);
}, 30_000);
afterAll(async () => {
  alpha?.io.signal('SIGTERM');
  await alpha?.exited;
  rmSync(dir, { recursive: true, force: true });
});

const logLines = (): Array<Record<string, string>> => alpha.io.outLines.map(parseLine);

describe('murmur hooks', () => {
  it('hooks test EVENT runs the hooks naming it, prints what each did, and exits 1 when one failed', async () => {
    const r = await run(['hooks', 'test', 'member-failed', '--member', 'pi-7', '--state-dir', alphaState]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^record: exit 0 in \d+ ms\n {2}stdout: seen member-failed pi-7\n/m);
    expect(r.out).toMatch(/^fails: exit 2 in \d+ ms\n {2}stderr: no\n/m);
    // A hook that floods is cut off (its pipe closed), one that hangs is killed at its timeout.
    expect(r.out).toMatch(/^flood: (killed by SIGPIPE|exit 1) in \d+ ms\n( {2}stdout: flood\n){20}(?! )/m);
    expect(r.out).toMatch(/^hang: timed out \(process group killed\) in \d+ ms\n/m);
    expect(logLines()).toContainEqual(expect.objectContaining({ event: 'hook-output-truncated', hook: 'flood' }));
    expect(logLines()).toContainEqual(expect.objectContaining({ event: 'hook-timeout', hook: 'hang', timeout_s: '1' }));
    // The node logged them too, tagged with the hook's name.
    expect(logLines()).toContainEqual(expect.objectContaining({ event: 'hook-output', hook: 'record', stream: 'stdout', line: 'seen member-failed pi-7' }));
    expect(logLines()).toContainEqual(expect.objectContaining({ event: 'hook-failed', hook: 'fails', code: '2' }));
    expect((await run(['hooks', 'test', 'member-joined', '--state-dir', alphaState])).out).toBe('no hook names member-joined\n');
    const bad = await run(['hooks', 'test', 'member-died', '--state-dir', alphaState]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown event "member-died"; expected one of member-joined, member-failed/);
    const status = JSON.parse((await run(['status', '--json', '--state-dir', alphaState])).out) as { hooks: Record<string, { runs: number; failed: number }> };
    expect(status.hooks).toMatchObject({ fails: { runs: 1, failed: 1 }, flood: { outputTruncated: 1 }, hang: { timedOut: 1 } });
  });

  // After the hooks above: the node still gossips, joins and sees a device leave.
  it('a second device that leaves fires member-left on the first, with the event on stdin', async () => {
    const addr = String(JSON.parse((await run(['status', '--json', '--state-dir', alphaState])).out).addr);
    const betaState = join(dir, 'beta');
    const beta = begin(['start', '--state-dir', betaState, '--name', 'beta', '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware', '--fleet-key-file', join(dir, 'fleet.key'), '--seed', addr]);
    await until('alpha to see beta', async () => (((await run(['members', '--json', '--state-dir', alphaState])).out.includes('"beta"')) ? true : undefined), 20_000);
    beta.io.signal('SIGTERM');
    await beta.exited;
    const events = await until('the hook to record member-left', () => {
      const f = join(dir, 'events.ndjson');
      if (!existsSync(f)) return undefined;
      const text = readFileSync(f, 'utf8');
      return text.includes('member-left') ? text : undefined;
    }, 20_000);
    const batch = JSON.parse(events.trim().split('\n').at(-1)!) as { hook: string; node: string; events: Array<Record<string, unknown>> };
    expect(batch).toMatchObject({ hook: 'record', node: 'alpha' });
    expect(batch.events[0]).toMatchObject({ event: 'member-left', member: 'beta', status: 'left' });
  }, 60_000);
});
