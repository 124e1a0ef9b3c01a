import type { OrderEvent } from '../domain/order.js';
import { linksTo, SpanKind, startSpan } from '../lib/tracing.js';

/**
 * One event handed to the local subscribers of its topics (Socket.IO, Centrifuge, SSE,
 * long-polls), as one span: a push batch. It is a root linked to the write that
 * appended the event, not its child: the push happens after the request ended, maybe
 * on another node.
 */
export function tracePush(event: OrderEvent, topics: string[], subscribers: number, push: () => void): void {
  const span = startSpan('publish order_update', {
    kind: SpanKind.PRODUCER,
    links: linksTo([event.traceContext]),
    attributes: {
      'messaging.system': 'ordercast',
      'messaging.operation.type': 'publish',
      'messaging.operation.name': 'push',
      'messaging.destination.name': topics.join(' '),
      'messaging.batch.message_count': subscribers,
      'messaging.message.id': event.id,
      'ordercast.order.id': event.orderId,
      'ordercast.order.version': event.version,
      'ordercast.event.name': event.eventName,
    },
  });
  try {
    push();
  } finally {
    span?.end();
  }
}
