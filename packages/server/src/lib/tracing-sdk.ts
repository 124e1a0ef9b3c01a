import type { Context } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, Sampler, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { LogThrottle } from './log-throttle.js';
import type { Logger } from './logging.js';
import type { SamplerName, TracingSettings } from './otel-environment.js';
import { setTracer } from './tracing.js';

/** Why spans were lost: the export queue was full, or the collector did not take them. */
export type SpanDropReason = 'queue_full' | 'export_failed';

export interface TracingHooks {
  dropped(count: number, reason: SpanDropReason): void;
  exported(count: number): void;
}

export interface TracingHandle {
  /** Exports what is queued (within the export timeout) and stops tracing. */
  shutdown(): Promise<void>;
}

/** At most one warning a minute about a collector that does not take spans. */
const WARN_EVERY_MS = 60_000;

/**
 * Starts the OpenTelemetry SDK for the settings read from OTEL_* (lib/otel-environment.ts).
 * It is loaded here, on demand, so a server without tracing never loads it. Spans are
 * batched and exported off the request path: a collector that is slow or gone costs a
 * bounded queue, never a write; what cannot be queued or exported is dropped, counted,
 * and warned about at most once a minute.
 */
export async function startTracing(settings: TracingSettings, version: string, logger: Logger, hooks: TracingHooks): Promise<TracingHandle> {
  const [api, core, sdk, resources, exporterModule] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
    settings.protocol === 'http/json' ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
  ]);
  const warnings = new LogThrottle(WARN_EVERY_MS);
  const warn = (reason: SpanDropReason, count: number, error?: Error) => {
    const notLogged = warnings.take('spans dropped');
    if (notLogged === undefined) return;
    logger.warn(
      { reason, spans: count, collector: settings.url, err: error, warningsNotLogged: notLogged },
      reason === 'queue_full'
        ? 'tracing: the span queue is full (the collector is slow or unreachable); spans are dropped and counted in ordercast_trace_spans_dropped_total'
        : 'tracing: the collector did not take a batch of spans; they are dropped and counted in ordercast_trace_spans_dropped_total',
    );
  };
  const exporter = new exporterModule.OTLPTraceExporter({
    url: settings.url,
    headers: settings.headers,
    timeoutMillis: settings.timeoutMs,
  });
  const counting = new CountingExporter(exporter, core.ExportResultCode.SUCCESS, (count, ok, error) => {
    if (ok) return hooks.exported(count);
    hooks.dropped(count, 'export_failed');
    warn('export_failed', count, error);
  });
  const batch = new sdk.BatchSpanProcessor({
    exporter: counting,
    maxQueueSize: settings.batch.maxQueueSize,
    maxExportBatchSize: settings.batch.maxExportBatchSize,
    scheduledDelayMillis: settings.batch.scheduledDelayMs,
    exportTimeoutMillis: settings.batch.exportTimeoutMs,
  });
  const gate = new QueueGate(batch, counting, settings.batch.maxQueueSize, (count) => {
    hooks.dropped(count, 'queue_full');
    warn('queue_full', count);
  });
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({
      ...settings.resourceAttributes,
      'service.name': settings.serviceName,
      'service.version': version,
    }),
    sampler: sampler(sdk, settings.sampler, settings.samplerRatio),
    spanProcessors: [gate],
  });
  // No context manager: parents are handed over explicitly (lib/tracing.ts).
  api.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(provider);
  setTracer(provider.getTracer('ordercast', version));
  return {
    async shutdown() {
      setTracer(undefined);
      try {
        await provider.shutdown();
      } finally {
        api.trace.disable();
        api.propagation.disable();
      }
    },
  };
}

type SdkModule = typeof import('@opentelemetry/sdk-trace');

function sampler(sdk: SdkModule, name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new sdk.AlwaysOnSampler();
    case 'always_off':
      return new sdk.AlwaysOffSampler();
    case 'traceidratio':
      return new sdk.TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio) });
  }
}

/** Tells how each export went, and how many spans are on their way to it. */
class CountingExporter implements SpanExporter {
  /** Spans handed to the batch processor and not yet to an export: its queue. */
  queued = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly success: number,
    private readonly settled: (count: number, ok: boolean, error?: Error) => void,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.queued = Math.max(0, this.queued - spans.length);
    this.inner.export(spans, (result) => {
      this.settled(spans.length, result.code === this.success, result.error);
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * In front of the batch processor: a sampled span that would not fit its queue is
 * counted as dropped here (the processor would drop it without telling).
 */
class QueueGate implements SpanProcessor {
  constructor(
    private readonly inner: SpanProcessor,
    private readonly exporter: CountingExporter,
    private readonly maxQueueSize: number,
    private readonly dropped: (count: number) => void,
  ) {}

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & 1) === 0) return;
    if (this.exporter.queued >= this.maxQueueSize) {
      this.dropped(1);
      return;
    }
    this.exporter.queued++;
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
