import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OrdercastError } from '../../domain/errors.js';
import type { ServerResponse } from 'node:http';
import type { AuthService, Principal, ProjectPrincipal, UserPrincipal } from '../../services/auth-service.js';
import { requirePermission } from '../../services/permission-check.js';
import type { RateLimiter } from '../../lib/rate-limiter.js';
import { errorResponses, idParams } from '../schemas.js';

/** What a stream route hands over once the request is accepted: the raw response, and how to start the body. */
export interface StreamReply {
  response: ServerResponse;
  /** Sends the 200 with this body (Fastify pipes it, so the usual hooks still add their headers). */
  open(body: NodeJS.ReadableStream): void;
}

/** `no_content`: answered 204, nothing more will ever come. */
export type StreamOutcome = 'streaming' | 'no_content';

/**
 * The streams these routes serve (realtime/sse/sse-streams.ts). Checks that fail before a
 * stream opens throw an OrdercastError, answered as JSON like any other refusal.
 */
export interface EventStreams {
  order(principal: ProjectPrincipal, orderId: string, lastEventId: string | undefined, reply: StreamReply): Promise<StreamOutcome>;
  userChannel(principal: UserPrincipal, lastEventId: string | undefined, reply: StreamReply): Promise<StreamOutcome>;
  project(principal: ProjectPrincipal, lastEventId: string | undefined, reply: StreamReply): Promise<StreamOutcome>;
}

/** `?token=` (for EventSource, which cannot set headers) holds a user token: long, but bounded. */
const MAX_QUERY_TOKEN_LENGTH = 8192;

const tokenQuery = {
  type: 'object',
  properties: {
    token: {
      type: 'string',
      maxLength: MAX_QUERY_TOKEN_LENGTH,
      description: 'A user token, for EventSource in browsers (it cannot send headers). Never an API key: those are refused with 400 `key_in_query`.',
    },
  },
} as const;

const streamResponses = {
  200: {
    description: '`text/event-stream`: messages `id`, `event: order.update`, `data` (the Socket.IO `order:update` payload); comment lines as heartbeats.',
  },
  204: { description: 'Nothing more will come (the order is final and Last-Event-ID is its last version): EventSource stops reconnecting.', type: 'null' },
  ...errorResponses,
} as const;

const lastEventIdHeader = {
  type: 'object',
  properties: { 'last-event-id': { type: 'string', maxLength: 64 } },
} as const;

/**
 * The credential of a stream request: `Authorization: Bearer`, as everywhere, or a user
 * token in `?token=`. An API key in the URL is refused outright: URLs end up in proxy
 * logs and browser history, and a secret key there would be exposed.
 */
function streamCredential(auth: AuthService, request: FastifyRequest): Principal | Promise<Principal> {
  const token = (request.query as { token?: unknown } | undefined)?.token;
  if (typeof token === 'string' && /^(sk|pk|rk|ak)_/.test(token)) {
    throw new OrdercastError(
      'key_in_query',
      'API keys are never accepted in the URL: send a secret key as "Authorization: Bearer sk_…"; ?token= takes only a user token',
      {
        field: 'token',
      },
    );
  }
  if (request.headers.authorization !== undefined) return auth.authenticateHeader(request.headers.authorization);
  if (typeof token === 'string' && token !== '') return auth.verifyUserToken(token);
  throw new OrdercastError('unauthorized', 'Missing credentials: send "Authorization: Bearer <credential>", or a user token as ?token= (EventSource)');
}

function streamReply(reply: FastifyReply): StreamReply {
  return {
    response: reply.raw,
    open(body) {
      reply.code(200).type('text/event-stream; charset=utf-8').header('x-accel-buffering', 'no').send(body);
    },
  };
}

function lastEventId(request: FastifyRequest): string | undefined {
  const value = request.headers['last-event-id'];
  return typeof value === 'string' ? value : undefined;
}

/** Server-Sent Events: `GET /api/v2/orders/{id}/stream` and `GET /api/v2/stream` (see docs/realtime.md). */
export async function streamRoutes(app: FastifyInstance, opts: { streams: EventStreams; auth: AuthService; rateLimiter: RateLimiter }): Promise<void> {
  // Encapsulated in this plugin: these two routes authenticate here, because of `?token=`.
  app.addHook('onRequest', (request, reply, done) => {
    try {
      const principal = streamCredential(opts.auth, request);
      const admit = (p: Principal) => {
        if (p.kind === 'publishable') throw new OrdercastError('forbidden', 'A publishable key cannot open a stream: use a user token or a secret key');
        if (p.kind === 'admin') throw new OrdercastError('forbidden', 'An admin key reads no project data: open a stream with a secret key or a user token');
        const permission = request.routeOptions.config?.permission;
        if (permission) requirePermission(p, permission);
        request.principal = p;
        // Opening a stream counts against the credential's request rate, like any other request (same buckets as the auth hook).
        if (!opts.rateLimiter.enabled) return;
        const decision = opts.rateLimiter.take(
          p.kind === 'user' ? `user:${p.projectId}:${p.userExternalId}` : p.kind === 'dashboard' ? `session:${p.sessionId}` : `key:${p.keyId}`,
        );
        if (!decision.allowed) {
          reply.header('retry-after', decision.retryAfterSeconds);
          throw new OrdercastError('rate_limited', `Too many requests for this credential: retry after ${decision.retryAfterSeconds} s`, {
            retryAfterSeconds: decision.retryAfterSeconds,
          });
        }
      };
      if (!(principal instanceof Promise)) {
        admit(principal);
        return done();
      }
      principal.then(admit).then(() => done(), done);
    } catch (error) {
      done(error as Error);
    }
  });

  app.get<{ Params: { id: string } }>(
    '/api/v2/orders/:id/stream',
    {
      // A HEAD would open a stream with nowhere to send it.
      exposeHeadRoute: false,
      config: { permission: 'orders:read' },
      schema: {
        operationId: 'streamOrder',
        summary: "Follow one order's status (Server-Sent Events)",
        description:
          'Each message has `id:` the order version and `event: order.update`. The first is the current state; `Last-Event-ID: N` resumes with the versions after N. After a final status the stream ends, and a reconnect with its version gets 204. A user token may be passed as `?token=`.',
        tags: ['streams'],
        params: idParams,
        querystring: tokenQuery,
        headers: lastEventIdHeader,
        response: streamResponses,
      },
    },
    async (request, reply) => {
      const outcome = await opts.streams.order(request.principal, request.params.id, lastEventId(request), streamReply(reply));
      return outcome === 'no_content' ? reply.code(204).send() : reply;
    },
  );

  app.get(
    '/api/v2/stream',
    {
      exposeHeadRoute: false,
      // The whole project's stream is its events feed; a user token's stream needs no permission.
      config: { permission: 'events:read' },
      schema: {
        operationId: 'streamOrders',
        summary: "Follow a user's orders, or the whole project (Server-Sent Events)",
        description:
          "With a user token: that user's orders, `id:` being the user channel offset. With a secret key: every order of the project, `id:` being the events feed cursor. `Last-Event-ID` resumes after that id. Only new events come without it.",
        tags: ['streams'],
        querystring: tokenQuery,
        headers: lastEventIdHeader,
        response: streamResponses,
      },
    },
    async (request, reply) => {
      const { principal } = request;
      const outcome =
        principal.kind === 'user'
          ? await opts.streams.userChannel(principal, lastEventId(request), streamReply(reply))
          : await opts.streams.project(principal, lastEventId(request), streamReply(reply));
      return outcome === 'no_content' ? reply.code(204).send() : reply;
    },
  );
}
