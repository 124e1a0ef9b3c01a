import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from '../lib/logging.js';
import type { Metrics } from '../metrics.js';
import type { AuthService } from '../services/auth-service.js';
import type { EventFeedService } from '../services/event-feed-service.js';
import type { OrderService } from '../services/order-service.js';
import type { ProjectService } from '../services/project-service.js';
import type { ProjectQuotaService } from '../services/project-quotas.js';
import type { ProjectKeyService } from '../services/project-key-service.js';
import type { AdminKeyService } from '../services/admin-key-service.js';
import { adminKeyRoutes } from './routes/admin-keys.js';
import { adminDashboardLinkRoute } from './routes/admin-dashboard-links.js';
import { adminProjectQuotaRoutes } from './routes/admin-project-quotas.js';
import type { ProjectAdministration } from '../services/project-administration.js';
import { adminActorOf } from './request-actor.js';
import { adminProjectRoutes } from './routes/admin-projects.js';
import { adminKeySchema, adminProjectSchema, apiKeySchema } from './routes/admin-schemas.js';
import type { WebhookDeliveryService } from '../services/webhook-delivery-service.js';
import type { WebhookEndpointService } from '../services/webhook-endpoint-service.js';
import type { WebhookStatsService } from '../services/webhook-stats-service.js';
import type { OrderExpungeService } from '../services/order-expunge-service.js';
import { openApiWebhooks } from './openapi-webhooks.js';
import { eventTypeRoutes } from './routes/event-types.js';
import { orderExpungeRoutes } from './routes/order-expunge.js';
import type { HealthService } from '../services/health-service.js';
import type { AuditLog } from '../services/audit-log.js';
import type { CredentialWatcher } from '../services/credential-watcher.js';
import type { DashboardSessionService } from '../services/dashboard-session-service.js';
import { auditLogRoutes } from './routes/audit-log.js';
import { dashboardSessionRoutes } from './routes/dashboard-sessions.js';
import { registerAuth } from './auth-hook.js';
import { answerClientError } from './client-error.js';
import { registerCors } from './cors.js';
import { registerErrorHandling, type ErrorHandler } from './error-handler.js';
import { errorBody } from './error-body.js';
import { registerJsonBodyParser } from './json-body.js';
import { refuseOversizeBeforeContinue } from './oversize-body.js';
import { lazySerializers, registerValidators } from './schema-compilers.js';
import { urlForLog } from './log-url.js';
import { registerRequestTracing } from './request-tracing.js';
import { tracingEnabled } from '../lib/tracing.js';
import { RateLimiter } from '../lib/rate-limiter.js';
import { DEFAULT_DASHBOARD_DIR } from '../config.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { eventRoutes } from './routes/events.js';
import { operationsRoutes } from './routes/operations.js';
import { orderBatchRoutes } from './routes/order-batch.js';
import { orderRoutes } from './routes/orders.js';
import { projectRoutes } from './routes/project.js';
import { streamRoutes, type EventStreams } from './routes/streams.js';
import { tokenRoutes } from './routes/tokens.js';
import { orderLinkRoutes } from './routes/order-links.js';
import { brandingRoutes } from './routes/branding.js';
import { orderPageRoutes, type OrderLinkEventStreams } from './routes/order-page.js';
import type { OrderLinkService } from '../services/order-link-service.js';
import type { BrandingService } from '../services/branding-service.js';
import { webhookDeliveryRoutes, webhookDeliverySchema } from './routes/webhook-deliveries.js';
import { webhookEndpointRoutes, webhookEndpointSchema } from './routes/webhook-endpoints.js';
import { errorSchema, orderEventSchema, orderSchema } from './schemas.js';
import type { IsTrustedProxy } from '../lib/client-address.js';

