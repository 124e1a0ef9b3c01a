import {
  CompiledQuery,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type Compilable,
} from 'kysely';
import type { Dialect } from './dialect.js';
import type { Database } from './schema.js';
import type { Executor } from './transaction.js';

/** Stands for the argument at `index` while the query is compiled. */
class Slot {
  constructor(readonly index: number) {}
}

/** Where each parameter of the compiled SQL comes from: an argument, or a constant of the query. */
type ParameterSource = { argument: number } | { constant: unknown };

/** Kysely instances that only compile (Kysely's documented way to build SQL without a connection). */
const compilers: Record<Dialect, Kysely<Database>> = {
  sqlite: new Kysely<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  }),
  postgres: new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  }),
};

export interface PrecompiledQuery<A extends unknown[], R> {
  readonly name: string;
  /** How many arguments the builder takes. */
  readonly arity: number;
  /** The SQL in the dialect, and its parameters for these arguments. */
  bind(dialect: Dialect, ...args: A): { sql: string; parameters: unknown[] };
  rows(db: Executor, dialect: Dialect, ...args: A): Promise<R[]>;
  first(db: Executor, dialect: Dialect, ...args: A): Promise<R | undefined>;
}

/** Every precompiled query, so a test can compile each one on both dialects. */
export const precompiledQueries: Array<PrecompiledQuery<any[], unknown>> = [];

/**
 * A hot query whose SQL is built once per dialect from its typed Kysely builder, then
 * run with each call's arguments: building and compiling a query costs about as much
 * as SQLite takes to run a point read, and reusing one SQL string also makes the
 * prepared-statement lookup cheap.
 *
 * `build` must pass each argument straight through as a value: compute derived
 * values (JSON text, version + 1) before the call, and don't use it for queries
 * whose shape depends on the arguments (IN lists, optional filters). Compiling
 * checks that every argument became a parameter, and throws if one did not.
 */
export function precompiled<A extends unknown[], R>(name: string, build: (db: Kysely<Database>, ...args: A) => Compilable<R>): PrecompiledQuery<A, R> {
  const arity = build.length - 1;
  const byDialect = new Map<Dialect, { sql: string; sources: ParameterSource[] }>();
  const compile = (dialect: Dialect) => {
    const slots = Array.from({ length: arity }, (_, i) => new Slot(i));
    const query = build(compilers[dialect], ...(slots as unknown as A)).compile();
    const sources = query.parameters.map((p): ParameterSource => (p instanceof Slot ? { argument: p.index } : { constant: p }));
    for (const slot of slots) {
      if (!sources.some((source) => 'argument' in source && source.argument === slot.index)) {
        throw new Error(`precompiled query ${name}: argument ${slot.index + 1} is not bound as a parameter (pass each argument straight through as a value)`);
      }
    }
    return { sql: query.sql, sources };
  };
  const query: PrecompiledQuery<A, R> = {
    name,
    arity,
    bind(dialect, ...args) {
      let compiled = byDialect.get(dialect);
      if (!compiled) byDialect.set(dialect, (compiled = compile(dialect)));
      return { sql: compiled.sql, parameters: compiled.sources.map((source) => ('argument' in source ? args[source.argument] : source.constant)) };
    },
    async rows(db, dialect, ...args) {
      const { sql, parameters } = this.bind(dialect, ...args);
      return (await db.executeQuery<R>(CompiledQuery.raw(sql, parameters))).rows;
    },
    async first(db, dialect, ...args) {
      return (await this.rows(db, dialect, ...args))[0];
    },
  };
  precompiledQueries.push(query as PrecompiledQuery<any[], unknown>);
  return query;
}
