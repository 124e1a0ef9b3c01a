import { OrdercastError } from '../../domain/errors.js';
import type { Order, OrderEvent } from '../../domain/order.js';
import type { Logger } from '../../lib/logging.js';
import type { Metrics } from '../../metrics.js';
import type { ProjectPrincipal, UserPrincipal } from '../../services/auth-service.js';
import { credentialParts, type CredentialWatcher, type LapseReason } from '../../services/credential-watcher.js';
import type { EventFeedService } from '../../services/event-feed-service.js';
import type { EventLogReader } from '../../services/event-log-reader.js';
import type { OrderService } from '../../services/order-service.js';
import { topics, type ChannelHub } from '../../events/channel-hub.js';
import { OrderedDelivery, type OrderedDeliveryOptions } from '../ordered-delivery.js';
import { orderUpdateOf } from '../socketio/order-update.js';
import { runAll, type SseWriter, SseWriters, type Cleanup, type StreamReply } from './sse-writer.js';
import { StreamQuota } from './stream-quota.js';
import type { ConnectionQuota } from '../connection-quota.js';

/** The SSE event name of every update: its `data` is Socket.IO's `order:update` payload. */
export const UPDATE_EVENT = 'order.update';
/** Sent just before the server closes a stream whose credential lapsed: `data` is `{code, message}`. */
export const AUTH_ERROR_EVENT = 'auth.error';

export interface SseStreamsDeps {
  orders: Pick<OrderService, 'get'>;
  reader: EventLogReader;
  feed: EventFeedService;
  hub: ChannelHub;
  credentials: CredentialWatcher;
  metrics: Metrics;
  logger: Logger;
  heartbeatMs: number;
  maxStreamsPerCredential: number;
  maxBufferedBytes: number;
  shutdownSignal: AbortSignal;
  /** Each project's open_connections quota (shared with the socket gateways); none: no quota. */
  connectionQuota?: ConnectionQuota;
}

export type { StreamReply };

/** How a stream request was answered: a stream, or `204` (nothing more will ever come). */
export type StreamOutcome = 'streaming' | 'no_content';

/** On shutdown, how long a stream's last bytes may wait for a client that does not read before it is cut off. */
const SHUTDOWN_GRACE_MS = 1000;

/** Events per read of the log while catching up an order or user stream. */
const FILL_PAGE = 200;

/**
 * Server-Sent Events: one order's versions, one user's channel, or a project's feed.
 * Every stream registers its live subscription on the hub first and reads its starting
 * point from the log second (so nothing committed in between is missed), then delivers
 * through the same ordered, deduplicating, gap-filling deliveries as the socket gateways.
 * Everything checked before the stream opens (visibility, Last-Event-ID, quota) throws an
 * OrdercastError, which the route answers as JSON with its status.
 */
export class SseStreams {
  private readonly quota: StreamQuota;
  private readonly writers: SseWriters;

  constructor(private readonly deps: SseStreamsDeps) {
    this.quota = new StreamQuota(deps.maxStreamsPerCredential);
    this.writers = new SseWriters(deps.shutdownSignal, SHUTDOWN_GRACE_MS);
  }

  /** Credentials holding a stream now (for leak checks in tests). */
  get openHolders(): number {
    return this.quota.holders;
  }

  /** One order's versions: `id:` is the version; the first message is the current state; ends after the final one. */
  async order(principal: ProjectPrincipal, orderId: string, lastEventId: string | undefined, reply: StreamReply): Promise<StreamOutcome> {
    const after = parseCounter(lastEventId, 'the last order version you received');
    const cleanups = await this.takeSlots(principal);
    const scope = principal.kind === 'user' ? { userExternalId: principal.userExternalId } : {};
    return streamLog(this.deps.hub, cleanups, {
      ...orderLog(this.deps.reader, orderId, after, () => this.deps.orders.get(principal.projectId, orderId, scope)),
      open: () => this.open(principal, reply, cleanups),
      send: (writer, event) => {
        this.sendUpdate(writer, event.version, event);
        if (event.order.final) writer.end();
      },
      failed: (writer, error) => this.failed(writer, error, { orderId }),
    });
  }

