// The binary's io: signal handlers exist only while a command listens, so that without one
// Ctrl-C and SIGTERM end the process as they do for any program.

import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processIo } from '../../runtime/cli/process-io.js';

function fakeProcess(): NodeJS.Process {
  const p = new EventEmitter() as EventEmitter & { env: Record<string, string>; stdout: EventEmitter & { isTTY: boolean; columns: number } };
  p.env = { COLUMNS: '90' };
  p.stdout = Object.assign(new EventEmitter(), { isTTY: true, columns: 132 });
  return p as unknown as NodeJS.Process;
}

describe('processIo', () => {
  it('listens for SIGINT and SIGTERM only while a command does, and passes on which one came', () => {
    const p = fakeProcess();
    const io = processIo(p);
    expect([p.listenerCount('SIGINT'), p.listenerCount('SIGTERM')]).toEqual([0, 0]);
    const got: string[] = [];
    const stop = io.onSignal((s) => got.push(s));
    expect([p.listenerCount('SIGINT'), p.listenerCount('SIGTERM')]).toEqual([1, 1]);
    p.emit('SIGTERM', 'SIGTERM');
    p.emit('SIGINT', 'SIGINT');
    expect(got).toEqual(['SIGTERM', 'SIGINT']);
    stop();
    expect([p.listenerCount('SIGINT'), p.listenerCount('SIGTERM')]).toEqual([0, 0]);
  });

  it('hands over stdout errors while subscribed, and the process\'s environment and terminal', () => {
    const p = fakeProcess();
    const io = processIo(p);
    const errors: string[] = [];
    const stop = io.onOutputError((e) => errors.push(String(e.code)));
    p.stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    stop();
    expect(errors).toEqual(['EPIPE']);
    expect(p.stdout.listenerCount('error')).toBe(0);
    expect(io.env['COLUMNS']).toBe('90');
    expect(io.stdout).toMatchObject({ isTTY: true, columns: 132 });
  });
});
