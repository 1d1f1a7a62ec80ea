import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Simulation tests run whole fleets in virtual time; some take tens of seconds of CPU.
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
