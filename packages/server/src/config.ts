import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrustProxy, TrustProxyError, type TrustProxy } from './lib/client-address.js';
import { OtelEnvironmentError, readOtelEnvironment, type TracingSettings } from './lib/otel-environment.js';
import type { Quotas } from './domain/quotas.js';
import { loadQuotaDefaults, QuotaConfigError } from './quota-config.js';

/** Where `npm run build` puts the dashboard (packages/dashboard builds into the server package, so it ships with it). */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../dashboard/', import.meta.url));

/** Everything the server can be told, read once from flags and environment. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** --database-listen-url / ORDERCAST_DATABASE_LISTEN_URL: a direct PostgreSQL connection for LISTEN when databaseUrl goes through a transaction pooler (default: databaseUrl). */
  databaseListenUrl: string | undefined;
  /** --database-pool-size / ORDERCAST_DATABASE_POOL_SIZE (PostgreSQL, default 10): connections this process opens for queries, besides its one LISTEN connection. */
  databasePoolSize: number;
  /** ORDERCAST_DATABASE_PREPARED_STATEMENTS (PostgreSQL, default true): false behind a transaction pooler that cannot keep named prepared statements (PgBouncer before 1.21). */
  databasePreparedStatements: boolean;
  /** ORDERCAST_REDIS_CHANNEL: the pub/sub channel of this deployment (default: derived from the database location). */
  redisChannel: string | undefined;
  logLevel: string;
  /** Human-readable logs instead of JSON lines (default: when stdout is a terminal). */
  logPretty: boolean;
  /** Requests per second per credential; 0 turns rate limiting off. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** ORDERCAST_LINK_RATE_LIMIT: requests per second per client address on a buyer's `/o/` pages (20 times that at once); 0 turns it off. */
  linkRateLimitPerSecond: number;
  bodyLimitBytes: number;
  /** ORDERCAST_ORDER_CACHE_MB: memory for recently read or changed orders that polls are answered from; 0 turns it off. */
  orderCacheBytes: number;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** Create a demo project with keys on first start of an empty database (SQLite, not NODE_ENV=production, shown on a terminal only: see cli/demo-project.ts). */
  demo: boolean;
  /** NODE_ENV=production: no demo project, whatever else is set. */
  production: boolean;
  /** ORDERCAST_TRUST_PROXY: which peers' X-Forwarded-For gives the client's address (rate limits, logs); none by default. */
  trustProxy: TrustProxy;
  /** Origins browsers may call the API from: `*` or exact origins. */
  corsOrigins: string[];
  realtime: RealtimeConfig;
  /** Server-Sent Events streams (`/api/v2/orders/{id}/stream`, `/api/v2/stream`). */
  sse: SseConfig;
  webhooks: WebhookConfig;
  /** ORDERCAST_DATABASE_CONNECT_TIMEOUT (PostgreSQL, ms): a request waiting longer for a connection gets 503. */
  databaseConnectTimeout: number;
  /** ORDERCAST_DATABASE_STATEMENT_TIMEOUT (PostgreSQL, ms): the server cancels statements running longer. */
  databaseStatementTimeout: number;
  /** ORDERCAST_METRICS_HOST: where Prometheus scrapes `/metrics` (default loopback only). */
  metricsHost: string;
  /** --metrics-port / ORDERCAST_METRICS_PORT: `/metrics` is served only there; `off` serves no metrics, 0 picks a free port. */
  metricsPort: number | undefined;
  /** ORDERCAST_METRICS_PROJECTS: project ids counted under a `project` label of their own (none by default; at most MAX_METRICS_PROJECTS). */
  metricsProjects: string[];
  /** The standard OTEL_* variables (see docs/operations.md, Tracing); undefined: no tracing. */
  tracing: TracingSettings | undefined;
  /** ORDERCAST_ENCRYPTION_KEY: seals stored secrets (32 bytes, hex or base64); see docs/operations.md. */
  encryptionKey: string | undefined;
  /** ORDERCAST_ENCRYPTION_KEY_PREVIOUS: keys that still open stored secrets while they are re-sealed. */
  encryptionKeyPrevious: string | undefined;
  retention: RetentionConfig;
  /** ORDERCAST_TIMING_SWEEP_MS: how often the due index is read for orders past their expected time (docs/timing.md); 0 turns the sweeper off. */
  timingSweepMs: number;
  /** ORDERCAST_QUOTA_*: what each project may use unless its own quotas say otherwise (quota-config.ts). */
  quotas: Quotas;
}

