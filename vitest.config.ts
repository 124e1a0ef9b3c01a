import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: ['packages/server/test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time: most tests wait on sockets, timers and child processes rather
    // than compute, so a second worker overlaps those waits even on two cores (vitest
    // would use one: the core count minus one). Measured in bench/README.md.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
