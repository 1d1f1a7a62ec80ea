import { afterEach, describe, expect, it, vi } from 'vitest';
import { SystemCommands } from '../../hal/command.js';

describe('SystemCommands', () => {
  const c = new SystemCommands();

  it('reports exit codes and output; a missing program is 127, not a throw', async () => {
    expect(await c.run('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(await c.run('sh', ['-c', 'echo ok'])).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
    expect(await c.run('murmur-no-such-tool', [])).toEqual({ code: 127, stdout: '', stderr: 'murmur-no-such-tool: not installed' });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives up on a command that does not answer', async () => {
    // The command would take a minute: only the 100 ms timeout can end it this soon.
    const r = await c.run('sleep', ['60'], 100);
    expect(r.code).toBe(124);
    expect(r.stderr).toBe('sleep: no answer within 100 ms');
  });

  it('feeds a session lines and reports its exit with everything it said', async () => {
    const s = c.start('sh', ['-c', 'while read l; do [ "$l" = exit ] && { echo bye "$n" >&2; exit 7; }; n="$n$l"; done']);
    const exited = new Promise<[number, string]>((r) => s.onExit((code, stderr) => r([code, stderr])));
    s.write('a');
    s.write('b\n');
    s.write('exit');
    expect(await exited).toEqual([7, 'bye ab']);
    await s.close();
    s.write('ignored after exit');
  });

  it('a last line reaches a command that ignores end of input (as gpioset --interactive does) once its stdin ends', async () => {
    // Spins on EOF, like gpioset's prompt loop; only "exit" ends it.
    const spin = 'while :; do read -r l; [ "$l" = exit ] && exit 5; done';
    const s = c.start('sh', ['-c', spin], { lastLine: 'exit' });
    const exited = new Promise<number>((r) => s.onExit((code) => r(code)));
    s.write('set 17=1');
    // close() arms a SIGTERM fallback on setTimeout. With timers virtual and never advanced, it
    // cannot fire: the process ends because the last line reached it, however slow the machine.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await s.close();
    expect(await exited).toBe(5);
    // The fallback was armed and then cleared, never run.
    expect(vi.getTimerCount()).toBe(0);
  }, 20_000);

  it('a session that cannot start reports it through onExit', async () => {
    const s = c.start('murmur-no-such-tool', []);
    const [code, stderr] = await new Promise<[number, string]>((r) => s.onExit((c2, e) => r([c2, e])));
    expect(code).toBe(127);
    expect(stderr).toBe('murmur-no-such-tool: not installed');
  });
});
