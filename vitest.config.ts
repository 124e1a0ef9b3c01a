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
    // Three files at a time on two cores: many tests wait on timers, leases and child
    // processes (a credential re-check, a restart), and a third file fills those waits.
    // A larger young generation means fewer scavenges of the servers and clients each
    // file holds. Both measured in bench/README.md, "The test suite".
    maxWorkers: 3,
    execArgv: ['--max-semi-space-size=32'],
    reporters: ['default'],
  },
});
