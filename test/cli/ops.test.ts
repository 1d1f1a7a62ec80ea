// The operator commands (status, members, get, set, del, watch, agg, leds test) run in-process
// against real nodes, most of them started in-process too. One node is the built binary, so a
// test can freeze it (SIGSTOP) as a hung device; the binary also answers status and ends
// quietly on a closed pipe. Multicast is off; the nodes only talk to each other through seeds,
// on this host.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duration, elide, parseDuration, printable, table, terminal } from '../../runtime/cli/format.js';
import { begin, run, until, type Run } from './recording-io.js';

const BIN = join(import.meta.dirname, '../../dist/runtime/cli/bin.js');
// No colour unless a test asks for it, whatever the environment running the tests says.
const ENV: NodeJS.ProcessEnv = { ...process.env };
delete ENV['NO_COLOR'];
delete ENV['FORCE_COLOR'];
delete ENV['COLUMNS'];

/** A command run in-process, in an environment of only `env`. */
function murmur(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return run(args, { env });
}

/** A command run by the built binary: what it has written so far, and its result once it ends. */
function binary(args: readonly string[]): { proc: ChildProcessWithoutNullStreams; out: () => string; err: () => string; result: Promise<Run> } {
  const proc = spawn(process.execPath, [BIN, ...args], { env: ENV });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const result = new Promise<Run>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
  return { proc, out: () => out, err: () => err, result };
}

interface RunningNode {
  readonly name: string;
  readonly stateDir: string;
  /** The node's address as it gossips it (host:port). */
  readonly addr: string;
  /** args to reach this node's API. */
  readonly at: readonly string[];
  /** Asks the node to stop, as a service manager does (SIGTERM), and waits until it has. */
  readonly stop: () => Promise<void>;
}

interface SpawnedNode extends RunningNode {
  readonly proc: ChildProcessWithoutNullStreams;
}

const startArgs = (stateDir: string, name: string, extra: readonly string[]): string[] => ['start', '--state-dir', stateDir, '--name', name, '--no-multicast', '--interfaces', 'lo', '--families', 'ipv4', '--port', '0', '--simulate-hardware', ...extra];

/** The node's address, once its API answers. */
async function served(name: string, stateDir: string, log: () => string): Promise<string> {
  return until(`node ${name} to serve its API (log so far: ${log()})`, async () => {
    if (!existsSync(join(stateDir, 'murmur.sock'))) return undefined;
    const r = await murmur(['status', '--json', '--state-dir', stateDir]);
    return r.code === 0 ? String((JSON.parse(r.out) as { addr: string }).addr) : undefined;
  });
}

/** `murmur start` in this process. */
async function startNode(dir: string, name: string, extra: readonly string[] = []): Promise<RunningNode> {
  const stateDir = join(dir, name);
  const node = begin(startArgs(stateDir, name, extra));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) node.io.signal('SIGTERM');
    stopped = true;
    await node.exited;
  };
  const addr = await served(name, stateDir, () => node.io.stdoutText() + node.io.stderrText());
  return { name, stateDir, addr, at: ['--state-dir', stateDir], stop };
}

/** `murmur start` as its own process: the built binary. */
async function spawnNode(dir: string, name: string, extra: readonly string[] = []): Promise<SpawnedNode> {
  const stateDir = join(dir, name);
  const proc = spawn(process.execPath, [BIN, ...startArgs(stateDir, name, extra)], { env: ENV });
  let log = '';
  proc.stdout.on('data', (c: Buffer) => (log += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await exited;
  };
  const addr = await served(name, stateDir, () => log);
  return { name, stateDir, addr, at: ['--state-dir', stateDir], stop, proc };
}

/** Runs `murmur watch` in-process and collects its lines; `ready` resolves once it is subscribed. */
function watch(args: readonly string[]): { lines: string[]; err: () => string; ready: Promise<void>; stop: () => boolean; closed: Promise<number> } {
  const w = begin(['watch', ...args]);
  const json = args.includes('--json');
  const ready = until('watch to subscribe', () => ((json ? w.io.outLines.some((l) => l.includes('"hello"')) : w.io.stderrText().includes('watching')) ? true : undefined)).then(() => undefined);
  return { lines: w.io.outLines, err: w.io.stderrText, ready, stop: () => w.io.signal('SIGINT'), closed: w.exited };
}

const COMMANDS = ['status', 'members', 'get', 'set', 'del', 'watch', 'agg', 'leds'] as const;
/** A line of a stack trace: a message must never show one. */
const STACK = /^\s+at .*:\d+:\d+\)?$/m;
const longest = (text: string): number => Math.max(...text.split('\n').map((l) => [...l].length));

