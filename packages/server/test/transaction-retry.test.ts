import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/database.js';
import { isConnectionError, isDatabaseUnavailable } from '../src/lib/database-errors.js';
import { inTransaction } from '../src/store/transaction.js';
import { createPostgresSchema, databaseUrlForTests } from './helpers/databases.js';

describe.skipIf(!databaseUrlForTests())('a transaction whose PostgreSQL connection dies before COMMIT', () => {
  let store: Store;
  let drop: () => Promise<void>;
  let dataDir: string;
  const lost: Error[] = [];
  beforeAll(async () => {
    const schema = await createPostgresSchema();
    drop = schema.drop;
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-trx-'));
    store = openStore({ databaseUrl: schema.url, dataDir, onConnectionError: (error) => lost.push(error) });
    await sql`create table marks (id int primary key)`.execute(store.db);
  });
  afterAll(async () => {
    await store?.close();
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Ends the backend the transaction runs on, from inside it, as a failover or pg_terminate_backend would. */
  const killOwnConnection = (trx: Parameters<Parameters<typeof inTransaction>[1]>[0]) => sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx);

  it('is run again once on a fresh connection, and commits once', async () => {
    let attempts = 0;
    const result = await inTransaction(store.db, async (trx) => {
      attempts++;
      await sql`insert into marks (id) values (1)`.execute(trx);
      if (attempts === 1) await killOwnConnection(trx);
      return 'committed';
    });
    expect(result).toBe('committed');
    expect(attempts).toBe(2);
    const rows = await sql<{ n: number }>`select count(*)::int as n from marks where id = 1`.execute(store.db);
    expect(rows.rows[0]!.n).toBe(1);
    // The dead connection was reported, not thrown at the process.
    expect(lost.length).toBeGreaterThan(0);
  });

  it('is not retried a second time: the caller gets a connection error (a 503)', async () => {
    let attempts = 0;
    const failure = await inTransaction(store.db, async (trx) => {
      attempts++;
      await killOwnConnection(trx);
    }).catch((error: unknown) => error);
    expect(attempts).toBe(2);
    expect(isConnectionError(failure)).toBe(true);
    expect(isDatabaseUnavailable(failure)).toBe(true);
    // The pool replaced both dead connections.
    expect((await sql<{ one: number }>`select 1 as one`.execute(store.db)).rows[0]!.one).toBe(1);
  });

  it('does not retry a refusal that has nothing to do with the connection', async () => {
    let attempts = 0;
    const failure = await inTransaction(store.db, async (trx) => {
      attempts++;
      await sql`insert into marks (id) values (1)`.execute(trx);
    }).catch((error: unknown) => error);
    expect(attempts).toBe(1);
    expect(isConnectionError(failure)).toBe(false);
    expect((failure as { code?: string }).code).toBe('23505');
  });
});
