import { OrdercastError } from '../domain/errors.js';
import type { DeliveryStatus, WebhookAttempt, WebhookDelivery } from '../domain/webhook.js';
import type { Store } from '../store/database.js';
import { listAttempts } from '../store/repositories/webhook-attempts.js';
import {
  findDeliveryRow,
  insertDelivery,
  listDeliveryRows,
  requeueDelivery,
  requeueFailedDeliveries,
  rowToDelivery,
  type DeliveryRow,
} from '../store/repositories/webhook-deliveries.js';
import { TEST_EVENT_NAME, testPayload } from '../domain/operational-events.js';
import type { WebhookPayload } from '../domain/webhook-payload.js';
import type { WebhookEndpointService } from './webhook-endpoint-service.js';
import { newId } from '../lib/ids.js';
import { decodePageCursor, encodePageCursor, isoTimeFilter } from './list-query.js';

export interface DeliveryView extends WebhookDelivery {
  object: 'webhook_delivery';
}

export interface DeliveryDetail extends DeliveryView {
  /** The exact body that is signed and sent. */
  payload: unknown;
  attempts: WebhookAttempt[];
}

export interface DeliveryListQuery {
  endpointId?: string;
  orderId?: string;
  status?: DeliveryStatus;
  limit?: number;
  cursor?: string;
}

export const MAX_DELIVERY_PAGE = 100;

function deliveryView(row: DeliveryRow): DeliveryView {
  return { object: 'webhook_delivery', ...rowToDelivery(row) };
}

/** A catalogue example as sent: fresh id and time, this project's id on an example order, and marked as a test. */
function exampleToSend(example: WebhookPayload, eventId: string, projectId: string, at: string): WebhookPayload & { test: true } {
  const data = example.data as Record<string, unknown>;
  return { ...example, id: eventId, createdAt: at, data: data.object === 'order' && 'projectId' in data ? { ...data, projectId } : data, test: true };
}

/**
 * The webhook delivery log as the REST API shows it: list, inspect, re-send, recover,
 * and test events. The outbox rows themselves are written by the order log's append;
 * dispatchers claim and record them through webhooks/delivery-queue.ts.
 */
export class WebhookDeliveryService {
  private readonly queuedListeners = new Set<() => void>();

  constructor(
    private readonly store: Store,
    private readonly endpoints: WebhookEndpointService,
  ) {}

  /** Dispatchers listen here to send re-queued and test deliveries at once (new events wake them through the log follower). */
  onQueued(listener: () => void): () => void {
    this.queuedListeners.add(listener);
    return () => this.queuedListeners.delete(listener);
  }

  /** Tells the dispatchers listening here that deliveries this service queued are waiting. */
  notifyQueued(): void {
    for (const listener of this.queuedListeners) listener();
  }

  /** Queues a signed test event for one endpoint, whatever its event filter. */
  async enqueueTest(projectId: string, endpointId: string): Promise<DeliveryView> {
    const endpoint = await this.endpoints.getRecord(projectId, endpointId);
    return this.enqueueOne(endpoint, projectId, TEST_EVENT_NAME, (eventId, now) => testPayload(eventId, endpointId, now));
  }

  /**
   * Queues the catalogue's example of an event type for one endpoint, whatever its event
   * filter: signed and sent like any delivery, with `"test": true` and fresh ids.
   */
  async sendExample(projectId: string, endpointId: string, eventType: unknown): Promise<DeliveryView> {
    const endpoint = await this.endpoints.getRecord(projectId, endpointId);
    const types = await this.endpoints.eventTypes(projectId);
    const type = typeof eventType === 'string' ? types.find((t) => t.name === eventType) : undefined;
    if (!type) {
      const names = types.map((t) => t.name);
      throw new OrdercastError(
        'unknown_event_type',
        `${typeof eventType === 'string' ? `"${eventType.slice(0, 128)}" is not an event type of this project` : 'eventType must be a string'}; its event types are ${names.join(', ')}`,
        { field: 'eventType', eventTypes: names },
      );
    }
    return this.enqueueOne(endpoint, projectId, type.name, (eventId, now) => exampleToSend(type.example, eventId, projectId, now));
  }

