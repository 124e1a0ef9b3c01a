import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: ['packages/server/test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time on two cores: most tests wait on sockets, timers and child
    // processes, so the second file fills those waits (bench/README.md, "The test suite").
    maxWorkers: 2,
    reporters: ['default'],
  },
});
