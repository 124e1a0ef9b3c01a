import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: ['packages/server/test/helpers/global-setup.ts'],
    // A safety net against a hang, not a speed check: tests that start processes and run
    // the CLI take several times longer while another file runs beside them on a loaded
    // machine. What a test waits for has a deadline of its own.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at a time on two cores: most tests wait on sockets, timers and child
    // processes, so the second file fills those waits (bench/README.md, "The test suite").
    maxWorkers: 2,
    reporters: ['default'],
  },
});
