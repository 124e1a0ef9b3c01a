/**
 * The standard OTEL_* variables, read and checked once at start-up. The SDK itself only
 * warns about a value it cannot use and carries on with a default; here a malformed value
 * stops the start with a message naming the variable, so a typo never silently turns
 * tracing off or sampling to 100 %.
 */

export class OtelEnvironmentError extends Error {}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export interface TracingSettings {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  url: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  /** OTEL_EXPORTER_OTLP_TIMEOUT (ms, default 10000): an export waits no longer for the collector. */
  timeoutMs: number;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  sampler: SamplerName;
  /** OTEL_TRACES_SAMPLER_ARG for the ratio samplers (default 1). */
  samplerRatio: number;
  batch: { maxQueueSize: number; maxExportBatchSize: number; scheduledDelayMs: number; exportTimeoutMs: number };
}

type Env = Record<string, string | undefined>;

/** What `OTEL_SERVICE_NAME` defaults to. */
export const DEFAULT_SERVICE_NAME = 'ordercast';

/**
 * The tracing settings, or undefined when tracing is off: no endpoint is set
 * (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), or OTEL_SDK_DISABLED
 * or OTEL_TRACES_EXPORTER=none says so. Every variable set is checked either way.
 */
export function readOtelEnvironment(env: Env): TracingSettings | undefined {
  const disabled = booleanVariable(env, 'OTEL_SDK_DISABLED');
  const exporter = value(env, 'OTEL_TRACES_EXPORTER');
  if (exporter !== undefined && exporter !== 'otlp' && exporter !== 'none') {
    throw new OtelEnvironmentError(`OTEL_TRACES_EXPORTER must be otlp or none (got "${exporter}")`);
  }
  const tracesEndpoint = urlVariable(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = urlVariable(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const protocol = protocolVariable(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? protocolVariable(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
  const headers = { ...keyValueList(env, 'OTEL_EXPORTER_OTLP_HEADERS'), ...keyValueList(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') };
  const timeoutMs =
    integerVariable(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 1, 600_000) ?? integerVariable(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 1, 600_000) ?? 10_000;
  const sampler = samplerVariable(env);
  const ratioRaw = value(env, 'OTEL_TRACES_SAMPLER_ARG');
  const samplerRatio = ratioRaw === undefined ? 1 : Number(ratioRaw);
  if (ratioRaw !== undefined && (!/^\s*[0-9.eE+-]+\s*$/.test(ratioRaw) || !Number.isFinite(samplerRatio) || samplerRatio < 0 || samplerRatio > 1)) {
    throw new OtelEnvironmentError(`OTEL_TRACES_SAMPLER_ARG must be a sampling ratio from 0 to 1 (got "${ratioRaw}")`);
  }
  const resourceAttributes = keyValueList(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const serviceName = value(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? DEFAULT_SERVICE_NAME;
  const maxQueueSize = integerVariable(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 1, 1_000_000) ?? 2048;
  const maxExportBatchSize = integerVariable(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1, 1_000_000) ?? 512;
  if (maxExportBatchSize > maxQueueSize) {
    throw new OtelEnvironmentError(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE (${maxExportBatchSize}) must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${maxQueueSize})`);
  }
  const batch = {
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMs: integerVariable(env, 'OTEL_BSP_SCHEDULE_DELAY', 1, 600_000) ?? 5000,
    exportTimeoutMs: integerVariable(env, 'OTEL_BSP_EXPORT_TIMEOUT', 1, 600_000) ?? 30_000,
  };
  if (disabled || exporter === 'none') return undefined;
  const url = tracesEndpoint ?? (endpoint === undefined ? undefined : `${endpoint.replace(/\/+$/, '')}/v1/traces`);
  if (url === undefined) return undefined;
  return { url, protocol, headers, timeoutMs, serviceName, resourceAttributes, sampler, samplerRatio, batch };
}

/** Set and not blank; surrounding whitespace is not part of a value. */
function value(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

function booleanVariable(env: Env, name: string): boolean {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new OtelEnvironmentError(`${name} must be true or false (got "${env[name]}")`);
}

function urlVariable(env: Env, name: string): string | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OtelEnvironmentError(`${name} must be an http:// or https:// URL such as http://collector:4318 (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OtelEnvironmentError(`${name} must be an http:// or https:// URL such as http://collector:4318 (got "${raw}")`);
  }
  return raw;
}

function protocolVariable(env: Env, name: string): OtlpProtocol | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  if (raw === 'http/protobuf' || raw === 'http/json') return raw;
  if (raw === 'grpc') throw new OtelEnvironmentError(`${name}: grpc is not supported; use http/protobuf (port 4318 of a collector) or http/json`);
  throw new OtelEnvironmentError(`${name} must be http/protobuf or http/json (got "${raw}")`);
}

function samplerVariable(env: Env): SamplerName {
  const raw = value(env, 'OTEL_TRACES_SAMPLER');
  if (raw === undefined) return 'parentbased_always_on';
  if ((SAMPLERS as readonly string[]).includes(raw)) return raw as SamplerName;
  throw new OtelEnvironmentError(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')} (got "${raw}")`);
}

function integerVariable(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new OtelEnvironmentError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  return n;
}

/** `key1=value1,key2=value2`, values percent-encoded (the W3C Baggage form the spec uses for these variables). */
function keyValueList(env: Env, name: string): Record<string, string> {
  const raw = value(env, name);
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const item of raw.split(',')) {
    if (!item.trim()) continue;
    const at = item.indexOf('=');
    const key = at < 0 ? '' : item.slice(0, at).trim();
    if (at < 0 || !/^[A-Za-z0-9_.\-/:]+$/.test(key)) {
      throw new OtelEnvironmentError(`${name} must be a list of key=value pairs separated by commas (cannot read "${item.trim()}")`);
    }
    try {
      out[key] = decodeURIComponent(item.slice(at + 1).trim());
    } catch {
      throw new OtelEnvironmentError(`${name}: the value of "${key}" has a malformed percent-encoding`);
    }
  }
  return out;
}
