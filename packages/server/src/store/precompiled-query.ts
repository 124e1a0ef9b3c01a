import { CompiledQuery, type Compilable } from 'kysely';
import type { Executor } from './transaction.js';

/** Stands for the argument at `index` while the query is compiled. */
class Slot {
  constructor(readonly index: number) {}
}

/** Where each parameter of the compiled SQL comes from: an argument, or a constant of the query. */
type ParameterSource = { argument: number } | { constant: unknown };

/**
 * A hot query whose SQL is built once from its typed Kysely builder, then run with
 * each call's arguments. Building and compiling a query costs about as much as
 * SQLite takes to run a point write (measured ~5–10 µs per statement), and reusing
 * one SQL string also makes the prepared-statement lookup cheap.
 *
 * `build` must pass each argument straight through as a value: compute derived
 * values (JSON text, version + 1) before the call, and don't use it for queries
 * whose shape depends on the arguments (IN lists, optional filters).
 */
export function precompiled<A extends unknown[], R>(build: (db: Executor, ...args: A) => Compilable<R>) {
  // Per dialect (SQLite and PostgreSQL write parameters differently); one process may use both.
  const byDialect = new Map<unknown, { sql: string; sources: ParameterSource[] }>();
  const compile = (db: Executor, arity: number) => {
    const slots = Array.from({ length: arity }, (_, i) => new Slot(i));
    const query = build(db, ...(slots as unknown as A)).compile();
    const sources = query.parameters.map((p): ParameterSource => (p instanceof Slot ? { argument: p.index } : { constant: p }));
    return { sql: query.sql, sources };
  };
  return {
    /** The SQL in `db`'s dialect, and its parameters for these arguments. */
    bind(db: Executor, ...args: A): { sql: string; parameters: unknown[] } {
      // getExecutor() is marked internal, but it is the one way to tell the dialect of a transaction.
      const dialect = db.getExecutor().adapter.constructor;
      let compiled = byDialect.get(dialect);
      if (!compiled) byDialect.set(dialect, (compiled = compile(db, args.length)));
      return { sql: compiled.sql, parameters: compiled.sources.map((source) => ('argument' in source ? args[source.argument] : source.constant)) };
    },
    async rows(db: Executor, ...args: A): Promise<R[]> {
      const { sql, parameters } = this.bind(db, ...args);
      const result = await db.executeQuery<R>(CompiledQuery.raw(sql, parameters));
      return result.rows;
    },
    async first(db: Executor, ...args: A): Promise<R | undefined> {
      return (await this.rows(db, ...args))[0];
    },
    /** For inserts and upserts with `returning`, which always give a row. */
    async firstOrThrow(db: Executor, ...args: A): Promise<R> {
      const row = await this.first(db, ...args);
      if (row === undefined) throw new Error(`query returned no row: ${this.bind(db, ...args).sql}`);
      return row;
    },
  };
}