/** What is pruned in the background, and when (see docs/webhooks.md, Retention). Ages in ms; 0 keeps for ever. */
export interface RetentionConfig {
  /** ORDERCAST_RETENTION_ATTEMPT_BODIES: response bodies and headers of webhook attempts (default 30d). */
  attemptBodies: number;
  /** ORDERCAST_RETENTION_DELIVERIES: deliveries that succeeded, with their attempts (default 90d). */
  deliveries: number;
  /** ORDERCAST_RETENTION_EVENTS: the events of orders unchanged for this long (default off: the log is kept). */
  events: number;
  /** ORDERCAST_RETENTION_INTERVAL: time between passes (default 10m). */
  interval: number;
  /** ORDERCAST_RETENTION_BATCH: rows per batch, each its own short transaction (default 100). */
  batchSize: number;
}

/** Limits of the WebSocket gateways (Socket.IO at /ws, Centrifuge at /connection/websocket). */
export interface RealtimeConfig {
  /** ORDERCAST_WS_MAX_SUBSCRIPTIONS: order subscriptions per Socket.IO connection. */
  maxSubscriptionsPerConnection: number;
  /** ORDERCAST_WS_MAX_FRAME_BYTES: larger incoming frames close the connection (1009). */
  maxFrameBytes: number;
  /** ORDERCAST_WS_HANDSHAKE_RATE: new connections per second per IP and per key; 0 turns it off. */
  handshakesPerSecond: number;
  /** ORDERCAST_WS_MESSAGE_RATE: messages per second one connection may send; 0 turns it off. */
  messagesPerSecond: number;
  /** ORDERCAST_WS_PING_INTERVAL (seconds). */
  pingIntervalSeconds: number;
  /** ORDERCAST_WS_PONG_TIMEOUT (seconds). */
  pongTimeoutSeconds: number;
  /** ORDERCAST_WS_CONNECT_TIMEOUT (seconds): a Centrifuge socket must send `connect` within it. */
  connectTimeoutSeconds: number;
  /** ORDERCAST_WS_HISTORY_LIMIT: most publications one history or recovery answer carries. */
  historyLimit: number;
  /** ORDERCAST_EVENT_POLL_MS: how often the event log is read for events no broker message announced; 0 turns it off. */
  eventPollMs: number;
  /** ORDERCAST_WS_MAX_BUFFERED_BYTES: bytes queued for a client that does not read before it is disconnected (both gateways). */
  maxBufferedBytes: number;
  /** ORDERCAST_WS_RECOVERY_WINDOW (a duration, default 2m): how long a dropped Socket.IO connection can be recovered (connection state recovery); 0 turns it off. Milliseconds. */
  recoveryWindowMs: number;
}

/** Limits of the Server-Sent Events streams. */
export interface SseConfig {
  /** ORDERCAST_SSE_HEARTBEAT (a duration, default 15s): a comment line on idle streams, so proxies do not cut them. */
  heartbeatMs: number;
  /** ORDERCAST_SSE_MAX_STREAMS: streams one credential (a key, or one user's tokens) may hold open at once. */
  maxStreamsPerCredential: number;
}

