// A node that will not join says why: its seeds and whether they answer (host names looked up,
// here `localhost`), and who sends it datagrams under a fleet key it does not have. Nodes run
// in-process on loopback, multicast off.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { begin, run, until as untilWithin, type Started } from './recording-io.js';

/** Every wait here allows 15 s, more than the shared default. */
const until = <T>(what: string, f: () => Promise<T | undefined>): Promise<T> => untilWithin(what, f, 15_000);

let dir: string;
const started: Started[] = [];

/** Starts a node; resolves with its state directory and address once its API answers. */
async function node(name: string, extra: readonly string[]): Promise<{ at: string[]; addr: string; port: string; log: () => string }> {
  const stateDir = join(dir, name);
  const s = begin(['start', '--state-dir', stateDir, '--name', name, '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', ...extra]);
  started.push(s);
  const at = ['--state-dir', stateDir];
  const addr = await until(`${name} to serve`, async () => {
    const r = await run(['status', '--json', ...at]);
    return r.code === 0 ? String((JSON.parse(r.out) as { addr: string }).addr) : undefined;
  });
  return { at, addr, port: addr.split(':')[1]!, log: () => s.io.stdoutText() };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-lone-'));
});
afterAll(async () => {
  for (const s of started) s.io.signal('SIGTERM');
  await Promise.all(started.map((s) => s.exited));
  rmSync(dir, { recursive: true, force: true });
});

describe('a node that is alone', () => {
  it('lists its seeds, resolves host names, says which answer, and names senders under another fleet key', async () => {
    const keyFile = join(dir, 'fleet.key');
    writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`);
    const a = await node('a', ['--fleet-key-file', keyFile]);

    // Alone and seedless: no loss figure, since there is no peer to measure.
    const solo = await run(['status', ...a.at]);
    expect(solo.out).toMatch(/^health\s+score \d+ \(0 is best\), measured loss - \(no peers\)$/m);
    expect(solo.out).not.toMatch(/^seeds/m);
    expect(JSON.parse((await run(['status', '--json', ...a.at])).out)).toMatchObject({ measuredLoss: null, seeds: [], unknownKeySenders: [] });

    // b reaches a through the name "localhost"; its other seed (the discard port) never answers.
    const b = await node('b', ['--fleet-key-file', keyFile, '--seed', `localhost:${a.port}`, '--seed', '127.0.0.1:9']);
    await until('b to know a', async () => ((await run(['members', '--json', ...b.at])).out.includes('"id":"a"') ? true : undefined));
    const bs = await until('b to have heard its seed', async () => {
      const r = await run(['status', ...b.at]);
      return /heard/.test(r.out) ? r.out : undefined;
    });
    expect(bs).toMatch(new RegExp(`^seeds\\s+localhost:${a.port} \\(127\\.0\\.0\\.1:${a.port}\\): heard [\\d.]+m?s ago$`, 'm'));
    expect(bs).toMatch(/^\s+127\.0\.0\.1:9: never heard$/m);
    expect(bs).toMatch(/measured loss \d+(\.\d)?%/);
    expect(b.log()).toMatch(new RegExp(`event=seed-resolved seed=localhost:${a.port} addrs=127\\.0\\.0\\.1:${a.port}`));

    // c has a key of its own (none given: it makes one up) and knocks at a.
    const c = await node('c', ['--seed', a.addr]);
    const as = await until('a to name the sender under another key', async () => {
      const r = await run(['status', ...a.at]);
      return /unknown key/.test(r.out) ? r.out : undefined;
    });
    // The address the datagrams came from (c's sending socket), with how many and how recently.
    const sender = /^unknown key\s+(127\.0\.0\.1:\d+): \d+ datagrams? under another fleet key, last [\d.]+m?s ago$/m.exec(as)?.[1];
    expect(sender, as).toBeDefined();
    expect(c.addr).toMatch(/^127\.0\.0\.1:\d+$/);
    // One log line per sender, however many datagrams.
    await new Promise((r) => setTimeout(r, 1500));
    const lines = a.log().split('\n').filter((l) => l.includes('event=datagram-unknown-key'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`from=${sender!}`);
    expect(JSON.parse((await run(['status', '--json', ...a.at])).out).unknownKeySenders).toEqual([{ addr: sender, count: expect.any(Number), lastMsAgo: expect.any(Number) }]);
  });
});
