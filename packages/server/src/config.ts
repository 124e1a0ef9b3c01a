import path from 'node:path';

/** Everything the server can be told, read once from flags and environment. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
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
    logLevel,
    logPretty: env.ORDERCAST_LOG_FORMAT ? env.ORDERCAST_LOG_FORMAT === 'pretty' : Boolean(process.stdout.isTTY),
    rateLimitPerSecond,
    rateLimitBurst: integer('ORDERCAST_RATE_LIMIT_BURST', env.ORDERCAST_RATE_LIMIT_BURST, rateLimitPerSecond * 2, 0, 10_000_000),
    bodyLimitBytes: integer('ORDERCAST_BODY_LIMIT', env.ORDERCAST_BODY_LIMIT, 1024 * 1024, 1024, 64 * 1024 * 1024),
    sqliteSynchronous: synchronous,
    demo: flags.demo ?? env.ORDERCAST_DEMO !== 'false',
    corsOrigins: corsOrigins(env.ORDERCAST_CORS_ORIGINS),
  };
}