export interface HttpDeps {
  logger: Logger;
  metrics: Metrics;
  health: HealthService;
  auth: AuthService;
  orders: OrderService;
  projects: ProjectService;
  /** Each project's quotas, shown read-only to its own secret key on GET /api/v2/project. */
  projectQuotas?: ProjectQuotaService;
  /** The admin API (`/api/v2/admin/`): served when given. */
  projectKeys?: ProjectKeyService;
  adminKeys?: AdminKeyService;
  administration?: ProjectAdministration;
  webhookEndpoints: WebhookEndpointService;
  webhookDeliveries: WebhookDeliveryService;
  webhookStats?: WebhookStatsService;
  orderExpunge?: OrderExpungeService;
  eventFeed: EventFeedService;
  bodyLimitBytes: number;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  version: string;
  shutdownSignal: AbortSignal;
  corsOrigins: string[];
  /** Whether Redis carries events now (undefined without Redis): `/readyz` says `redis: degraded` when not. */
  brokerConnected?: () => boolean;
  /** Server-Sent Events streams (undefined: the stream routes are not served). */
  streams?: EventStreams;
  /** What brokerConnected is about: `redis` (default) or `postgres` (`/readyz` then says `databaseListen`). */
  brokerTransport?: string;
  /** Which peers' X-Forwarded-For names the client (`request.ip`); undefined: the socket's peer is the client. */
  trustProxy?: IsTrustedProxy;
  /** The audit log (`GET /api/v2/audit-log`, and what endpoint changes record); undefined: not served. */
  auditLog?: AuditLog;
  /** Dashboard sign-in links and sessions (the session cookie); undefined: only keys sign in. */
  dashboardSessions?: DashboardSessionService;
  /** Ends long-polls whose dashboard session lapses. */
  credentials?: CredentialWatcher;
  /** Signed order links and the buyer's page (`/o/{token}`), with the project's branding; undefined: not served. */
  buyerView?: { links: OrderLinkService; streams: OrderLinkEventStreams; branding: BrandingService; limiter: RateLimiter };
  /** The built dashboard's folder (default: the one `npm run build` fills in this package). */
  dashboardDir?: string;
}

/**
 * Reference document 000 polls `…/api/api/v2/orders/:id`; that doubled prefix is
 * served as an alias of `/api/v2` so its snippet works with only the host changed.
 */
function rewriteLegacyPrefix(url: string): string {
  return url.startsWith('/api/api/v2/') || url === '/api/api/v2' ? url.slice(4) : url;
}

