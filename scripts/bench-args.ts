// The options both fleet benchmarks take (shared/bench/SCENARIOS.md), parsed and checked in one
// place so bench:sim and bench:fleet cannot drift apart.

export interface BenchArgs {
  nodes: number;
  loss: number;
  workload: number;
  steady: number;
  profile: string;
  seed: number;
  deadline: number;
}

/** A number option's value, or an error naming the flag. */
export function numberArg(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n)) throw new Error(`${flag}: expected a number, got ${v ?? 'nothing'}`);
  return n;
}

/**
 * Parse the shared options. A benchmark's own flags go to `extra`, which returns true when it
 * took the flag and calls `value()` to consume the flag's argument.
 */
export function parseBenchArgs(
  argv: readonly string[],
  usage: string,
  extra: (flag: string, value: () => string | undefined) => boolean = () => false,
): BenchArgs {
  const a: BenchArgs = { nodes: 16, loss: 0, workload: 5, steady: 30, profile: 'lan', seed: 1, deadline: 120 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string | undefined => argv[++i];
    const num = (): number => numberArg(flag, value());
    switch (flag) {
      case '--nodes': a.nodes = num(); break;
      case '--loss': a.loss = num(); break;
      case '--workload': a.workload = num(); break;
      case '--steady': a.steady = num(); break;
      case '--seed': a.seed = num(); break;
      case '--deadline': a.deadline = num(); break;
      case '--profile': a.profile = value() ?? ''; break;
      default:
        if (!extra(flag, value)) throw new Error(`unknown option ${flag}; ${usage}`);
    }
  }
  if (!Number.isInteger(a.nodes) || a.nodes < 2) throw new Error(`--nodes: expected an integer >= 2, got ${a.nodes}`);
  if (a.loss < 0 || a.loss >= 1) throw new Error(`--loss: expected a probability in [0, 1), got ${a.loss}`);
  return a;
}