/** How the webhook dispatcher sends, retries and gives up. Durations are milliseconds. */
export interface WebhookConfig {
  /** Allow private, loopback and link-local targets and plain http:// (local development and tests only). */
  allowPrivate: boolean;
  /** Delay before each attempt: the first is usually 0 (at once); its length is the number of attempts. */
  retrySchedule: number[];
  /** Each retry delay is moved by up to this fraction either way, so failed bursts do not retry in lockstep. */
  retryJitter: number;
  /** Longest wait a `Retry-After` header can ask for. */
  maxRetryAfter: number;
  timeout: number;
  connectTimeout: number;
  /** An endpoint that has only failed for this long is disabled. */
  disableAfter: number;
  /** How long an old secret keeps signing after a rotation, unless the request says otherwise. */
  rotationGrace: number;
  /** How often the dispatcher looks for due deliveries (the broker wakes it sooner for new events). */
  pollInterval: number;
  /** ORDERCAST_WEBHOOK_CONCURRENCY: attempts in flight at once, per process, over every endpoint. */
  concurrency: number;
  /** ORDERCAST_WEBHOOK_ENDPOINT_CONCURRENCY: attempts in flight at once to one endpoint (its lane), unless the endpoint says otherwise. */
  endpointConcurrency: number;
  /** Run the dispatcher in this process (false: only enqueue, another process sends). */
  dispatch: boolean;
  /** ORDERCAST_WEBHOOK_FAILING_AFTER: failed attempts in a row before `endpoint.failing` is sent. */
  failingAfter: number;
}

export type ConfigFlags = Partial<{
  host: string;
  port: string | number;
  dataDir: string;
  databaseUrl: string;
  redisUrl: string;
  databaseListenUrl: string;
  databasePoolSize: string | number;
  logLevel: string;
  demo: boolean;
  metricsPort: string | number;
}>;

export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `250ms`, `5s`, `30m`, `2h`, `5d`, or a bare number of seconds, into milliseconds. */
export function parseDuration(name: string, raw: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(raw);
  if (!match) throw new ConfigError(`${name} must be a duration such as 250ms, 5s, 30m, 2h or 5d (got "${raw}")`);
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? 's']!);
}

function duration(name: string, raw: string | undefined, fallback: string): number {
  return parseDuration(name, raw === undefined || raw === '' ? fallback : raw);
}