export async function buildHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  let handleError: ErrorHandler = async () => {};
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Per-request lines would dominate the logs and the hot path; onResponse logs at debug instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimitBytes,
    rewriteUrl: (req) => rewriteLegacyPrefix(req.url ?? '/'),
    requestIdHeader: 'x-request-id',
    trustProxy: deps.trustProxy ?? false,
    return503OnClosing: true,
    schemaController: lazySerializers(),
    clientErrorHandler: answerClientError,
    // A path with bad percent-encoding and the like: answered by our error handler, like any other error.
    frameworkErrors: (error, request, reply) => {
      // Under /o/ the path is a buyer's token: whatever is wrong with it is the one 404 that repeats nothing of it.
      if (request.url.startsWith('/o/')) {
        void (reply as FastifyReply)
          .code(404)
          .header('referrer-policy', 'no-referrer')
          .header('x-robots-tag', 'noindex, nofollow')
          .send(errorBody('not_found', 'Not found'));
        return;
      }
      void handleError(error, request, reply);
    },
  });

  handleError = registerErrorHandling(app, deps.bodyLimitBytes);
  registerJsonBodyParser(app);
  refuseOversizeBeforeContinue(app.server, deps.bodyLimitBytes);
  registerValidators(app);
  app.addSchema(errorSchema);
  app.addSchema(orderSchema);
  app.addSchema(orderEventSchema);
  app.addSchema(webhookEndpointSchema);
  app.addSchema(webhookDeliverySchema);
  app.addSchema(adminProjectSchema);
  app.addSchema(apiKeySchema);
  app.addSchema(adminKeySchema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ordercast API',
        version: deps.version,
        description:
          'Order-status tracking: write orders and status changes, poll them (ETag, long-poll), receive webhooks and WebSocket updates. Errors are `{"error": {"code", "message", "details"}}`.',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      // Relative: the server that serves this document is the one it describes, wherever it runs.
      servers: [{ url: '/', description: 'the Ordercast server serving this document' }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'A secret key (sk_…), a restricted key (rk_…), a user token (JWT), or on `/api/v2/admin/` an admin key (ak_…)',
          },
        },
      },
      tags: [
        {
          name: 'admin',
          description:
            'The admin API: provision projects and their keys with an admin key (ak_…). An admin key reads no project data, and a project key cannot call these routes (403).',
        },
      ],
      security: [{ bearer: [] }],
      webhooks: openApiWebhooks(),
    },
    // Each operation names what a restricted key needs to call it (`x-permission`, from the route's `config.permission`).
    // and which credentials it takes at all (`x-credentials`, from `config.allow`; absent on public routes).
    transform: ({ schema, url, route }) => {
      const config = route.config as { permission?: string; allow?: string[]; unrestrictedOnly?: boolean } | undefined;
      const extensions = {
        ...(config?.allow ? { 'x-credentials': config.allow } : {}),
        ...(config?.permission ? { 'x-permission': config.permission } : {}),
        ...(config?.unrestrictedOnly ? { 'x-unrestricted-only': true } : {}),
      };
      return { schema: schema ? { ...schema, ...extensions } : schema, url } as { schema: typeof schema; url: string };
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  if (tracingEnabled()) registerRequestTracing(app);
  // Hooks on every request are callback-style: an async hook costs a promise and
  // extra microtask turns per request, which shows on the polling hot path.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    // During shutdown, a keep-alive connection would outlive its last response and hold the process open.
    if (deps.shutdownSignal.aborted) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    deps.metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    );
    request.log.debug({ method: request.method, url: urlForLog(request.url), statusCode: reply.statusCode, ms: reply.elapsedTime, ip: request.ip }, 'request');
    done();
  });

  registerCors(app, deps.corsOrigins);
  const rateLimiter = new RateLimiter(deps.rateLimitPerSecond, deps.rateLimitBurst);
  registerAuth(app, deps.auth, rateLimiter, deps.dashboardSessions);
  await app.register(orderRoutes, { orders: deps.orders, shutdownSignal: deps.shutdownSignal });
  await app.register(orderBatchRoutes, { orders: deps.orders });
  await app.register(tokenRoutes, { auth: deps.auth });
  await app.register(webhookEndpointRoutes, {
    endpoints: deps.webhookEndpoints,
    deliveries: deps.webhookDeliveries,
    stats: deps.webhookStats,
    audit: deps.auditLog,
  });
  await app.register(eventTypeRoutes, { endpoints: deps.webhookEndpoints });
  if (deps.orderExpunge) await app.register(orderExpungeRoutes, { expunge: deps.orderExpunge });
  await app.register(webhookDeliveryRoutes, { deliveries: deps.webhookDeliveries });
  await app.register(eventRoutes, { feed: deps.eventFeed, shutdownSignal: deps.shutdownSignal, credentials: deps.credentials });
  if (deps.auditLog) await app.register(auditLogRoutes, { audit: deps.auditLog });
  if (deps.dashboardSessions) await app.register(dashboardSessionRoutes, { sessions: deps.dashboardSessions });
  await app.register(projectRoutes, { projects: deps.projects, quotas: deps.projectQuotas });
  if (deps.projectKeys && deps.adminKeys && deps.administration) {
    const administration = deps.administration;
    await app.register(adminProjectRoutes, { projects: deps.projects, administration });
    await app.register(adminKeyRoutes, { projectKeys: deps.projectKeys, adminKeys: deps.adminKeys, administration });
    if (deps.projectQuotas) await app.register(adminProjectQuotaRoutes, { quotas: deps.projectQuotas, preHandler: [], config: { allow: ['admin'] } });
    if (deps.dashboardSessions) {
      app.route({
        ...adminDashboardLinkRoute(deps.dashboardSessions, {
          dashboardUrl: (request) => `${request.protocol}://${request.host}/dashboard`,
          actorOf: adminActorOf,
        }),
        config: { allow: ['admin'] },
      });
    }
  }
  if (deps.buyerView) {
    await app.register(orderLinkRoutes, { links: deps.buyerView.links });
    await app.register(brandingRoutes, { branding: deps.buyerView.branding });
    await app.register(orderPageRoutes, { links: deps.buyerView.links, streams: deps.buyerView.streams, limiter: deps.buyerView.limiter });
  }
  if (deps.streams) await app.register(streamRoutes, { streams: deps.streams, auth: deps.auth, rateLimiter });
  await app.register(dashboardRoutes, { dir: deps.dashboardDir ?? DEFAULT_DASHBOARD_DIR });
  await app.register(operationsRoutes, { health: deps.health, brokerConnected: deps.brokerConnected, brokerTransport: deps.brokerTransport });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/', { schema: { hide: true } }, async () => ({
    name: 'Ordercast',
    version: deps.version,
    docs: '/docs',
    openapi: '/openapi.json',
    dashboard: '/dashboard',
  }));
  return app;
}
