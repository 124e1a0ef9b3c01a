import { inSpan, SpanKind, traceparentOf, tracingEnabled, type Span } from '../lib/tracing.js';
import type { AppendCommand, AppendOutcome, AppendRequest, AppendResult } from '../store/order-log.js';

/**
 * The decision and append of a write as one span, child of the request. Its traceparent
 * is stored on the event it appends (order_events.trace_context), so every delivery of
 * that event, made later on any node, links back to this write.
 */
export function traceAppend(command: AppendCommand, append: () => Promise<AppendOutcome>): Promise<AppendOutcome> {
  if (!tracingEnabled()) return append();
  return inSpan('order.append', { kind: SpanKind.PRODUCER, attributes: commandAttributes(command) }, async (span) => {
    command.traceContext = traceparentOf(span);
    const outcome = await append();
    if (span) describeOutcome(span, outcome);
    return outcome;
  });
}

/** A batch is one append (one transaction): one span, its traceparent on each of its events. */
export function traceAppendMany(requests: readonly AppendRequest[], append: () => Promise<AppendResult[]>): Promise<AppendResult[]> {
  if (!tracingEnabled()) return append();
  return inSpan(
    'order.append_batch',
    { kind: SpanKind.PRODUCER, attributes: { ...BASE_ATTRIBUTES, 'messaging.batch.message_count': requests.length } },
    async (span) => {
      const traceContext = traceparentOf(span);
      for (const request of requests) request.command.traceContext = traceContext;
      const results = await append();
      span?.setAttribute('ordercast.append.appended', results.filter((r) => r.ok && r.outcome.kind === 'appended').length);
      return results;
    },
  );
}

const BASE_ATTRIBUTES = {
  'messaging.system': 'ordercast',
  'messaging.operation.type': 'send',
  'messaging.operation.name': 'append',
  'messaging.destination.name': 'order_events',
};

function commandAttributes(command: AppendCommand) {
  return {
    ...BASE_ATTRIBUTES,
    'ordercast.project.id': command.projectId,
    'ordercast.command': command.kind,
    ...(command.kind === 'transition' ? { 'ordercast.order.id': command.orderId } : {}),
  };
}

function describeOutcome(span: Span, outcome: AppendOutcome): void {
  span.setAttribute('ordercast.append.outcome', outcome.kind);
  if (outcome.kind === 'appended') {
    const event = outcome.event;
    span.setAttributes({
      'ordercast.order.id': event.orderId,
      'ordercast.order.version': event.version,
      'ordercast.event.name': event.eventName,
      'ordercast.event.type': event.type,
      'ordercast.order.status': event.toStatus,
      'messaging.message.id': event.id,
    });
  } else if (outcome.kind === 'refused') {
    span.setAttribute('ordercast.refusal.code', outcome.refusal.code);
  }
}
