import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_ACCENT } from '../../domain/branding.js';
import { BUYER_PAGE_STRINGS } from '../../domain/buyer-page-strings.js';
import { isOrdercastError, OrdercastError } from '../../domain/errors.js';
import { negotiateLocale, type Locale } from '../../domain/locales.js';
import type { RateLimiter } from '../../lib/rate-limiter.js';
import type { OrderLinkService } from '../../services/order-link-service.js';
import type { StreamOutcome, StreamReply } from './streams.js';
import { errorBody } from '../error-body.js';
import { renderMessagePage, renderOrderPage } from '../order-page/render-page.js';

/** A link's live stream (realtime/sse/order-link-stream.ts); refusals before it opens throw an OrdercastError. */
export interface OrderLinkEventStreams {
  stream(token: string, locale: Locale, lastEventId: string | undefined, reply: StreamReply): Promise<StreamOutcome>;
}

export interface OrderPageOptions {
  links: OrderLinkService;
  streams: OrderLinkEventStreams;
  /** Per client address, for every `/o/` request: guessing tokens costs the guesser, and tells nothing. */
  limiter: RateLimiter;
}

type TokenRequest = FastifyRequest<{ Params: { token: string }; Querystring: { lang?: unknown } }>;

/** What every `/o/` answer says: the token in the URL must not leak through a Referer, an index or a cache. */
function privateHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('referrer-policy', 'no-referrer')
    .header('x-robots-tag', 'noindex, nofollow')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff');
}

/** A CSP with nothing allowed but this response's own nonced style and script, its own origin, and the project's logo. */
function contentSecurityPolicy(nonce: string, logoUrl: string | null): string {
  const logoOrigin = logoUrl ? ` ${new URL(logoUrl).origin}` : '';
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `img-src 'self'${logoOrigin}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function localeOf(request: TokenRequest): Locale {
  const accept = request.headers['accept-language'];
  return negotiateLocale(request.query?.lang, typeof accept === 'string' ? accept : undefined);
}

/** The same refusal for every malformed, unknown, foreign or expunged token: 404 `not_found`. */
function statusOf(error: unknown): 404 | 410 | undefined {
  if (!isOrdercastError(error)) return undefined;
  if (error.code === 'not_found') return 404;
  if (error.code === 'order_link_expired' || error.code === 'order_link_revoked') return 410;
  return undefined;
}

// No length limit here: a token too long or short is answered like any unknown one (404), not as a validation error.
const tokenParams = { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] } as const;
// `lang` is read by hand: a value too long or strange falls back to English instead of a 400.
const langQuery = { type: 'object', properties: { lang: {} } } as const;

/** The hosted status page of a signed order link: `/o/{token}`, its JSON view and its live stream (docs/buyer-view.md). */
export async function orderPageRoutes(app: FastifyInstance, opts: OrderPageOptions): Promise<void> {
  app.addHook('onRequest', (request, reply, done) => {
    privateHeaders(reply);
    if (!opts.limiter.enabled) return done();
    const decision = opts.limiter.take(`o:${request.ip}`);
    if (decision.allowed) return done();
    reply.header('retry-after', decision.retryAfterSeconds);
    done(
      new OrdercastError('rate_limited', `Too many requests: retry after ${decision.retryAfterSeconds} s`, { retryAfterSeconds: decision.retryAfterSeconds }),
    );
  });

  app.get<{ Params: { token: string }; Querystring: { lang?: unknown } }>(
    '/o/:token',
    { schema: { hide: true, params: tokenParams, querystring: langQuery } },
    async (request, reply) => {
      const locale = localeOf(request);
      const t = BUYER_PAGE_STRINGS[locale];
      const nonce = randomBytes(16).toString('base64');
      try {
        const link = await opts.links.resolve(request.params.token);
        const view = await opts.links.view(link, locale);
        return reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', contentSecurityPolicy(nonce, view.branding.logoUrl))
          .header('content-language', locale)
          .send(renderOrderPage(view, t, nonce));
      } catch (error) {
        const status = statusOf(error);
        if (status === undefined) throw error;
        const code = (error as OrdercastError).code;
        const [title, body] =
          status === 404
            ? [t.notFoundTitle, t.notFoundBody]
            : code === 'order_link_expired'
              ? [t.expiredTitle, t.expiredBody]
              : [t.revokedTitle, t.revokedBody];
        return reply
          .code(status)
          .type('text/html; charset=utf-8')
          .header('content-security-policy', contentSecurityPolicy(nonce, null))
          .header('content-language', locale)
          .send(renderMessagePage(locale, title, body, nonce, DEFAULT_ACCENT));
      }
    },
  );

  app.get<{ Params: { token: string }; Querystring: { lang?: unknown } }>(
    '/o/:token/status.json',
    { schema: { hide: true, params: tokenParams, querystring: langQuery } },
    async (request, reply) => {
      reply.header('access-control-allow-origin', '*');
      try {
        const link = await opts.links.resolve(request.params.token);
        return await opts.links.view(link, localeOf(request));
      } catch (error) {
        const status = statusOf(error);
        if (status === undefined) throw error;
        const code = (error as OrdercastError).code;
        return reply
          .code(status)
          .send(errorBody(code, status === 404 ? 'Not found' : code === 'order_link_expired' ? 'This link has expired' : 'This link was revoked'));
      }
    },
  );

  app.get<{ Params: { token: string }; Querystring: { lang?: unknown } }>(
    '/o/:token/events',
    { exposeHeadRoute: false, schema: { hide: true, params: tokenParams, querystring: langQuery } },
    async (request, reply) => {
      reply.header('access-control-allow-origin', '*');
      const lastEventId = typeof request.headers['last-event-id'] === 'string' ? request.headers['last-event-id'] : undefined;
      try {
        const outcome = await opts.streams.stream(request.params.token, localeOf(request), lastEventId, {
          response: reply.raw,
          open(body) {
            reply.code(200).type('text/event-stream; charset=utf-8').header('x-accel-buffering', 'no').send(body);
          },
        });
        if (outcome === 'no_content') return reply.code(204).send();
        return reply;
      } catch (error) {
        const status = statusOf(error);
        if (status === undefined) throw error;
        const code = (error as OrdercastError).code;
        return reply.code(status).send(errorBody(code, status === 404 ? 'Not found' : 'This link no longer works'));
      }
    },
  );
}
