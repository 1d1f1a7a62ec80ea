// The sensor workload of shared/bench/SCENARIOS.md, shared by bench:fleet and bench:device:
// every node republishes 64 bytes of its own state every `workloadS` seconds, each from a
// random phase so the fleet does not publish in lock-step.

import type { Prng } from '../runtime/sim/prng.js';

interface Publisher {
  readonly id: string;
  readonly host: { set(key: string, value: string): unknown };
}

/** Starts the workload (none when `workloadS` <= 0); the timers are returned for clearing. */
export function startWorkload(nodes: readonly Publisher[], workloadS: number, phase: Prng): NodeJS.Timeout[] {
  const timers: NodeJS.Timeout[] = [];
  if (workloadS <= 0) return timers;
  const period = workloadS * 1000;
  for (const n of nodes) {
    let seq = 0;
    const publish = (): void => {
      n.host.set('sensor', `s${String(seq++).padStart(6, '0')}-${n.id.padStart(57, '0')}`.slice(0, 64));
    };
    timers.push(
      setTimeout(() => {
        publish();
        timers.push(setInterval(publish, period));
      }, phase.int(period)),
    );
  }
  return timers;
}
