import type { Order, WebhookEndpoint } from '../types.js';
import { curl, EmptyState } from './ui.js';

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * Why an order has no webhook delivery, from the project's endpoints: none at all, all
 * disabled, none subscribed to this order's events, added after its last change, or
 * deliveries pruned by retention. Saying "no endpoint" while endpoints exist sends people
 * looking in the wrong place.
 */
export function NoDeliveries(props: { order: Order; endpoints: WebhookEndpoint[]; eventNames: string[]; origin: string }) {
  const enabled = props.endpoints.filter((e) => !e.disabled);
  const subscribed = enabled.filter((e) => e.enabledEvents.includes('*') || e.enabledEvents.some((name) => props.eventNames.includes(name)));
  let reason: string;
  let title: string;
  if (props.endpoints.length === 0) {
    reason = 'no-endpoint';
    title = 'No webhook delivery for this order: the project has no webhook endpoint. Add one and the next change is delivered:';
  } else if (enabled.length === 0) {
    reason = 'all-disabled';
    title = `No webhook delivery for this order: the project's ${count(props.endpoints.length, 'endpoint is', 'endpoints are')} disabled. Enable one on the Webhooks page and the next change is delivered.`;
  } else if (subscribed.length === 0) {
    reason = 'not-subscribed';
    title = `No webhook delivery for this order: ${count(enabled.length, 'endpoint is', 'endpoints are')} enabled, but none is subscribed to this order's events (${props.eventNames.join(', ')}).`;
  } else if (subscribed.every((e) => e.createdAt > props.order.updatedAt)) {
    reason = 'added-after';
    title = `No webhook delivery for this order yet: ${count(subscribed.length, 'endpoint is', 'endpoints are')} subscribed, added after its last change. Its next change is delivered to ${subscribed.length === 1 ? 'it' : 'them'}.`;
  } else {
    reason = 'pruned';
    title = `No webhook delivery for this order is kept: ${count(subscribed.length, 'endpoint is', 'endpoints are')} subscribed to its events; deliveries that succeeded are pruned after the retention period (ORDERCAST_RETENTION_DELIVERIES).`;
  }
  return (
    <div data-testid="no-deliveries" data-reason={reason}>
      {reason === 'no-endpoint' ? (
        <EmptyState title={title} curl={curl(props.origin, 'POST', '/api/v2/webhook-endpoints', { url: 'https://example.com/webhooks/ordercast' })} />
      ) : (
        <div class="empty" role="status">
          <p>{title}</p>
        </div>
      )}
    </div>
  );
}
