import type { FastifyInstance } from 'fastify';
import type { HealthService } from '../../services/health-service.js';

/** Liveness and readiness. `/metrics` is not here: it has a listener of its own (http/metrics-server.ts). */
export async function operationsRoutes(
  app: FastifyInstance,
  opts: { health: HealthService; brokerConnected?: () => boolean; brokerTransport?: string },
): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    // Without Redis (or the LISTEN connection) this node still serves every event, from the log: degraded, not unready.
    const brokerKey = opts.brokerTransport === 'postgres' ? 'databaseListen' : 'redis';
    const redis = opts.brokerConnected ? { [brokerKey]: opts.brokerConnected() ? 'ok' : 'degraded' } : {};
    try {
      await opts.health.checkDatabase();
      return { status: 'ready', database: opts.health.database, ...redis };
    } catch (error) {
      request.log.warn({ err: error }, 'database not reachable');
      return reply.code(503).send({ status: 'unavailable', database: opts.health.database, reason: 'database not reachable', ...redis });
    }
  });
}
