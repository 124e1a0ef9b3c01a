import type { FastifyInstance, FastifyRequest } from 'fastify';
import { urlForLog } from './log-url.js';
import { extractRequestContext, parentOf, SpanKind, SpanStatusCode, startSpan, type Span, type TraceParent } from '../lib/tracing.js';

const spans = new WeakMap<object, Span>();

/**
 * A server span per request (OpenTelemetry's HTTP semantic conventions), child of the
 * caller's `traceparent` when it sends a valid one; a malformed or oversized one is
 * ignored and the request starts its own trace. A route hands `requestTraceParent` to
 * the write it makes, so the append is the span's child. Registered only when tracing is on.
 */
export function registerRequestTracing(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const span = startSpan(route ? `${request.method} ${route}` : request.method, {
      kind: SpanKind.SERVER,
      parent: extractRequestContext(request.headers),
      attributes: {
        'http.request.method': request.method,
        // A buyer's link token (`/o/<token>`) never goes to the tracing backend.
        'url.path': urlForLog(request.url.split('?')[0] ?? ''),
        // Left out when undefined (no route matched), as the SDK leaves out any undefined attribute.
        'http.route': route,
        'client.address': request.ip,
        'user_agent.original': request.headers['user-agent'],
      },
    });
    if (span) spans.set(request, span);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      spans.delete(request);
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) {
        span.setAttribute('error.type', String(reply.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const span = spans.get(request);
    if (span) {
      spans.delete(request);
      span.setAttribute('error.type', 'aborted');
      span.end();
    }
    done();
  });
}

/** The request's span, as the parent of the spans of the work it asks for; undefined while tracing is off. */
export function requestTraceParent(request: FastifyRequest): TraceParent | undefined {
  const span = spans.get(request);
  return span && parentOf(span);
}
