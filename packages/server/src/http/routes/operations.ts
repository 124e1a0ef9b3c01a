import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Metrics } from '../../metrics.js';
import type { Store } from '../../store/database.js';

export async function operationsRoutes(app: FastifyInstance, opts: { store: Store; metrics: Metrics }): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    try {
      await sql`select 1`.execute(opts.store.db);
      return { status: 'ready', database: opts.store.dialect };
    } catch (error) {
      request.log.warn({ err: error }, 'database not reachable');
      return reply.code(503).send({ status: 'unavailable', database: opts.store.dialect, reason: 'database not reachable' });
    }
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
}
