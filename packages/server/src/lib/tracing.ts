import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';

/**
 * The one place the server's code meets OpenTelemetry's API. Tracing is on only once
 * lib/tracing-sdk.ts has started the SDK (OTEL_* configured); until then every helper
 * here runs the traced work directly, behind a single boolean test, so a server without
 * tracing pays nothing for it.
 *
 * A span's parent is handed over explicitly (`parent`), never read from an active
 * context: there is no context manager, since on Node 20 the one OpenTelemetry offers
 * (AsyncLocalStorage) adds a hook to every promise the process creates, traced or not.
 * The one parent a span here has is its request's span (the append's).
 */

let tracer: Tracer | undefined;

export { SpanKind, SpanStatusCode, type Attributes, type Span };

/** The span a span is started under, as the request's span hands it to the write it makes. */
export type TraceParent = Context;

export function tracingEnabled(): boolean {
  return tracer !== undefined;
}

/** Called by the SDK's start and shutdown only. */
export function setTracer(next: Tracer | undefined): void {
  tracer = next;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** The parent; without one the span is the root of a trace of its own (with links to what caused it). */
  parent?: TraceParent;
  startTime?: number;
}

/** Starts a span the caller ends; undefined while tracing is off. */
export function startSpan(name: string, options: SpanOptions): Span | undefined {
  if (!tracer) return undefined;
  return tracer.startSpan(
    name,
    { kind: options.kind, attributes: options.attributes, links: options.links, startTime: options.startTime },
    options.parent ?? ROOT_CONTEXT,
  );
}

/** `span` as the parent of spans started under it. */
export function parentOf(span: Span): TraceParent {
  return trace.setSpan(ROOT_CONTEXT, span);
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE = '0'.repeat(32);
const INVALID_SPAN = '0'.repeat(16);

/** The W3C `traceparent` of a span: what an event stores so later deliveries can link to its write. */
export function traceparentOf(span: Span | undefined): string | undefined {
  const c = span?.spanContext();
  if (!c || !trace.isSpanContextValid(c)) return undefined;
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 1) === 1 ? '01' : '00'}`;
}

/** The span context a stored `traceparent` names; undefined for null or anything malformed. */
export function spanContextOf(traceparent: string | null | undefined): SpanContext | undefined {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!match || match[1] === INVALID_TRACE || match[2] === INVALID_SPAN) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16) & 1, isRemote: true };
}

/** The most links one span carries: a batch of hundreds of events links to the first of them. */
export const MAX_LINKS = 32;

/** Links to the writes of `traceparents` (stored on events), distinct and at most MAX_LINKS. */
export function linksTo(traceparents: Iterable<string | null | undefined>, attributes?: Attributes): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const traceparent of traceparents) {
    if (links.length >= MAX_LINKS) break;
    const spanContext = spanContextOf(traceparent);
    if (!spanContext || seen.has(spanContext.spanId)) continue;
    seen.add(spanContext.spanId);
    links.push({ context: spanContext, attributes });
  }
  return links;
}

/** The longest header values read: a `traceparent` is 55 characters, and the W3C caps `tracestate` at 512. */
const MAX_TRACEPARENT = 128;
const MAX_TRACESTATE = 512;

/**
 * The context an incoming request names in `traceparent` and `tracestate`. Malformed,
 * repeated or oversized headers are ignored, never refused: the request starts a trace
 * of its own.
 */
export function extractRequestContext(headers: Record<string, string | string[] | undefined>): Context {
  const traceparent = headers.traceparent;
  if (typeof traceparent !== 'string' || traceparent.length > MAX_TRACEPARENT) return ROOT_CONTEXT;
  const tracestate = headers.tracestate;
  const carrier: Record<string, string> = { traceparent };
  if (typeof tracestate === 'string' && tracestate.length <= MAX_TRACESTATE) carrier.tracestate = tracestate;
  try {
    return propagation.extract(ROOT_CONTEXT, carrier);
  } catch {
    return ROOT_CONTEXT;
  }
}

/** Adds `traceparent` (and `tracestate`) for `span` to outgoing headers. */
export function injectTraceHeaders(span: Span, headers: Record<string, string>): void {
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
}
