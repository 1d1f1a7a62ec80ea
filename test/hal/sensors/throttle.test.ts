import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunner } from '../../../hal/command.js';
import { SensorError } from '../../../hal/sensors/sensor.js';
import { decodeThrottled, parseThrottled, THROTTLED_FILE, ThrottleSensor } from '../../../hal/sensors/throttle.js';
import { FakeCommands } from '../fake-commands.js';
import { FailingFs, FakeTree } from '../fake-tree.js';
import { readErr, asRecord } from './support.js';

let tree: FakeTree;
let commands: FakeCommands;
beforeEach(() => {
  tree = new FakeTree();
  commands = new FakeCommands();
});
afterEach(() => tree.remove());

const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });

describe('decodeThrottled / parseThrottled', () => {
  it('decodes the four flags now and their sticky twins, as 0/1 "bool" quantities', () => {
    const q = decodeThrottled(0x50005);
    expect(q.map((x) => x.quantity)).toEqual([
      'under-voltage',
      'under-voltage-occurred',
      'freq-capped',
      'freq-capped-occurred',
      'throttled',
      'throttled-occurred',
      'soft-temp-limit',
      'soft-temp-limit-occurred',
    ]);
    expect(q.every((x) => x.unit === 'bool')).toBe(true);
    expect(asRecord(q)).toEqual({
      'under-voltage': 1,
      'under-voltage-occurred': 1,
      'freq-capped': 0,
      'freq-capped-occurred': 0,
      throttled: 1,
      'throttled-occurred': 1,
      'soft-temp-limit': 0,
      'soft-temp-limit-occurred': 0,
    });
    expect(asRecord(decodeThrottled(0x80008))).toMatchObject({ 'soft-temp-limit': 1, 'soft-temp-limit-occurred': 1, 'under-voltage': 0 });
    expect(asRecord(decodeThrottled(0x20000))).toMatchObject({ 'freq-capped': 0, 'freq-capped-occurred': 1 });
  });
  it('parses the forms the firmware file and vcgencmd print', () => {
    expect(parseThrottled('50005\n')).toBe(0x50005);
    expect(parseThrottled('0x50005')).toBe(0x50005);
    expect(parseThrottled('throttled=0x80008\n')).toBe(0x80008);
    expect(parseThrottled('0\n')).toBe(0);
    expect(parseThrottled('')).toBeUndefined();
    expect(parseThrottled('throttled=')).toBeUndefined();
    expect(parseThrottled('0x123456789')).toBeUndefined();
    expect(parseThrottled('VCHI initialization failed')).toBeUndefined();
  });
});

describe('ThrottleSensor via the firmware file', () => {
  it('reads the file (hex without 0x, as the driver prints it) and runs no command', async () => {
    tree.file(THROTTLED_FILE, '50005\n');
    commands.on('vcgencmd', ok('throttled=0x0\n'));
    const s = new ThrottleSensor('throttle', tree.fs(), commands);
    expect(s.type).toBe('throttle');
    expect(asRecord(await s.read())).toMatchObject({ 'under-voltage': 1, throttled: 1, 'under-voltage-occurred': 1 });
    expect(commands.calls).toEqual([]);
  });
  it('accepts a 0x prefix', async () => {
    tree.file(THROTTLED_FILE, '0x8\n');
    expect(asRecord(await new ThrottleSensor('throttle', tree.fs(), commands).read())).toMatchObject({ 'soft-temp-limit': 1, 'soft-temp-limit-occurred': 0 });
  });
  it('empty, garbage, unreadable: errors naming the file', async () => {
    tree.file(THROTTLED_FILE, '');
    expect((await readErr(new ThrottleSensor('throttle', tree.fs(), commands))).message).toBe(`sensor throttle: ${THROTTLED_FILE} is empty (expected the flags in hex)`);
    tree.file(THROTTLED_FILE, 'zz top\n');
    expect((await readErr(new ThrottleSensor('throttle', tree.fs(), commands))).message).toBe(
      `sensor throttle: ${THROTTLED_FILE}: unparseable "zz top" (expected the flags in hex)`,
    );
    tree.file(THROTTLED_FILE, '0\n');
    const fs = new FailingFs(tree.root).failOn(THROTTLED_FILE, 'EACCES');
    expect((await readErr(new ThrottleSensor('throttle', fs, commands))).message).toBe(`sensor throttle: ${THROTTLED_FILE}: permission denied (EACCES)`);
    expect(commands.calls).toEqual([]);
  });
});

describe('ThrottleSensor via vcgencmd', () => {
  it('runs vcgencmd get_throttled when the firmware file is missing', async () => {
    commands.on('vcgencmd', (args) => (args[0] === 'get_throttled' ? ok('throttled=0x50000\n') : { code: 1, stdout: '', stderr: 'bad' }));
    const q = asRecord(await new ThrottleSensor('throttle', tree.fs(), commands).read());
    expect(q).toMatchObject({ 'under-voltage': 0, 'under-voltage-occurred': 1, throttled: 0, 'throttled-occurred': 1 });
    expect(commands.calls).toEqual(['vcgencmd get_throttled']);
  });
  it('vcgencmd not installed: an error naming both sources', async () => {
    expect((await readErr(new ThrottleSensor('throttle', tree.fs(), commands))).message).toBe(
      `sensor throttle: ${THROTTLED_FILE} missing and vcgencmd not installed: no way to read the throttle flags`,
    );
  });
  it('vcgencmd failing: the error carries its exit code and what it said', async () => {
    commands.on('vcgencmd', { code: 255, stdout: '', stderr: 'VCHI initialization failed\n' });
    expect((await readErr(new ThrottleSensor('throttle', tree.fs(), commands))).message).toBe(
      'sensor throttle: vcgencmd get_throttled failed (exit 255): "VCHI initialization failed"',
    );
  });
  it('vcgencmd timing out (runner code 124) or printing garbage: clear errors', async () => {
    commands.on('vcgencmd', { code: 124, stdout: '', stderr: 'vcgencmd: no answer within 2000 ms' });
    expect((await readErr(new ThrottleSensor('throttle', tree.fs(), commands))).message).toMatch(/vcgencmd get_throttled: no answer within 2000 ms/);
    commands.on('vcgencmd', ok('error=2 error_msg="Command not registered"\n'));
    expect((await readErr(new ThrottleSensor('throttle', tree.fs(), commands))).message).toBe(
      'sensor throttle: vcgencmd get_throttled: unparseable output "error=2 error_msg=\\"Command not registere…" (expected "throttled=0x...")',
    );
  });
  it('a runner that never answers still cannot hang the read', async () => {
    const stuck: CommandRunner = { run: () => new Promise(() => {}), start: () => commands.start('x', []) };
    expect((await readErr(new ThrottleSensor('throttle', tree.fs(), stuck, { timeoutMs: 10 }))).message).toMatch(/vcgencmd get_throttled: no answer within 10 ms/);
  });
});
