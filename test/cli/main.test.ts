import { describe, expect, it } from 'vitest';
import { main } from '../../runtime/cli/main.js';
import { recordingIo } from './recording-io.js';

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const io = recordingIo();
  const code = await main(argv, io);
  return { code, out: io.outLines, err: io.errLines };
}

describe('murmur CLI', async () => {
  it('sim runs a fleet and reports the kill, the detection and the restart', async () => {
    const r = await run('sim', '--nodes', '6', '--seconds', '20', '--seed', '3');
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/kill -9 n005/);
    expect(text).toMatch(/status\s+n005 suspect -> dead/);
    expect(text).toMatch(/restart\s+n005 gen=1 -> gen=2/);
    expect(text).toMatch(/sees 5 of 5 peers present/);
  });

  it('rejects a bad option value by naming it, with exit code 2 and no stack trace', async () => {
    const r = await run('sim', '--loss', '2');
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/--loss: expected a number from 0 to 0.95, got 2/);
  });

  it('rejects an unknown command and shows usage', async () => {
    const r = await run('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/unknown command "frobnicate"/);
    expect(r.err.join('\n')).toMatch(/usage: murmur/);
  });

  it('help exits 0', async () => {
    expect((await run('--help')).code).toBe(0);
    expect((await run('sim', '--help')).out.join('\n')).toMatch(/usage: murmur sim/);
  });
});