  /** A user's channel (user token): `id:` is the channel offset, as Centrifuge's history counts it. */
  async userChannel(principal: UserPrincipal, lastEventId: string | undefined, reply: StreamReply): Promise<StreamOutcome> {
    const after = parseCounter(lastEventId, 'the last channel offset you received');
    const { projectId, userExternalId } = principal;
    const cleanups = await this.takeSlots(principal);
    return streamLog(this.deps.hub, cleanups, {
      topic: topics.user(projectId, userExternalId),
      positionOf: (event) => event.userOffset ?? 0,
      readAfter: (offset) => this.deps.reader.userChannel({ projectId, userExternalId, from: offset, limit: FILL_PAGE }),
      begin: async () => {
        const { offset } = await this.deps.reader.userChannelPosition(projectId, userExternalId);
        if (after !== undefined && after > offset) {
          throw new OrdercastError('invalid_last_event_id', `Last-Event-ID ${after} is beyond the channel's current offset ${offset}`, {
            lastEventId: after,
            offset,
          });
        }
        return { from: after ?? offset, catchUp: after !== undefined };
      },
      open: () => this.open(principal, reply, cleanups),
      send: (writer, event) => this.sendUpdate(writer, event.userOffset ?? 0, event),
      failed: (writer, error) => this.failed(writer, error, { projectId }),
    });
  }

  /**
   * Every order of the project (secret key): `id:` is the events feed's cursor, as `GET /events` gives it.
   * The project feed's subscription reads the log only to catch up from Last-Event-ID; live events come from the hub.
   */
  async project(principal: ProjectPrincipal, lastEventId: string | undefined, reply: StreamReply): Promise<StreamOutcome> {
    const { projectId } = principal;
    const start = lastEventId === undefined || lastEventId === '' ? undefined : this.deps.feed.openCursor(projectId, lastEventId);
    if (lastEventId && !start) {
      throw new OrdercastError('invalid_last_event_id', 'Last-Event-ID must be an id this stream sent to this project (an events feed cursor)', {
        field: 'Last-Event-ID',
      });
    }
    const cleanups = await this.takeSlots(principal);
    let writer: SseWriter | undefined;
    const subscription = this.deps.feed.follow(
      projectId,
      start,
      (event) => this.sendUpdate(writer, this.deps.feed.cursorOf(event), event),
      (error) => this.failed(writer, error, { projectId }),
    );
    // Before the stream opens: a stream that ends at once (shutting down) still lets go of it.
    cleanups.push(() => subscription.close());
    writer = this.open(principal, reply, cleanups);
    return 'streaming';
  }

  /** The project's connection slot (its open_connections quota), then the credential's stream slot; either refusal takes neither. */
  private async takeSlots(principal: ProjectPrincipal): Promise<Cleanup[]> {
    const projectSlot = await this.deps.connectionQuota?.openConnection(principal.projectId);
    try {
      return projectSlot ? [projectSlot, this.quota.take(principal)] : [this.quota.take(principal)];
    } catch (error) {
      projectSlot?.();
      throw error;
    }
  }

  private sendUpdate(writer: SseWriter | undefined, id: string | number, event: OrderEvent): void {
    writer?.send(id, UPDATE_EVENT, orderUpdateOf(event));
    this.deps.metrics.messageSent('sse', event.createdAt);
  }

