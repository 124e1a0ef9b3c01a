import { SpanKind, SpanStatusCode, startSpan, traceparentOf, tracingEnabled, type Span, type TraceParent } from '../lib/tracing.js';
import type { AppendCommand, AppendOutcome, AppendRequest, AppendResult } from '../store/order-log.js';

/**
 * The decision and append of a write as one span, child of the request (`parent`). Its traceparent
 * is stored on the event it appends (order_events.trace_context), so every delivery of
 * that event, made later on any node, links back to this write.
 */
export function traceAppend(command: AppendCommand, parent: TraceParent | undefined, append: () => Promise<AppendOutcome>): Promise<AppendOutcome> {
  if (!tracingEnabled()) return append();
  const span = startSpan('order.append', { kind: SpanKind.PRODUCER, parent, attributes: commandAttributes(command) });
  command.traceContext = traceparentOf(span);
  return settle(span, append(), (outcome) => describeOutcome(span!, outcome));
}

/** A batch is one append (one transaction): one span, its traceparent on each of its events. */
export function traceAppendMany(
  requests: readonly AppendRequest[],
  parent: TraceParent | undefined,
  append: () => Promise<AppendResult[]>,
): Promise<AppendResult[]> {
  if (!tracingEnabled()) return append();
  const span = startSpan('order.append_batch', {
    kind: SpanKind.PRODUCER,
    parent,
    attributes: { 'messaging.system': 'ordercast', 'messaging.operation.type': 'send', 'messaging.batch.message_count': requests.length },
  });
  const traceContext = traceparentOf(span);
  for (const request of requests) request.command.traceContext = traceContext;
  return settle(span, append(), (results) =>
    span!.setAttribute('ordercast.append.appended', results.filter((r) => r.ok && r.outcome.kind === 'appended').length),
  );
}

/** Ends `span` when `work` settles, described by `describe`, or as an error. */
async function settle<T>(span: Span | undefined, work: Promise<T>, describe: (value: T) => void): Promise<T> {
  try {
    const value = await work;
    if (span) describe(value);
    return value;
  } catch (error) {
    span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span?.end();
  }
}

function commandAttributes(command: AppendCommand) {
  return command.kind !== 'create'
    ? { 'messaging.system': 'ordercast', 'messaging.operation.type': 'send', 'ordercast.order.id': command.orderId }
    : { 'messaging.system': 'ordercast', 'messaging.operation.type': 'send' };
}

/** What a reader of the trace needs of the write: which order, which version, which event, and whether it was written. */
function describeOutcome(span: Span, outcome: AppendOutcome): void {
  if (outcome.kind === 'appended') {
    const event = outcome.event;
    span.setAttributes({
      'ordercast.append.outcome': 'appended',
      'ordercast.order.id': event.orderId,
      'ordercast.order.version': event.version,
      'ordercast.event.name': event.eventName,
      'messaging.message.id': event.id,
    });
  } else {
    span.setAttribute('ordercast.append.outcome', outcome.kind);
    if (outcome.kind === 'refused') span.setAttribute('ordercast.refusal.code', outcome.refusal.code);
  }
}
