import { defineConfig } from 'vitest/config';

// `npm run test:long`: soaks, whose point is minutes of virtual time, kept out of `npm test`.
export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    testTimeout: 900_000,
    pool: 'forks',
  },
});
