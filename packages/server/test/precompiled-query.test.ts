import { describe, expect, it } from 'vitest';
import { precompiled, precompiledQueries } from '../src/store/precompiled-query.js';
// Importing the repositories registers their precompiled queries.
import '../src/store/database.js';

describe('precompiled queries', () => {
  it('bind every argument as a parameter, on SQLite and on PostgreSQL', () => {
    expect(precompiledQueries.length).toBeGreaterThan(0);
    for (const query of precompiledQueries) {
      for (const dialect of ['sqlite', 'postgres'] as const) {
        const args = Array.from({ length: query.arity }, (_, i) => `argument-${i}`);
        const { sql, parameters } = query.bind(dialect, ...args);
        for (const arg of args) expect(parameters, `${query.name} on ${dialect}`).toContain(arg);
        expect(sql).toContain(dialect === 'postgres' ? '$1' : '?');
      }
    }
  });

  it('refuse a builder that computes a value from an argument instead of passing it through', () => {
    const derived = precompiled('derived', (db, version: number) =>
      db
        .selectFrom('orders')
        .selectAll()
        .where('version', '=', (version as number) + 1),
    );
    expect(() => derived.bind('sqlite', 1)).toThrow(/argument 1 is not bound/);
    precompiledQueries.splice(precompiledQueries.indexOf(derived as never), 1);
  });
});
