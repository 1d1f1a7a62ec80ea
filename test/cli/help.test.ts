import { describe, expect, it } from 'vitest';
import { run } from './recording-io.js';

/** The commands the top-level help lists, read from it so a new command is checked too. */
async function commands(): Promise<string[]> {
  const r = await run(['--help']);
  const block = r.out.split('commands:\n')[1]!.split('\n\n')[0]!;
  return block.split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter((c) => c !== 'help');
}

describe('help', () => {
  it('fits 80 columns for every command and admin subcommand', async () => {
    const cmds = await commands();
    expect(cmds).toContain('start');
    expect(cmds).toContain('admin');
    const argvs = [['--help'], ...cmds.map((c) => [c, '--help'])];
    for (const sub of ['init', 'provision', 'sign', 'revoke', 'apply', 'show-key']) argvs.push(['admin', sub, '--help']);
    const wide: string[] = [];
    for (const argv of argvs) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.out, argv.join(' ')).toMatch(/usage: murmur/);
      for (const line of r.out.split('\n')) if (line.length > 80) wide.push(`${argv.join(' ')}: ${line.length}: ${line}`);
    }
    expect(wide).toEqual([]);
  });

  it('suggests the command a mistyped one is close to', async () => {
    const r = await run(['membrs']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "membrs"; did you mean "members"\?/);
    expect((await run(['stauts'])).err).toMatch(/did you mean "start" or "status"\?/);
    const far = await run(['frobnicate']);
    expect(far.err).not.toMatch(/did you mean/);
    expect((await run(['admin', 'sgin'])).err).toMatch(/unknown subcommand "sgin"; did you mean "sign"\?/);
    expect((await run(['config', 'chek'])).err).toMatch(/unknown subcommand "chek"; did you mean "check"\?/);
    const keys = await run(['keys', 'instal', '--state-dir', '/nonexistent/murmur']);
    expect(keys.code).toBe(2);
    expect(keys.err).toMatch(/unknown command "instal"; did you mean "install"\?/);
  });

});
