import { describe, expect, it } from 'vitest';
import { commandLine, parse, runSimBenchmark } from '../../scripts/bench-sim.js';

// bench:sim takes faults as flags, in the text form the replay lines print.

describe('bench:sim --fault', () => {
  it('takes repeated --fault flags, and prints them in the command line that replays the run', () => {
    const a = parse(['--nodes', '8', '--seed', '5', '--fault', 'flap:node=n005,up=20s,down=20s,for=60s', '--fault', 'stall:node=n002,at=5s,for=4s']);
    expect(a.faults).toEqual([
      { kind: 'flap', node: 'n005', upMs: 20_000, downMs: 20_000, forMs: 60_000 },
      { kind: 'stall', node: 'n002', atMs: 5_000, forMs: 4_000 },
    ]);
    const line = commandLine(a);
    expect(line).toContain('--fault flap:node=n005,up=20000,down=20000,for=60000 --fault stall:node=n002,at=5000,for=4000');
    expect(parse(line.replace('npm run bench:sim -- ', '').split(' '))).toEqual(a);
  });

  it('names a malformed fault', () => {
    expect(() => parse(['--fault', 'flap:node=n005,up=20s'])).toThrow(/fault "flap:node=n005,up=20s": flap needs down=/);
    expect(() => parse(['--fault'])).toThrow(/--fault: expected <kind>:<key>=<value>/);
  });

  it('runs the faults from the start of the steady window and reports them; an isolated node is a death the invariants excuse', () => {
    const args = ['--nodes', '8', '--seed', '5', '--steady', '15', '--workload', '5', '--deadline', '30'];
    const quiet = runSimBenchmark(parse(args));
    const cut = runSimBenchmark(parse([...args, '--fault', 'partition:mode=isolate,at=1s,for=10s']));
    expect(quiet['false_positives']).toBe(0);
    expect(quiet['faults']).toBeUndefined();
    expect(cut['faults']).toEqual(['partition:mode=isolate,at=1000,for=10000']);
    expect(cut['false_positives']).toBeGreaterThanOrEqual(7);
    expect(cut['detect_seen']).toBe(7);
  });
});
