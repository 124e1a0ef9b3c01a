import type { FastifyInstance } from 'fastify';
import { credentialParts, type CredentialWatcher } from '../../services/credential-watcher.js';
import { OrdercastError } from '../../domain/errors.js';
import type { OrderEvent } from '../../domain/order.js';
import { MAX_FEED_PAGE, MAX_FEED_WAIT_SECONDS, type EventFeedService } from '../../services/event-feed-service.js';
import { publicEvent } from '../event-view.js';
import { errorResponses, listSchema, orderEventSchema } from '../schemas.js';

/** A feed entry: the timeline entry plus the order as it was right after it. */
function feedEvent(event: OrderEvent) {
  return { ...publicEvent(event), data: event.order };
}

export async function eventRoutes(
  app: FastifyInstance,
  opts: { feed: EventFeedService; shutdownSignal: AbortSignal; credentials?: CredentialWatcher },
): Promise<void> {
  app.get<{ Querystring: { after?: string; limit?: number; waitForChange?: number } }>(
    '/api/v2/events',
    {
      config: { allow: ['secret'], permission: 'events:read' },
      schema: {
        summary: "Follow the project's events",
        operationId: 'listEvents',
        description:
          'Events of every order of the project, oldest first, each with the order as it was after the event (`data`, as webhooks carry it). Start with `after=latest` (only new events) or without `after` (from the beginning), then pass `nextCursor` back as `after`. `waitForChange=N` holds an empty answer up to N seconds until an event arrives. `ordercast listen` uses this.',
        tags: ['events'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_FEED_PAGE, default: 100 },
            waitForChange: { type: 'integer', minimum: 0, maximum: MAX_FEED_WAIT_SECONDS },
          },
        },
        response: {
          200: listSchema(
            {
              type: 'object',
              properties: { ...orderEventSchema.properties, data: { $ref: 'Order#' } },
              required: ['id', 'object', 'eventName', 'orderId', 'version', 'createdAt', 'data'],
            },
            { nextCursor: { type: 'string' } },
          ),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      // A dashboard session's long-poll ends when the session does (sign-out, revocation, expiry, on any node).
      const lapsed = new AbortController();
      const watch =
        request.principal.kind === 'dashboard' && request.query.waitForChange && opts.credentials
          ? opts.credentials.watch(credentialParts(request.principal), () => lapsed.abort())
          : undefined;
      let page: Awaited<ReturnType<EventFeedService['read']>>;
      try {
        page = await opts.feed.read(request.principal.projectId, {
          after: request.query.after,
          limit: request.query.limit,
          waitSeconds: request.query.waitForChange,
          signal: AbortSignal.any([gone.signal, opts.shutdownSignal, lapsed.signal]),
        });
      } finally {
        watch?.stop();
      }
      if (lapsed.signal.aborted) throw new OrdercastError('unauthorized', 'The dashboard session has ended (signed out, revoked or expired): sign in again');
      return { object: 'list', data: page.events.map(feedEvent), nextCursor: page.nextCursor };
    },
  );
}
