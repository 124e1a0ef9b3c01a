import type { FastifyInstance } from 'fastify';

const ALLOWED_HEADERS = 'authorization, content-type, if-none-match, idempotency-key, last-event-id, x-request-id';
const EXPOSED_HEADERS = 'etag, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, idempotent-replayed, x-request-id';

/**
 * Lets checkout pages on merchants' own domains call the API from the browser.
 * Credentials travel in the Authorization header, never in cookies, so allowing
 * an origin grants it nothing it does not already hold a token for. `origins` is
 * `['*']` (the default) or a list of exact origins.
 */
export function registerCors(app: FastifyInstance, origins: string[]): void {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  const allowOrigin = (origin: string | undefined): string | undefined => {
    if (any) return '*';
    return origin && allowed.has(origin) ? origin : undefined;
  };

  app.addHook('onSend', (request, reply, payload, done) => {
    const origin = allowOrigin(request.headers.origin);
    if (origin && request.url.startsWith('/api/')) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', EXPOSED_HEADERS);
      if (!any) reply.header('vary', 'Origin');
    }
    done(null, payload);
  });

  app.options('/api/*', { schema: { hide: true } }, async (request, reply) => {
    const origin = allowOrigin(request.headers.origin);
    if (!origin) return reply.code(204).send();
    return reply
      .code(204)
      .header('access-control-allow-origin', origin)
      .header('access-control-allow-methods', 'GET, POST, PATCH, DELETE, OPTIONS')
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', '600')
      .header('vary', 'Origin')
      .send();
  });
}