function bool(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (/^(true|1|yes|on)$/i.test(raw)) return true;
  if (/^(false|0|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${raw}")`);
}

/** The spec's example schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (about 3 days in all). */
export const DEFAULT_RETRY_SCHEDULE = '0,5s,5m,30m,2h,5h,10h,14h,20h,24h';

function loadWebhookConfig(env: NodeJS.ProcessEnv): WebhookConfig {
  const scheduleText = env.ORDERCAST_WEBHOOK_RETRY_SCHEDULE || DEFAULT_RETRY_SCHEDULE;
  const retrySchedule = scheduleText.split(',').map((part) => parseDuration('ORDERCAST_WEBHOOK_RETRY_SCHEDULE', part));
  if (retrySchedule.length < 1 || retrySchedule.length > 50) throw new ConfigError('ORDERCAST_WEBHOOK_RETRY_SCHEDULE must list 1 to 50 delays');
  const jitter = Number(env.ORDERCAST_WEBHOOK_RETRY_JITTER ?? '0.2');
  if (!Number.isFinite(jitter) || jitter < 0 || jitter > 0.5) throw new ConfigError('ORDERCAST_WEBHOOK_RETRY_JITTER must be a fraction from 0 to 0.5');
  const timeout = duration('ORDERCAST_WEBHOOK_TIMEOUT', env.ORDERCAST_WEBHOOK_TIMEOUT, '15s');
  const connectTimeout = duration('ORDERCAST_WEBHOOK_CONNECT_TIMEOUT', env.ORDERCAST_WEBHOOK_CONNECT_TIMEOUT, '5s');
  if (timeout < 100 || connectTimeout < 100) throw new ConfigError('webhook timeouts must be at least 100ms');
  // High: an attempt waiting on a socket costs a little memory and no CPU, and each endpoint's lane caps what one tenant holds.
  const concurrency = integer('ORDERCAST_WEBHOOK_CONCURRENCY', env.ORDERCAST_WEBHOOK_CONCURRENCY, 1024, 1, 10_000);
  return {
    allowPrivate: bool('ORDERCAST_WEBHOOK_ALLOW_PRIVATE', env.ORDERCAST_WEBHOOK_ALLOW_PRIVATE, false),
    retrySchedule,
    retryJitter: jitter,
    maxRetryAfter: duration('ORDERCAST_WEBHOOK_MAX_RETRY_AFTER', env.ORDERCAST_WEBHOOK_MAX_RETRY_AFTER, '24h'),
    timeout,
    connectTimeout,
    disableAfter: duration('ORDERCAST_WEBHOOK_DISABLE_AFTER', env.ORDERCAST_WEBHOOK_DISABLE_AFTER, '5d'),
    rotationGrace: duration('ORDERCAST_WEBHOOK_ROTATION_GRACE', env.ORDERCAST_WEBHOOK_ROTATION_GRACE, '24h'),
    pollInterval: Math.max(10, duration('ORDERCAST_WEBHOOK_POLL_INTERVAL', env.ORDERCAST_WEBHOOK_POLL_INTERVAL, '1s')),
    concurrency,
    endpointConcurrency: integer(
      'ORDERCAST_WEBHOOK_ENDPOINT_CONCURRENCY',
      env.ORDERCAST_WEBHOOK_ENDPOINT_CONCURRENCY,
      Math.min(4, concurrency),
      1,
      concurrency,
    ),
    dispatch: bool('ORDERCAST_WEBHOOK_DISPATCH', env.ORDERCAST_WEBHOOK_DISPATCH, true),
    failingAfter: integer('ORDERCAST_WEBHOOK_FAILING_AFTER', env.ORDERCAST_WEBHOOK_FAILING_AFTER, 5, 1, 1000),
  };
}

/** A retention age: a duration, or `off` (also `0`) to keep for ever. */
function retentionAge(name: string, raw: string | undefined, fallback: string): number {
  const text = raw === undefined || raw.trim() === '' ? fallback : raw;
  return /^\s*(off|never|false|0)\s*$/i.test(text) ? 0 : parseDuration(name, text);
}

function loadRetentionConfig(env: NodeJS.ProcessEnv): RetentionConfig {
  return {
    attemptBodies: retentionAge('ORDERCAST_RETENTION_ATTEMPT_BODIES', env.ORDERCAST_RETENTION_ATTEMPT_BODIES, '30d'),
    deliveries: retentionAge('ORDERCAST_RETENTION_DELIVERIES', env.ORDERCAST_RETENTION_DELIVERIES, '90d'),
    events: retentionAge('ORDERCAST_RETENTION_EVENTS', env.ORDERCAST_RETENTION_EVENTS, 'off'),
    interval: Math.max(1000, duration('ORDERCAST_RETENTION_INTERVAL', env.ORDERCAST_RETENTION_INTERVAL, '10m')),
    batchSize: integer('ORDERCAST_RETENTION_BATCH', env.ORDERCAST_RETENTION_BATCH, 100, 1, 10_000),
  };
}

function integer(name: string, raw: string | number | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

function corsOrigins(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return ['*'];
  const list = raw
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of list) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`ORDERCAST_CORS_ORIGINS: "${origin}" is not an origin such as https://shop.example.com (or *)`);
    }
  }
  return list;
}

