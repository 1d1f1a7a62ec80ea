import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Simulation tests run whole fleets in virtual time; some take tens of seconds of CPU.
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's default (one worker fewer than the cores) is a single worker on a 2-core machine,
    // which leaves a core idle while lab, socket and CLI tests wait on real time; a simulation
    // file in a second worker fills it.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
