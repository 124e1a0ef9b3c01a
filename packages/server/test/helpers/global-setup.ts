import { databaseUrlForTests, dropSchemasStartingWith } from './databases.js';
import { buildServer, redisUrlForTests } from './processes.js';

/**
 * Brings the built CLI up to date once for the whole run (the tests that start server
 * processes run it), and says once, clearly, which database suites run and which are skipped.
 */
export default function setup(): () => Promise<void> {
  buildServer();
  // The test files' PostgreSQL schemas are dropped together at the end of the run.
  const prefix = `t_${Date.now().toString(36)}_`;
  process.env.ORDERCAST_TEST_SCHEMA_PREFIX = prefix;
  const pg = databaseUrlForTests();
  if (pg) {
    console.log(`[ordercast tests] PostgreSQL suite: ON (${pg.replace(/:[^:@/]*@/, ':***@')})`);
  } else {
    console.log('[ordercast tests] PostgreSQL suite: SKIPPED (set ORDERCAST_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run it; CI does)');
  }
  const redis = redisUrlForTests();
  if (redis) {
    console.log(`[ordercast tests] Redis suite: ON (${redis})`);
  } else {
    console.log('[ordercast tests] Redis suite: SKIPPED (set ORDERCAST_TEST_REDIS_URL=redis://127.0.0.1:6379 to run it; CI does)');
  }
  return async () => {
    await dropSchemasStartingWith(prefix);
  };
}