/** Flags win over ORDERCAST_* variables, which win over the defaults. */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = flags.logLevel ?? env.ORDERCAST_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`log level must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  const synchronous = (env.ORDERCAST_SQLITE_SYNCHRONOUS ?? 'NORMAL').toUpperCase();
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') throw new ConfigError('ORDERCAST_SQLITE_SYNCHRONOUS must be NORMAL or FULL');
  const rateLimitPerSecond = integer('ORDERCAST_RATE_LIMIT', env.ORDERCAST_RATE_LIMIT, 100, 0, 1_000_000);
  return {
    host: flags.host ?? env.ORDERCAST_HOST ?? '127.0.0.1',
    port: integer('port', flags.port ?? env.ORDERCAST_PORT ?? env.PORT, 8080, 0, 65535),
    dataDir: path.resolve(flags.dataDir ?? env.ORDERCAST_DATA_DIR ?? '.ordercast'),
    databaseUrl: flags.databaseUrl ?? env.ORDERCAST_DATABASE_URL ?? env.DATABASE_URL ?? undefined,
    redisUrl: flags.redisUrl ?? env.ORDERCAST_REDIS_URL ?? env.REDIS_URL ?? undefined,
    databaseListenUrl: databaseListenUrl(flags.databaseListenUrl ?? env.ORDERCAST_DATABASE_LISTEN_URL),
    databasePoolSize: integer(
      '--database-pool-size (ORDERCAST_DATABASE_POOL_SIZE)',
      flags.databasePoolSize ?? env.ORDERCAST_DATABASE_POOL_SIZE,
      DEFAULT_DATABASE_POOL_SIZE,
      1,
      1000,
    ),
    databasePreparedStatements: bool('ORDERCAST_DATABASE_PREPARED_STATEMENTS', env.ORDERCAST_DATABASE_PREPARED_STATEMENTS, true),
    redisChannel: env.ORDERCAST_REDIS_CHANNEL || undefined,
    logLevel,
    logPretty: env.ORDERCAST_LOG_FORMAT ? env.ORDERCAST_LOG_FORMAT === 'pretty' : Boolean(process.stdout.isTTY),
    rateLimitPerSecond,
    orderCacheBytes: integer('ORDERCAST_ORDER_CACHE_MB', env.ORDERCAST_ORDER_CACHE_MB, 64, 0, 65_536) * 1024 * 1024,
    rateLimitBurst: integer('ORDERCAST_RATE_LIMIT_BURST', env.ORDERCAST_RATE_LIMIT_BURST, rateLimitPerSecond * 2, 0, 10_000_000),
    linkRateLimitPerSecond: integer('ORDERCAST_LINK_RATE_LIMIT', env.ORDERCAST_LINK_RATE_LIMIT, 5, 0, 100_000),
    bodyLimitBytes: integer('ORDERCAST_BODY_LIMIT', env.ORDERCAST_BODY_LIMIT, 1024 * 1024, 1024, 64 * 1024 * 1024),
    sqliteSynchronous: synchronous,
    demo: flags.demo ?? env.ORDERCAST_DEMO !== 'false',
    production: env.NODE_ENV === 'production',
    trustProxy: trustProxy(env.ORDERCAST_TRUST_PROXY),
    corsOrigins: corsOrigins(env.ORDERCAST_CORS_ORIGINS),
    realtime: loadRealtimeConfig(env),
    sse: {
      heartbeatMs: Math.max(100, duration('ORDERCAST_SSE_HEARTBEAT', env.ORDERCAST_SSE_HEARTBEAT, '15s')),
      maxStreamsPerCredential: integer('ORDERCAST_SSE_MAX_STREAMS', env.ORDERCAST_SSE_MAX_STREAMS, 100, 1, 100_000),
    },
    webhooks: loadWebhookConfig(env),
    databaseConnectTimeout: Math.max(100, duration('ORDERCAST_DATABASE_CONNECT_TIMEOUT', env.ORDERCAST_DATABASE_CONNECT_TIMEOUT, '5s')),
    databaseStatementTimeout: Math.max(100, duration('ORDERCAST_DATABASE_STATEMENT_TIMEOUT', env.ORDERCAST_DATABASE_STATEMENT_TIMEOUT, '30s')),
    metricsHost: env.ORDERCAST_METRICS_HOST || '127.0.0.1',
    metricsPort: metricsPort(flags.metricsPort ?? env.ORDERCAST_METRICS_PORT),
    metricsProjects: metricsProjects(env.ORDERCAST_METRICS_PROJECTS),
    tracing: tracingSettings(env),
    encryptionKey: env.ORDERCAST_ENCRYPTION_KEY || undefined,
    encryptionKeyPrevious: env.ORDERCAST_ENCRYPTION_KEY_PREVIOUS || undefined,
    retention: loadRetentionConfig(env),
    timingSweepMs: integer('ORDERCAST_TIMING_SWEEP_MS', env.ORDERCAST_TIMING_SWEEP_MS, 250, 0, 60_000),
    quotas: quotaDefaults(env),
  };
}

export const DEFAULT_DATABASE_POOL_SIZE = 10;

function quotaDefaults(env: NodeJS.ProcessEnv): Quotas {
  try {
    return loadQuotaDefaults(env);
  } catch (error) {
    if (error instanceof QuotaConfigError) throw new ConfigError(error.message);
    throw error;
  }
}

function trustProxy(raw: string | undefined): TrustProxy {
  try {
    return parseTrustProxy(raw);
  } catch (error) {
    if (error instanceof TrustProxyError) throw new ConfigError(`ORDERCAST_TRUST_PROXY: ${error.message}`);
    throw error;
  }
}

function databaseListenUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError('--database-listen-url (ORDERCAST_DATABASE_LISTEN_URL) must be a postgres://… URL');
  return raw;
}

function tracingSettings(env: Record<string, string | undefined>): TracingSettings | undefined {
  try {
    return readOtelEnvironment(env);
  } catch (error) {
    if (error instanceof OtelEnvironmentError) throw new ConfigError(error.message);
    throw error;
  }
}

/** Each listed project multiplies the series of the per-project metrics: the list is bounded. */
export const MAX_METRICS_PROJECTS = 50;

function metricsProjects(raw: string | undefined): string[] {
  const ids = [
    ...new Set(
      (raw ?? '')
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    ),
  ];
  const bad = ids.find((id) => !/^prj_[A-Za-z0-9]{1,64}$/.test(id));
  if (bad !== undefined) throw new ConfigError(`ORDERCAST_METRICS_PROJECTS: "${bad}" is not a project id such as prj_…`);
  if (ids.length > MAX_METRICS_PROJECTS) {
    throw new ConfigError(`ORDERCAST_METRICS_PROJECTS lists ${ids.length} projects; at most ${MAX_METRICS_PROJECTS} get a label of their own`);
  }
  return ids;
}

/** The default is a well-known loopback port; `off` (or `false`, `none`) turns the metrics listener off. */
function metricsPort(raw: string | number | undefined): number | undefined {
  if (typeof raw === 'string' && /^(off|false|none|disabled)$/i.test(raw.trim())) return undefined;
  return integer('metrics port', raw, DEFAULT_METRICS_PORT, 0, 65535);
}

export const DEFAULT_METRICS_PORT = 9464;

function loadRealtimeConfig(env: NodeJS.ProcessEnv): RealtimeConfig {
  const pingIntervalSeconds = integer('ORDERCAST_WS_PING_INTERVAL', env.ORDERCAST_WS_PING_INTERVAL, 25, 1, 3600);
  return {
    maxSubscriptionsPerConnection: integer('ORDERCAST_WS_MAX_SUBSCRIPTIONS', env.ORDERCAST_WS_MAX_SUBSCRIPTIONS, 100, 1, 100_000),
    maxFrameBytes: integer('ORDERCAST_WS_MAX_FRAME_BYTES', env.ORDERCAST_WS_MAX_FRAME_BYTES, 64 * 1024, 1024, 16 * 1024 * 1024),
    handshakesPerSecond: integer('ORDERCAST_WS_HANDSHAKE_RATE', env.ORDERCAST_WS_HANDSHAKE_RATE, 20, 0, 1_000_000),
    messagesPerSecond: integer('ORDERCAST_WS_MESSAGE_RATE', env.ORDERCAST_WS_MESSAGE_RATE, 100, 0, 1_000_000),
    pingIntervalSeconds,
    pongTimeoutSeconds: integer('ORDERCAST_WS_PONG_TIMEOUT', env.ORDERCAST_WS_PONG_TIMEOUT, 10, 1, 3600),
    connectTimeoutSeconds: integer('ORDERCAST_WS_CONNECT_TIMEOUT', env.ORDERCAST_WS_CONNECT_TIMEOUT, 15, 1, 3600),
    historyLimit: integer('ORDERCAST_WS_HISTORY_LIMIT', env.ORDERCAST_WS_HISTORY_LIMIT, 300, 1, 100_000),
    eventPollMs: integer('ORDERCAST_EVENT_POLL_MS', env.ORDERCAST_EVENT_POLL_MS, 1000, 0, 60_000),
    maxBufferedBytes: integer('ORDERCAST_WS_MAX_BUFFERED_BYTES', env.ORDERCAST_WS_MAX_BUFFERED_BYTES, 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    recoveryWindowMs: duration('ORDERCAST_WS_RECOVERY_WINDOW', env.ORDERCAST_WS_RECOVERY_WINDOW, '2m'),
  };
}
