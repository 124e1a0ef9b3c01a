import type { OrderEvent } from '../domain/order.js';
import { linksTo, SpanKind, startSpan, tracingEnabled } from '../lib/tracing.js';

/**
 * The log follower's read as a span, linked to the writes of the events it read. The
 * follower also reads on a timer when nothing happened; those empty reads leave no
 * span, or an idle server would send one every second.
 */
export function tracedLogRead(dbSystem: 'sqlite' | 'postgresql') {
  return async <T extends readonly OrderEvent[]>(read: () => Promise<T>): Promise<T> => {
    if (!tracingEnabled()) return read();
    const startTime = Date.now();
    const events = await read();
    if (events.length === 0) return events;
    const span = startSpan('receive order_events', {
      kind: SpanKind.CONSUMER,
      startTime,
      links: linksTo(events.map((event) => event.traceContext)),
      attributes: {
        'messaging.system': 'ordercast',
        'messaging.operation.type': 'receive',
        'messaging.operation.name': 'follow',
        'messaging.destination.name': 'order_events',
        'messaging.batch.message_count': events.length,
        'db.system.name': dbSystem,
        'db.collection.name': 'order_events',
        'db.operation.name': 'SELECT',
      },
    });
    span?.end();
    return events;
  };
}