  /** Starts the body; from here on, ending the stream undoes everything in `cleanups`. */
  private open(principal: ProjectPrincipal, reply: StreamReply, cleanups: Cleanup[]): SseWriter {
    const { heartbeatMs, maxBufferedBytes, logger, credentials, metrics } = this.deps;
    const onOverflow = () => logger.warn({ projectId: principal.projectId }, 'sse: closing a stream that does not read (over the buffer cap)');
    return this.writers.start(reply, { heartbeatMs, maxBufferedBytes, onOverflow }, cleanups, (writer) => {
      const watch = credentials.watch(credentialParts(principal), (reason: LapseReason) => {
        writer.send(undefined, AUTH_ERROR_EVENT, reason);
        writer.end();
      });
      cleanups.push(() => watch.stop());
      metrics.realtimeSubscriptions.inc({ gateway: 'sse' });
      cleanups.push(() => metrics.realtimeSubscriptions.dec({ gateway: 'sse' }));
    });
  }

  private failed(writer: SseWriter | undefined, error: unknown, context: Record<string, string>): void {
    this.deps.logger.warn({ err: error, ...context }, 'sse: reading the log failed; closing the stream (the client resumes by Last-Event-ID)');
    writer?.end();
  }
}

/** A stream of the log for one client (an order's versions, a user's channel), as `streamLog` runs it. */
export interface LogStream extends Pick<OrderedDeliveryOptions, 'positionOf' | 'readAfter'> {
  topic: string;
  /** Where it starts (read once the hub subscription is in place), and whether the log is read from there first; throws a refusal. */
  begin(): Promise<{ from: number; catchUp: boolean } | 'no_content'>;
  open(): SseWriter;
  send(writer: SseWriter, event: OrderEvent): void;
  failed(writer: SseWriter | undefined, error: unknown): void;
}

/**
 * Subscribes on the hub first, then reads where the stream starts, then opens it and
 * delivers in order from there. Anything refused before it opens undoes `cleanups` and throws.
 */
export async function streamLog(hub: ChannelHub, cleanups: Cleanup[], stream: LogStream): Promise<StreamOutcome> {
  let writer: SseWriter | undefined;
  const delivery = new OrderedDelivery({
    positionOf: stream.positionOf,
    readAfter: stream.readAfter,
    deliver: (event) => writer && stream.send(writer, event),
    onError: (error) => stream.failed(writer, error),
  });
  cleanups.push(() => delivery.close());
  cleanups.push(hub.subscribe(stream.topic, (event) => delivery.offer(event)));
  try {
    const start = await stream.begin();
    if (start === 'no_content') {
      runAll(cleanups);
      return 'no_content';
    }
    writer = stream.open();
    delivery.start(start.from, start.catchUp);
    return 'streaming';
  } catch (error) {
    runAll(cleanups);
    throw error;
  }
}

/**
 * One order's versions, `id:` being the version, from `after` or else from the version
 * before the current one (the first message is the current state, read from the log like
 * the rest). After a final version nothing more will come: the reconnect at its id gets 204.
 */
export function orderLog(
  reader: EventLogReader,
  orderId: string,
  after: number | undefined,
  read: () => Promise<Order>,
): Pick<LogStream, 'topic' | 'positionOf' | 'readAfter' | 'begin'> {
  return {
    topic: topics.order(orderId),
    positionOf: (event) => event.version,
    readAfter: (version) => reader.orderEventsAfter(orderId, version, FILL_PAGE),
    begin: async () => {
      const order = await read();
      if (after !== undefined && after > order.version) {
        throw new OrdercastError('invalid_last_event_id', `Last-Event-ID ${after} is beyond the order's current version ${order.version}`, {
          lastEventId: after,
          version: order.version,
        });
      }
      if (order.final && after !== undefined && after >= order.version) return 'no_content';
      return { from: after ?? order.version - 1, catchUp: true };
    },
  };
}

/** A `Last-Event-ID` that counts (a version, an offset): a whole number, or absent. */
export function parseCounter(raw: string | undefined, what: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw.trim())) {
    throw new OrdercastError('invalid_last_event_id', `Last-Event-ID must be ${what}: a whole number of 0 or more`, { field: 'Last-Event-ID' });
  }
  return Number(raw.trim());
}
