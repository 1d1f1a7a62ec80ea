// A CPU cap for one process, to run it as slowly as a small Pi would: a child cgroup with CFS
// bandwidth control, `quota` us of CPU per 100 ms period. cgroup v2's cpu.max when the cpu
// controller can be enabled there; otherwise cgroup v1's cpu controller, whose
// cpu.cfs_quota_us / cpu.cfs_period_us are the same kernel mechanism under older names (a
// hybrid host, where the cpu controller is bound to v1 and v2 has none, is the common case).
// Created here, removed here; a process in it is started through `wrap`.

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PERIOD_US = 100_000;

export interface CpuCap {
  /** "cgroup2 cpu.max" or "cgroup1 cpu.cfs_quota_us": which mechanism applies the cap. */
  readonly mechanism: string;
  readonly dir: string;
  readonly quotaUs: number;
  readonly periodUs: number;
  /** A command line that joins the cgroup, then runs `argv` in its place (same PID). */
  wrap(argv: readonly string[]): string[];
  /** Periods the cap held the process back, and for how long (cpu.stat). */
  throttled(): { periods: number; throttledPeriods: number; throttledMs: number };
  remove(): void;
}

/** Where a cgroup v2 child with the cpu controller can be made, or why not. */
export function cgroup2Root(root = '/sys/fs/cgroup'): { dir: string } | { why: string } {
  for (const dir of [root, join(root, 'unified')]) {
    const controllers = join(dir, 'cgroup.controllers');
    if (!existsSync(controllers)) continue;
    const have = readFileSync(controllers, 'utf8').trim().split(/\s+/);
    if (!have.includes('cpu')) return { why: `cgroup v2 is mounted at ${dir} but its controllers are "${have.join(' ')}": the cpu controller is bound to a cgroup v1 hierarchy` };
    return { dir };
  }
  return { why: `no cgroup v2 hierarchy under ${root}` };
}

export function createCpuCap(fraction: number, name: string, root = '/sys/fs/cgroup'): CpuCap {
  const quotaUs = Math.round(fraction * PERIOD_US);
  const v2 = cgroup2Root(root);
  if ('dir' in v2) {
    const control = join(v2.dir, 'cgroup.subtree_control');
    try {
      writeFileSync(control, '+cpu');
    } catch (e) {
      throw new Error(`cpu cap: cannot enable the cpu controller in ${control}: ${(e as Error).message}`);
    }
    const dir = join(v2.dir, name);
    mkdirSync(dir);
    try {
      writeFileSync(join(dir, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
    } catch (e) {
      rmdirSync(dir);
      throw new Error(`cpu cap: cannot write ${join(dir, 'cpu.max')}: ${(e as Error).message}`);
    }
    return cap('cgroup2 cpu.max', dir, quotaUs, (s) => ({ periods: s['nr_periods'] ?? 0, throttledPeriods: s['nr_throttled'] ?? 0, throttledMs: (s['throttled_usec'] ?? 0) / 1000 }));
  }
  const v1 = join(root, 'cpu');
  if (!existsSync(join(v1, 'cpu.cfs_quota_us'))) throw new Error(`cpu cap: ${v2.why}, and no cgroup v1 cpu controller at ${v1}`);
  const dir = join(v1, name);
  mkdirSync(dir);
  try {
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
  } catch (e) {
    rmdirSync(dir);
    throw new Error(`cpu cap: cannot set the quota in ${dir}: ${(e as Error).message}`);
  }
  return cap(`cgroup1 cpu.cfs_quota_us (${v2.why})`, dir, quotaUs, (s) => ({ periods: s['nr_periods'] ?? 0, throttledPeriods: s['nr_throttled'] ?? 0, throttledMs: (s['throttled_time'] ?? 0) / 1e6 }));
}

function cap(mechanism: string, dir: string, quotaUs: number, fromStat: (s: Record<string, number>) => ReturnType<CpuCap['throttled']>): CpuCap {
  return {
    mechanism,
    dir,
    quotaUs,
    periodUs: PERIOD_US,
    wrap: (argv) => ['sh', '-c', 'echo $$ > "$0" && exec "$@"', join(dir, 'cgroup.procs'), ...argv],
    throttled: () => fromStat(parseCpuStat(readFileSync(join(dir, 'cpu.stat'), 'utf8'))),
    remove: () => {
      // The process has exited (or been killed); a cgroup with a member cannot be removed.
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir);
          return;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        }
      }
      console.error(`cpu cap: could not remove ${dir}; remove it with rmdir once its process is gone`);
    },
  };
}

/** "key value" lines of cpu.stat. */
export function parseCpuStat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}
