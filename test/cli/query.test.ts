// `murmur query` in-process against two real nodes (in-process too) on loopback, with
// commands configured as queries: each answer streams back, a hanging, failing or flooding
// command becomes an error reply, and a payload too large for a datagram is refused up front.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { begin, run, until } from './recording-io.js';

interface RunningNode {
  readonly at: readonly string[];
  readonly addr: string;
  readonly stop: () => Promise<void>;
}

const CONFIG = `
queries:
  echo:
    command: [cat]
  hang:
    command: [sleep, "10"]
    timeoutMs: 300
  fail:
    command: [sh, -c, "echo broken >&2; exit 3"]
  flood:
    command: ["yes", "murmur"]
`;

let dir: string;
let qa: RunningNode;
let qb: RunningNode;

async function startNode(name: string, extra: readonly string[]): Promise<RunningNode> {
  const stateDir = join(dir, name);
  const node = begin([
    'start', '--config', join(dir, 'murmur.yaml'), '--state-dir', stateDir, '--name', name, '--no-multicast', '--interfaces', 'lo',
    '--families', 'ipv4', '--port', '0', '--simulate-hardware', '--fleet-key-file', join(dir, 'fleet.key'), ...extra,
  ]);
  const addr = await until(`node ${name} to serve its API (${node.io.stdoutText()}${node.io.stderrText()})`, async () => {
    if (!existsSync(join(stateDir, 'murmur.sock'))) return undefined;
    const r = await run(['status', '--json', '--state-dir', stateDir]);
    return r.code === 0 ? String((JSON.parse(r.out) as { addr: string }).addr) : undefined;
  });
  return {
    at: ['--state-dir', stateDir],
    addr,
    stop: async () => {
      node.io.signal('SIGTERM');
      await node.exited;
    },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-query-'));
  writeFileSync(join(dir, 'murmur.yaml'), CONFIG);
  writeFileSync(join(dir, 'fleet.key'), (await run(['keys', 'generate'])).out);
  qa = await startNode('qa', []);
  qb = await startNode('qb', ['--seed', qa.addr]);
  await until('qa and qb to know each other', async () => {
    const r = await run(['members', '--json', ...qa.at]);
    return r.code === 0 && (JSON.parse(r.out) as { id: string; status: string }[]).some((m) => m.id === 'qb' && m.status === 'alive') ? true : undefined;
  }, 20_000);
}, 40_000);

afterAll(async () => {
  await qb?.stop();
  await qa?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('murmur query', () => {
  it('version: every device answers as it comes, then the summary; exit 0', async () => {
    const r = await run(['query', 'version', ...qa.at]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.filter((l) => /^q[ab]\s+ok\s+\d+\.\d+\.\d+\s+\(\d+ ms\)$/.test(l))).toHaveLength(2);
    expect(lines[2]).toMatch(/^2 of 2 answered with ok in \d+(\.\d)? m?s; every device answered$/);
    expect(r.err).toMatch(/asking 2 devices "version", waiting 3\.0 s/);
  });

  it('a configured command gets the payload on stdin; --device-prefix picks who answers; --json streams the API', async () => {
    const r = await run(['query', 'echo', 'hello there', '--device-prefix', 'qb', '--json', ...qa.at]);
    expect(r.code, r.err).toBe(0);
    const events = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ type: 'asked', from: 'qa', name: 'echo', prefix: 'qb', expected: 1 });
    expect(events[1]).toMatchObject({ type: 'reply', from: 'qb', status: 'ok', body: 'hello there' });
    expect(events[2]).toMatchObject({ type: 'done', answered: 1, missing: [] });
  });

  it('a command that hangs, fails or floods its output answers an error (or a cut answer) and the nodes go on', async () => {
    const hang = await run(['query', 'hang', '--timeout', '2s', ...qa.at]);
    expect(hang.code).toBe(1);
    expect(hang.out).toMatch(/^q[ab]\s+error\s+sleep: no answer within 300 ms \(killed\)/m);
    const fail = await run(['query', 'fail', ...qb.at]);
    expect(fail.out).toMatch(/^qa\s+error\s+sh: exit 3: broken/m);
    const flood = await run(['query', 'flood', '--json', ...qa.at]);
    const replies = flood.out.split('\n').filter((l) => l.includes('"reply"')).map((l) => JSON.parse(l) as { body: string; status: string });
    expect(replies).toHaveLength(2);
    for (const x of replies) {
      expect(x.status).toBe('ok');
      expect(x.body).toMatch(/^(murmur\n)+.*\n\[truncated\]$/s);
      expect(Buffer.byteLength(x.body)).toBeLessThanOrEqual(512);
    }
    const members = await run(['members', '--json', ...qb.at]);
    expect(JSON.parse(members.out)).toEqual([expect.objectContaining({ id: 'qa', status: 'alive' })]);
  });

  it('a query nobody knows is answered "unknown" by each device; exit 1', async () => {
    const r = await run(['query', 'no-such-query', ...qa.at]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^qb\s+unknown\s+no query "no-such-query" here/m);
    expect(r.out).toMatch(/0 of 2 answered with ok .*2 answered with an error or "unknown"; every device answered/);
  });

  it('refuses a 1 MB payload before asking, naming the limit; exit 2', async () => {
    const r = await run(['query', 'echo', 'x'.repeat(1 << 20), ...qa.at]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/PAYLOAD is 1048576 bytes, over the 512-byte limit \(a query travels in one datagram\)/);
    expect(r.err).not.toMatch(/^\s+at /m);
  });

  it('usage mistakes exit 2', async () => {
    expect((await run(['query', ...qa.at])).err).toMatch(/expected the name of a query/);
    const t = await run(['query', 'version', '--timeout', 'soon', ...qa.at]);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/--timeout: expected a duration from 100ms to 60s/);
  });
});
