import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { createCore, type Core } from '../../src/core.js';
import { loadConfig } from '../../src/config.js';
import { createPostgresSchema, type TestDialect } from './databases.js';

/**
 * A core (no HTTP server) on a fresh database of `dialect` for the tests of one describe
 * block, for tests that drive the webhook queue directly; closed and removed after them.
 * The returned function gives the core once `beforeAll` has run.
 */
export function useQueueCore(dialect: TestDialect, name: string): () => Core {
  let core: Core | undefined;
  const cleanups: Array<() => Promise<void> | void> = [];
  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), `ordercast-${name}-`));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const pg = dialect === 'postgres' ? await createPostgresSchema() : undefined;
    if (pg) cleanups.push(() => pg.drop());
    const config = loadConfig({ dataDir, databaseUrl: pg?.url, demo: false }, { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true' });
    const created = await createCore(config, { logger: pino({ level: 'silent' }) });
    core = created;
    cleanups.push(() => created.close());
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  return () => {
    if (!core) throw new Error('the core starts in beforeAll');
    return core;
  };
}
