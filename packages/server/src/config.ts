import path from 'node:path';

/** Everything the server can be told, read once from flags and environment. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** ORDERCAST_REDIS_CHANNEL: the pub/sub channel of this deployment (default: derived from the database location). */
  redisChannel: string | undefined;
  logLevel: string;
  /** Human-readable logs instead of JSON lines (default: when stdout is a terminal). */
  logPretty: boolean;
  /** Requests per second per credential; 0 turns rate limiting off. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  bodyLimitBytes: number;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** Create a demo project with keys on first start of an empty database. */
  demo: boolean;
  /** Origins browsers may call the API from: `*` or exact origins. */
  corsOrigins: string[];
  realtime: RealtimeConfig;
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
}

export type ConfigFlags = Partial<{
  host: string;
  port: string | number;
  dataDir: string;
  databaseUrl: string;
  redisUrl: string;
  logLevel: string;
  demo: boolean;
}>;

export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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
  const list = raw.split(',').map((o) => o.trim()).filter(Boolean);
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
    redisChannel: env.ORDERCAST_REDIS_CHANNEL || undefined,
    logLevel,
    logPretty: env.ORDERCAST_LOG_FORMAT ? env.ORDERCAST_LOG_FORMAT === 'pretty' : Boolean(process.stdout.isTTY),
    rateLimitPerSecond,
    rateLimitBurst: integer('ORDERCAST_RATE_LIMIT_BURST', env.ORDERCAST_RATE_LIMIT_BURST, rateLimitPerSecond * 2, 0, 10_000_000),
    bodyLimitBytes: integer('ORDERCAST_BODY_LIMIT', env.ORDERCAST_BODY_LIMIT, 1024 * 1024, 1024, 64 * 1024 * 1024),
    sqliteSynchronous: synchronous,
    demo: flags.demo ?? env.ORDERCAST_DEMO !== 'false',
    corsOrigins: corsOrigins(env.ORDERCAST_CORS_ORIGINS),
    realtime: loadRealtimeConfig(env),
  };
}

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
  };
}
