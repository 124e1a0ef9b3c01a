import { sql } from 'kysely';
import type { Store } from '../store/database.js';
import type { Dialect } from '../store/dialect.js';

/** What `/readyz` asks of the database: which one it is, and whether it answers. */
export class HealthService {
  constructor(private readonly store: Store) {}

  get database(): Dialect {
    return this.store.dialect;
  }

  /** Resolves when the database answers a trivial query; rejects with the driver's error when it does not. */
  async checkDatabase(): Promise<void> {
    await sql`select 1`.execute(this.store.db);
  }
}