  /** One delivery to one enabled endpoint, outside any order's events: test events and examples. */
  private async enqueueOne(
    endpoint: { id: string; disabled: boolean },
    projectId: string,
    eventName: string,
    payload: (eventId: string, now: string) => unknown,
  ): Promise<DeliveryView> {
    if (endpoint.disabled) {
      throw new OrdercastError('webhook_endpoint_disabled', `Webhook endpoint ${endpoint.id} is disabled: enable it first (PATCH {"disabled": false})`, {
        endpointId: endpoint.id,
      });
    }
    const now = new Date().toISOString();
    const id = newId('msg');
    const eventId = newId('evt_test');
    await insertDelivery(this.store.db, {
      id,
      projectId,
      endpointId: endpoint.id,
      eventId,
      eventName,
      orderId: null,
      payload: JSON.stringify(payload(eventId, now)),
      createdAt: now,
    });
    this.notifyQueued();
    return deliveryView((await findDeliveryRow(this.store.db, projectId, id))!);
  }

  async list(projectId: string, query: DeliveryListQuery): Promise<{ object: 'list'; data: DeliveryView[]; hasMore: boolean; nextCursor: string | null }> {
    const limit = query.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERY_PAGE) {
      throw new OrdercastError('validation_failed', `limit must be a whole number from 1 to ${MAX_DELIVERY_PAGE}`, { field: 'limit' });
    }
    if (query.endpointId !== undefined) await this.endpoints.getRecord(projectId, query.endpointId);
    const rows = await listDeliveryRows(this.store.db, {
      projectId,
      endpointId: query.endpointId,
      orderId: query.orderId,
      status: query.status,
      beforeSeq: query.cursor === undefined ? undefined : decodePageCursor('d', query.cursor),
      limit: limit + 1,
    });
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit);
    return { object: 'list', data: page.map(deliveryView), hasMore, nextCursor: hasMore ? encodePageCursor('d', Number(page[page.length - 1]!.seq)) : null };
  }

  private async row(projectId: string, id: string): Promise<DeliveryRow> {
    const row = await findDeliveryRow(this.store.db, projectId, id);
    if (!row) throw new OrdercastError('webhook_delivery_not_found', `No webhook delivery ${id}`, { deliveryId: id });
    return row;
  }

  async get(projectId: string, id: string): Promise<DeliveryDetail> {
    const row = await this.row(projectId, id);
    return { ...deliveryView(row), payload: JSON.parse(row.payload), attempts: await listAttempts(this.store.db, id) };
  }

  /** Sends a delivery again with a fresh retry schedule and the same `webhook-id`. */
  async redeliver(projectId: string, id: string): Promise<DeliveryView> {
    const row = await this.row(projectId, id);
    const endpoint = await this.endpoints.getRecord(projectId, row.endpoint_id);
    if (endpoint.disabled) {
      throw new OrdercastError('webhook_endpoint_disabled', `Webhook endpoint ${endpoint.id} is disabled: enable it first (PATCH {"disabled": false})`, {
        endpointId: endpoint.id,
      });
    }
    await requeueDelivery(this.store.db, id, new Date().toISOString());
    this.notifyQueued();
    return deliveryView(await this.row(projectId, id));
  }

  /** Re-queues every failed delivery to the endpoint created in [since, until). */
  async recover(
    projectId: string,
    endpointId: string,
    input: { since?: string; until?: string },
  ): Promise<{ object: 'webhook_recovery'; endpointId: string; since: string; until: string; requeued: number }> {
    const endpoint = await this.endpoints.getRecord(projectId, endpointId);
    if (endpoint.disabled) {
      throw new OrdercastError('webhook_endpoint_disabled', `Webhook endpoint ${endpointId} is disabled: enable it first (PATCH {"disabled": false})`, {
        endpointId,
      });
    }
    const since = isoTimeFilter(input.since, 'since');
    if (since === undefined) throw new OrdercastError('validation_failed', 'since is required', { field: 'since' });
    const now = new Date().toISOString();
    const until = isoTimeFilter(input.until, 'until') ?? now;
    if (until <= since) throw new OrdercastError('validation_failed', 'until must be after since', { field: 'until' });
    const requeued = await requeueFailedDeliveries(this.store.db, endpointId, since, until, now);
    if (requeued > 0) this.notifyQueued();
    return { object: 'webhook_recovery', endpointId, since, until, requeued };
  }
}