let dir: string;
let solo: RunningNode;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-ops-'));
  solo = await startNode(dir, 'solo');
}, 30_000);

afterAll(async () => {
  if (solo) await solo.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('help, usage and a node that is not running', () => {
  it('--help prints each command usage with its options and the shared ones, exit 0', async () => {
    for (const cmd of COMMANDS) {
      const r = await murmur([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.out, cmd).toMatch(new RegExp(`^usage: murmur ${cmd}`));
      for (const o of ['--state-dir', '--config', '--socket', '--json']) expect(r.out, `${cmd} ${o}`).toContain(o);
      expect(longest(r.out), cmd).toBeLessThanOrEqual(80);
    }
    const top = await murmur(['help']);
    expect(top.code).toBe(0);
    for (const cmd of COMMANDS) expect(top.out).toMatch(new RegExp(`^  ${cmd}\\s+\\S`, 'm'));
    expect(top.out).toMatch(/exit codes: 0 done, 1 the node refused .*\n3 the local node is not running, 4 not found/);
  });

  it('usage mistakes exit 2 naming what is wrong, without a stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['set', 'onlykey'], /expected KEY and VALUE/],
      [['set', 'k', 'v', '--ttl', 'soon'], /--ttl: expected a duration/],
      [['set', 'k', 'x', '--type', 'number'], /--type number: "x" is not a finite number/],
      [['set', 'k', 'maybe', '--type', 'bool'], /--type bool/],
      [['get', '--colour'], /unknown option "--colour"/],
      [['members', 'extra'], /unexpected argument "extra"/],
      [['leds'], /expected a subcommand/],
      [['leds', 'test', '--pattern', 'disco'], /--pattern: expected one of booting, searching/],
      [['leds', 'test', '--seconds', '0'], /--seconds: expected a number above 0/],
      [['agg'], /expected one KEY/],
      [['del'], /expected one KEY/],
    ];
    for (const [args, re] of cases) {
      const r = await murmur([...args, ...solo.at]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(re);
      expect(r.err).not.toMatch(STACK);
    }
  });

  it('every command says clearly that the node is not running, with exit 3', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'murmur-ops-none-'));
    try {
      const cases = [['status'], ['members'], ['get', 'k'], ['get'], ['set', 'k', '1'], ['del', 'k'], ['watch'], ['agg', 'k'], ['leds', 'test']];
      for (const args of cases) {
        const r = await murmur([...args, '--state-dir', empty]);
        expect(r.code, args.join(' ')).toBe(3);
        expect(r.err, args.join(' ')).toContain(`murmur is not running here: no API at ${join(empty, 'murmur.sock')}`);
        expect(r.err).toMatch(/start it with "murmur start"/);
        expect(r.err).not.toMatch(STACK);
        expect(r.out).toBe('');
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('one node', () => {
  it('status: a compact summary that fits 80 columns; --json is the API body', async () => {
    const r = await murmur(['status', ...solo.at]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^device\s+solo\s+gen \d+, incarnation 0$/m);
    expect(r.out).toMatch(/^fleet\s+\(not set\)$/m);
    expect(r.out).toMatch(new RegExp(`^address\\s+${solo.addr.replace(/\./g, '\\.')}  lan profile, multicast off$`, 'm'));
    expect(r.out).toMatch(/^uptime\s+\d+(\.\d)?s$/m);
    expect(r.out).toMatch(/^health\s+score 0 \(0 is best\), measured loss - \(no peers\)$/m);
    expect(r.out).toMatch(/^members\s+no other devices known$/m);
    expect(r.out).toMatch(/^led\s+(booting|searching): /m);
    expect(r.out).toMatch(/^memory\s+[\d.]+ MB resident, [\d.]+ MB heap used$/m);
    expect(r.out).not.toContain('\x1b[');
    expect(longest(r.out)).toBeLessThanOrEqual(80);
    const j = await murmur(['status', '--json', ...solo.at]);
    expect(j.code).toBe(0);
    const body = JSON.parse(j.out) as Record<string, unknown>;
    expect(body).toMatchObject({ id: 'solo', addr: solo.addr, fleet: null, members: {} });
    expect(typeof body.uptimeS).toBe('number');
  });

  it('members: with nobody else known, one clear line; --json is an empty list; --explain says there is no suspect', async () => {
    const r = await murmur(['members', ...solo.at]);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe('no other devices known: this node has not heard from any other device yet');
    const j = await murmur(['members', '--json', '--explain', ...solo.at]);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toEqual([]);
  });

  it('set, get and del round trip, with keys containing "/", spaces and "%"', async () => {
    for (const key of ['room/kitchen/temp', 'odd key/100%']) {
      const s = await murmur(['set', key, '21.5', ...solo.at]);
      expect(s.code, s.err).toBe(0);
      expect(s.out).toMatch(new RegExp(`^${key.replace(/[/%]/g, '\\$&')} = 21\\.5 \\(version \\d+\\)\\n$`));
      const g = await murmur(['get', key, ...solo.at]);
      expect(g.code).toBe(0);
      expect(g.out).toBe('21.5\n');
      const gj = await murmur(['get', key, '--json', ...solo.at]);
      expect(JSON.parse(gj.out)).toMatchObject({ owner: 'solo', key, value: 21.5 });
      const d = await murmur(['del', key, ...solo.at]);
      expect(d.code).toBe(0);
      expect(d.out).toBe(`deleted ${key}\n`);
      const gone = await murmur(['get', key, ...solo.at]);
      expect(gone.code).toBe(4);
      expect(gone.err).toContain(`solo has no key "${key}"`);
      expect(gone.out).toBe('');
    }
  });

  it('set reads numbers and booleans, keeps the rest as strings, and --type says it outright', async () => {
    const cases: Array<[string[], unknown]> = [
      [['v/int', '42'], 42],
      [['v/neg', '-3.5'], -3.5],
      [['v/exp', '1e3'], 1000],
      [['v/bool', 'true'], true],
      [['v/zip', '007'], '007'],
      [['v/words', 'hello world'], 'hello world'],
      [['v/str', '21.5', '--type', 'string'], '21.5'],
      [['v/num', ' 8 ', '--type', 'number'], 8],
      [['v/yes', 'yes', '--type', 'bool'], true],
      [['v/jstr', '"12"', '--type', 'json'], '12'],
      [['v/jobj', '{"a": [1, 2]}', '--type', 'json'], { a: [1, 2] }],
      [['v/jlist', '[1, "two"]', '--type', 'json'], [1, 'two']],
    ];
    for (const [args, value] of cases) {
      const s = await murmur(['set', ...args, ...solo.at]);
      expect(s.code, `${args.join(' ')}: ${s.err}`).toBe(0);
      const g = await murmur(['get', args[0]!, '--json', ...solo.at]);
      expect((JSON.parse(g.out) as { value: unknown }).value, args.join(' ')).toEqual(value);
    }
    const t = await murmur(['set', 'v/ttl', 'soon-gone', '--ttl', '30s', ...solo.at]);
    expect(t.out).toMatch(/^v\/ttl = "soon-gone" \(version \d+, expires in 30s\)$/m);
    const j = await murmur(['set', 'v/json', '1', '--json', ...solo.at]);
    expect(JSON.parse(j.out)).toMatchObject({ key: 'v/json', version: expect.any(Number) });
    const dj = await murmur(['del', 'v/json', '--json', ...solo.at]);
    expect(JSON.parse(dj.out)).toEqual({ key: 'v/json', deleted: true });
  });

  it('a key the node refuses to write exits 1 with its reason', async () => {
    const r = await murmur(['set', '_murmur/mine', '1', ...solo.at]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^set _murmur\/mine: .*\(rejected\)$/m);
  });

  it('get without a KEY lists the keys as a table within 80 columns, sensor readings decoded; unknown keys, devices and deletions exit 4', async () => {
    await murmur(['set', 'list/long', 'x'.repeat(200), ...solo.at]);
    await murmur(['set', 'list/short', 'on', ...solo.at]);
    const r = await murmur(['get', '--device', 'solo', ...solo.at]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^key\s+value\s+version$/);
    expect(lines.find((l) => l.startsWith('list/short'))).toMatch(/^list\/short\s+on\s+\d+$/);
    expect(lines.find((l) => l.startsWith('list/long'))).toMatch(/^list\/long\s+x+…\s+\d+$/);
    // The simulated environment sensor publishes readings: shown as value and unit.
    await until('a sensor reading', async () => ((await murmur(['get', ...solo.at])).out.match(/^sensor\/\S+\s+-?[\d.]+ \S+\s+\d+$/m) ? true : undefined));
    expect(longest(r.out)).toBeLessThanOrEqual(80);
    const own = await murmur(['get', ...solo.at]);
    expect(own.out).toContain('list/short');
    const j = await murmur(['get', '--json', ...solo.at]);
    expect(JSON.parse(j.out)).toMatchObject({ 'list/short': { value: 'on', version: expect.any(Number) } });
    // A narrower terminal gets a narrower table.
    const narrow = await murmur(['get', ...solo.at], { COLUMNS: '50' });
    expect(longest(narrow.out)).toBeLessThanOrEqual(50);

    const nobody = await murmur(['get', 'k', '--device', 'nobody', ...solo.at]);
    expect(nobody.code).toBe(4);
    expect(nobody.err).toContain('no device "nobody" is known here');
    const missing = await murmur(['get', 'no/such/key', ...solo.at]);
    expect(missing.code).toBe(4);
    const del = await murmur(['del', 'no/such/key', ...solo.at]);
    expect(del.code).toBe(4);
    expect(del.err).toContain('this device has no key "no/such/key"');
  });

  it('every "not found" exits 4: a sensor key nobody publishes, a device identify cannot find', async () => {
    const sensor = await murmur(['sensors', 'no/such/sensor', ...solo.at]);
    expect(sensor.code, sensor.err).toBe(4);
    expect(sensor.err).toContain('no device publishes "no/such/sensor"');
    const device = await murmur(['identify', 'nosuch', ...solo.at]);
    expect(device.code, device.err).toBe(4);
    expect(device.err).toContain('no device "nosuch" is known here');
    const key = await murmur(['keys', 'use', '0badc0de', ...solo.at]);
    expect(key.code, key.err).toBe(4);
    expect(key.err).toContain('fleet key 0badc0de: not installed');
  });

  it('object values are JSON values end to end: set --type json, get --json, watch --json; readings too; the 1,024-byte limit holds', async () => {
    const json = watch(['--prefix', 'obj/', '--json', ...solo.at]);
    try {
      await json.ready;
      const s = await murmur(['set', 'obj/cfg', '{"a":1,"b":{"c":[true,null]}}', '--type', 'json', ...solo.at]);
      expect(s.code, s.err).toBe(0);
      expect(s.out).toMatch(/^obj\/cfg = \{"a":1,"b":\{"c":\[true,null\]\}\} \(version \d+\)$/m);
      const g = await murmur(['get', 'obj/cfg', '--json', ...solo.at]);
      expect(JSON.parse(g.out)).toMatchObject({ key: 'obj/cfg', value: { a: 1, b: { c: [true, null] } } });
      expect((await murmur(['get', 'obj/cfg', ...solo.at])).out).toBe('{"a":1,"b":{"c":[true,null]}}\n');
      await until('the change on the JSON watch', () => (json.lines.length >= 2 ? true : undefined));
      expect(JSON.parse(json.lines[1]!)).toMatchObject({ type: 'kv', key: 'obj/cfg', value: { a: 1, b: { c: [true, null] } } });
    } finally {
      expect(json.stop()).toBe(true);
      expect(await json.closed).toBe(0);
    }
    // A reading of the simulated sensor: an object with its value and unit.
    const readings = await until('a sensor reading', async () => {
      const all = JSON.parse((await murmur(['get', '--json', ...solo.at])).out) as Record<string, { value: unknown }>;
      const r = Object.entries(all).find(([k]) => k.startsWith('sensor/'));
      return r?.[1].value;
    });
    expect(readings).toMatchObject({ u: expect.any(String), t: expect.any(Number), i: expect.any(Number) });
    // The wire holds the compact JSON text, at most 1,024 bytes of it.
    const big = JSON.stringify({ s: 'x'.repeat(1100) });
    const tooBig = await murmur(['set', 'obj/big', big, '--type', 'json', ...solo.at]);
    expect(tooBig.code).toBe(1);
    expect(tooBig.err).toMatch(/value: \d+ bytes, at most 1024 fit the wire format/);
  });

  it('watch prints a change made by a concurrent set, and --json the NDJSON stream', async () => {
    const human = watch(['--prefix', 'w/', ...solo.at]);
    const json = watch(['--prefix', 'w/', '--json', ...solo.at]);
    try {
      await Promise.all([human.ready, json.ready]);
      expect(human.err()).toContain('watching solo, keys w/*; Ctrl-C to stop');
      await murmur(['set', 'w/temp', '7', ...solo.at]);
      await murmur(['set', 'other/key', '1', ...solo.at]);
      await murmur(['del', 'w/temp', ...solo.at]);
      await until('the deletion on the human watch', () => (human.lines.length >= 2 ? true : undefined));
      expect(human.lines[0]).toMatch(/^\d\d:\d\d:\d\d {2}solo {6}set {2}w\/temp = 7 {2}\(v\d+\)$/);
      expect(human.lines[1]).toMatch(/^\d\d:\d\d:\d\d {2}solo {6}del {2}w\/temp {2}\(v\d+\)$/);
      await until('the deletion on the JSON watch', () => (json.lines.length >= 3 ? true : undefined));
      const events = json.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events[0]).toMatchObject({ type: 'hello', id: 'solo', prefix: 'w/' });
      expect(events[1]).toMatchObject({ type: 'kv', owner: 'solo', key: 'w/temp', value: 7 });
      expect(events[2]).toMatchObject({ type: 'kv', owner: 'solo', key: 'w/temp', deleted: true });
      // The other key was filtered out.
      expect(json.lines.join('\n')).not.toContain('other/key');
    } finally {
      // Ctrl-C ends a watch: done, not failed.
      expect([human.stop(), json.stop()]).toEqual([true, true]);
      expect(await Promise.all([human.closed, json.closed])).toEqual([0, 0]);
    }
  });

  it('the binary: watch ends quietly (exit 0) when the reader of its output goes away, as in "murmur watch | head -1"', async () => {
    const w = binary(['watch', '--prefix', 'pipe/', ...solo.at]);
    await until('watch to subscribe', () => (w.err().includes('watching') ? true : undefined));
    await murmur(['set', 'pipe/a', '1', ...solo.at]);
    await until('the first line', () => (w.out().includes('\n') ? true : undefined));
    w.proc.stdout.destroy();
    // The next change is written to a closed pipe.
    for (let i = 0; i < 20 && w.proc.exitCode === null; i++) {
      await murmur(['set', 'pipe/a', String(i + 2), ...solo.at]);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await w.result).code).toBe(0);
    expect(w.err()).not.toMatch(/EPIPE/);
    expect(w.err()).not.toMatch(STACK);
  });

  it('the binary: status answers from the running node, exit 0', async () => {
    const r = await binary(['status', ...solo.at]).result;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^device\s+solo\s+gen \d+, incarnation 0$/m);
    expect(r.out).not.toContain('\x1b[');
  });

  it('agg over a numeric key set here: count, min, mean, max; --json; an unknown key exits 4', async () => {
    await murmur(['set', 'agg/load', '2.5', ...solo.at]);
    const r = await murmur(['agg', 'agg/load', '--devices', ...solo.at]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^key\s+agg\/load$/m);
    expect(r.out).toMatch(/^devices\s+1 with a fresh number$/m);
    expect(r.out).toMatch(/^min\s+2\.5$/m);
    expect(r.out).toMatch(/^mean\s+2\.5$/m);
    expect(r.out).toMatch(/^max\s+2\.5$/m);
    expect(r.out).toMatch(/^solo\s+2\.5\s+fresh$/m);
    const j = await murmur(['agg', 'agg/load', '--json', ...solo.at]);
    expect(JSON.parse(j.out)).toMatchObject({ key: 'agg/load', count: 1, min: 2.5, max: 2.5, mean: 2.5, unit: null, stale: [], errors: [] });
    await murmur(['set', 'agg/word', 'high', ...solo.at]);
    const w = await murmur(['agg', 'agg/word', ...solo.at]);
    expect(w.code).toBe(0);
    expect(w.out).toMatch(/^devices\s+0 with a fresh number \(of 1 holding the key\)$/m);
    expect(w.out).toMatch(/^not numbers\s+solo$/m);
    const none = await murmur(['agg', 'agg/none', ...solo.at]);
    expect(none.code).toBe(4);
    expect(none.err).toContain('no device has "agg/none"');
  });

  it('leds test plays the patterns on the LED, then the LED goes back to the status', async () => {
    const one = await murmur(['leds', 'test', '--pattern', 'degraded', '--seconds', '2', ...solo.at]);
    expect(one.code, one.err).toBe(0);
    expect(one.out).toMatch(/^playing degraded for 2s, then back to the real status:\n {2}degraded\s+short blips, four every 3 s\n$/);
    const playing = async (): Promise<unknown> => (JSON.parse((await murmur(['status', '--json', ...solo.at])).out) as { led: { leds: Array<{ playing: unknown }> } }).led.leds[0]!.playing;
    expect(await playing()).toBe('degraded');
    await until('the LED back on the status', async () => ((await playing()) !== 'degraded' ? true : undefined));
    const all = await murmur(['leds', 'test', '--seconds', '0.2', '--json', ...solo.at]);
    expect(JSON.parse(all.out)).toEqual({ playing: ['booting', 'searching', 'isolated', 'healthy', 'degraded', 'error', 'identify'], seconds: 0.2 });
    const human = await murmur(['leds', 'test', '--seconds', '0.1', ...solo.at]);
    expect(human.out.split('\n')[0]).toBe('playing 7 patterns, 100ms each (700ms in all), then back to the real status:');
    expect(human.out).toMatch(/^ {2}identify\s+a one-second strobe/m);
  });

  it('colour only on request when not a terminal (FORCE_COLOR), never with NO_COLOR', async () => {
    const plain = await murmur(['status', ...solo.at]);
    expect(plain.out).not.toContain('\x1b[');
    const forced = await murmur(['status', ...solo.at], { FORCE_COLOR: '1' });
    expect(forced.out).toContain('score \x1b[32m0\x1b[39m');
    const no = await murmur(['status', ...solo.at], { FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(no.out).not.toContain('\x1b[');
  });

  it('on a terminal: colour, the terminal\'s width, and a value\'s control characters made visible; piped, the value as it is', async () => {
    await murmur(['set', 'tty/bell', 'a\x1b[2Jb', ...solo.at]);
    expect((await murmur(['get', 'tty/bell', ...solo.at])).out).toBe('a\x1b[2Jb\n');
    expect((await run(['get', 'tty/bell', ...solo.at], { columns: 100 })).out).toBe('a\\x1b[2Jb\n');
    expect((await run(['status', ...solo.at], { columns: 100 })).out).toContain('score \x1b[32m0\x1b[39m');
    const wide = await run(['get', ...solo.at], { columns: 200 });
    const narrow = await run(['get', ...solo.at], { columns: 50 });
    expect(longest(narrow.out)).toBeLessThanOrEqual(50);
    expect(longest(wide.out)).toBeGreaterThan(50);
    // COLUMNS wins over the terminal's own width.
    expect(longest((await run(['get', ...solo.at], { columns: 200, env: { COLUMNS: '50' } })).out)).toBeLessThanOrEqual(50);
  });
});

describe('two nodes', () => {
  let alpha: RunningNode;
  let beta: SpawnedNode;
  beforeAll(async () => {
    const keyFile = join(dir, 'fleet.key');
    const k = await murmur(['keys', 'generate']);
    writeFileSync(keyFile, k.out.trim() + '\n');
    alpha = await startNode(dir, 'alpha', ['--fleet-key-file', keyFile]);
    beta = await spawnNode(dir, 'beta', ['--fleet-key-file', keyFile, '--seed', alpha.addr]);
    await until('alpha and beta to see each other', async () => {
      const a = JSON.parse((await murmur(['members', '--json', ...alpha.at])).out) as Array<{ id: string; status: string }>;
      const b = JSON.parse((await murmur(['members', '--json', ...beta.at])).out) as Array<{ id: string; status: string }>;
      return a.some((m) => m.id === 'beta' && m.status === 'alive') && b.some((m) => m.id === 'alpha' && m.status === 'alive') ? true : undefined;
    });
  }, 30_000);
  afterAll(async () => {
    await Promise.all([alpha && alpha.stop(), beta && beta.stop()]);
  });

  it('members: a row per other device, status coloured on request; status counts it', async () => {
    const r = await murmur(['members', ...alpha.at]);
    expect(r.code).toBe(0);
    const [head, row, ...rest] = r.out.trimEnd().split('\n');
    expect(head).toMatch(/^id\s+status\s+gen\s+address\s+last heard$/);
    expect(row).toMatch(new RegExp(`^beta\\s+alive\\s+\\d+\\s+${beta.addr.replace(/\./g, '\\.')}\\s+(\\d+ms|\\d+(\\.\\d)?s)$`));
    expect(rest).toEqual([]);
    const c = await murmur(['members', ...alpha.at], { FORCE_COLOR: '1' });
    expect(c.out).toContain('\x1b[32malive\x1b[39m');
    const e = await murmur(['members', '--explain', ...alpha.at]);
    expect(e.out.trimEnd().split('\n').at(-1)).toBe('no suspects');
    const s = await murmur(['status', ...alpha.at]);
    expect(s.out).toMatch(/^members\s+1 alive$/m);
  });

  it('get --device reads the other device\'s keys; agg spans both devices', async () => {
    await murmur(['set', 'load', '2', ...alpha.at]);
    await murmur(['set', 'load', '4', ...beta.at]);
    const seen = await until('beta\'s key at alpha', async () => {
      const r = await murmur(['get', 'load', '--device', 'beta', ...alpha.at]);
      return r.code === 0 ? r.out : undefined;
    });
    expect(seen).toBe('4\n');
    const j = await until('both values in the aggregate', async () => {
      const r = await murmur(['agg', 'load', '--json', ...alpha.at]);
      const body = JSON.parse(r.out) as { count: number };
      return body.count === 2 ? body : undefined;
    });
    expect(j).toMatchObject({ count: 2, min: 2, max: 4, mean: 3 });
    const r = await murmur(['agg', 'load', '--devices', ...alpha.at]);
    expect(r.out).toMatch(/^devices\s+2 with a fresh number$/m);
    expect(r.out).toMatch(/^mean\s+3$/m);
    expect(r.out).toMatch(/^alpha\s+2\s+fresh$/m);
    expect(r.out).toMatch(/^beta\s+4\s+fresh$/m);
  });

  it('members --explain: a device that stops answering is suspect, accused by this node, with the time left', async () => {
    const w = watch(['--device', 'beta', ...alpha.at]);
    const wj = watch(['--device', 'beta', '--json', ...alpha.at]);
    await Promise.all([w.ready, wj.ready]);
    // Frozen, not stopped: beta's sockets stay open but it answers nothing, as a hung device.
    beta.proc.kill('SIGSTOP');
    try {
      const explained = await until('beta suspect at alpha', async () => {
        const r = await murmur(['members', '--explain', ...alpha.at]);
        return /^beta\s+suspect\s/m.test(r.out) ? r.out : undefined;
      });
      expect(explained.replace(/\n {2}/g, ' ')).toMatch(/^beta is suspect for \S+: accused by alpha; 0 confirmations; (declared dead in \S+ unless it answers|about to be declared dead)$/m);
      expect(longest(explained)).toBeLessThanOrEqual(80);
      const j = JSON.parse((await murmur(['members', '--json', ...alpha.at])).out) as Array<{ id: string; suspicion: unknown }>;
      const s = j.find((m) => m.id === 'beta')!.suspicion as { accusers: string[]; msLeft: number };
      expect(s.accusers).toEqual(['alpha']);
      expect(s.msLeft).toBeGreaterThanOrEqual(0);
      await until('the watch line', () => (w.lines.some((l) => /beta\s+is suspect \(was alive\)$/.test(l)) ? true : undefined));
      // The stream says the suspicion leaves the verdict as it was.
      const event = await until('the suspicion on the JSON stream', () => wj.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e['type'] === 'member' && e['status'] === 'suspect'));
      expect(event).toMatchObject({ id: 'beta', previous: 'alive', verdict: 'alive', previousVerdict: 'alive' });
    } finally {
      beta.proc.kill('SIGCONT');
      w.stop();
      wj.stop();
      await Promise.all([w.closed, wj.closed]);
    }
    await until('beta alive again at alpha', async () => (/^beta\s+alive\s/m.test((await murmur(['members', ...alpha.at])).out) ? true : undefined), 20_000);
  }, 30_000);

  it('watch on one device sees the other device\'s change; when its node stops, watch says so and exits 3', async () => {
    const w = watch(['--device', 'alpha', ...beta.at]);
    await w.ready;
    await murmur(['set', 'from/alpha', 'hello', ...alpha.at]);
    await until('alpha\'s change at beta', () => (w.lines.some((l) => /alpha\s+set {2}from\/alpha = hello/.test(l)) ? true : undefined));
    await beta.stop();
    expect(await w.closed).toBe(3);
    expect(w.err()).toMatch(/murmur watch: the node at .*murmur\.sock went away \(stopped or restarted\)/);
    // alpha saw beta leave.
    const m = await until('beta to have left', async () => {
      const r = await murmur(['members', ...alpha.at]);
      return /^beta\s+left\s/m.test(r.out) ? r.out : undefined;
    });
    expect(m).toMatch(/^beta\s+left/m);
  });
});

describe('format', () => {
  it('tables fit the width by eliding the widest elidable column; ids keep both ends', () => {
    const rows = [
      ['raspberrypi-kitchen-3f2a', 'alive', '1795446110', 'x'.repeat(70)],
      ['pi-2', { text: 'suspect', paint: (t: string) => `<${t}>` }, '7', 'short'],
    ];
    const out = table([{ head: 'id', elide: 'middle', min: 12 }, 'status', { head: 'gen', align: 'right' }, { head: 'note', elide: 'end' }], rows, { width: 60 });
    const lines = out.split('\n');
    expect(lines.map((l) => [...l.replace(/[<>]/g, '')].length).every((n) => n <= 60)).toBe(true);
    // The long note was cut first, down to the id's width; then both shared the rest of the cut.
    expect(lines[1]).toMatch(/^raspberry…hen-3f2a {2}alive {4}1795446110 {2}x{18}…$/);
    expect(lines[2]).toBe('pi-2                <suspect>           7  short');
    const narrow = table([{ head: 'id', elide: 'middle', min: 12 }, { head: 'gen', align: 'right' }], [['raspberrypi-kitchen-3f2a', '1']], { width: 40 });
    expect(narrow).toContain('raspberrypi-kitchen-3f2a');
    expect(elide('raspberrypi-kitchen-3f2a', 12, 'middle')).toBe('raspbe…-3f2a');
    expect(elide('a long message', 8)).toBe('a long …');
    expect(table(['a'], [], { empty: 'nothing here' })).toBe('nothing here');
    // A value from another device cannot move the cursor or change colours.
    expect(table(['v'], [['\x1b[2Jboom\n']])).toBe('v\n\\x1b[2Jboom\\n');
    expect(printable('a\x07b\tc\nd', { keepLines: true })).toBe('a\\x07b\tc\nd');
  });

  it('durations read short, and parse from what a person types', () => {
    expect([850, 3200, 3000, 42_000, 300_000, 312_000, 754_000, 3_600_000, 11_100_000, 2 * 86_400_000 + 4 * 3_600_000].map(duration)).toEqual([
      '850ms', '3.2s', '3s', '42s', '5m', '5m12s', '12m', '1h', '3h05m', '2d4h',
    ]);
    expect(['30s', '5m', '1h30m', '500ms', '2d', '45', '1.5s'].map(parseDuration)).toEqual([30_000, 300_000, 5_400_000, 500, 172_800_000, 45_000, 1500]);
    for (const bad of ['soon', '5 m', '', 's', '5x', '-5s']) expect(parseDuration(bad), bad).toBeUndefined();
  });

  it('colour: a TTY, unless NO_COLOR; FORCE_COLOR for pipes; width from COLUMNS, the TTY, else 80', () => {
    expect(terminal({ env: {}, stdout: { isTTY: true, columns: 120 } })).toEqual({ tty: true, color: true, width: 120 });
    expect(terminal({ env: { NO_COLOR: '1' }, stdout: { isTTY: true } })).toMatchObject({ color: false, width: 80 });
    expect(terminal({ env: {}, stdout: {} })).toEqual({ tty: false, color: false, width: 80 });
    expect(terminal({ env: { FORCE_COLOR: '1', COLUMNS: '100' }, stdout: {} })).toMatchObject({ color: true, width: 100 });
    expect(terminal({ env: { FORCE_COLOR: '1', NO_COLOR: 'yes' }, stdout: {} })).toMatchObject({ color: false });
  });
});
