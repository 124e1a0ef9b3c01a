import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { CreatedProject } from '../../src/services/project-service.js';
import { createPostgresSchema, type TestDialect } from './databases.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestServer {
  app: App;
  baseUrl: string;
  /** Prometheus `/metrics`, on a port of its own. */
  metricsUrl: string;
  dialect: TestDialect;
  databaseUrl: string | undefined;
  dataDir: string;
  createProject(lifecycle?: string | object, name?: string): Promise<CreatedProject>;
  request<T = any>(
    method: string,
    urlPath: string,
    options?: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/** A real Ordercast server on a free loopback port, with its own empty database. */
export async function startTestServer(dialect: TestDialect, env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-test-'));
  const pgSchema = dialect === 'postgres' ? await createPostgresSchema() : undefined;
  const config = loadConfig(
    { port: 0, host: '127.0.0.1', dataDir, databaseUrl: pgSchema?.url, demo: false },
    { ORDERCAST_RATE_LIMIT: '0', ORDERCAST_WS_HANDSHAKE_RATE: '0', ORDERCAST_WS_MESSAGE_RATE: '0', ORDERCAST_METRICS_PORT: '0', ...env },
  );
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  const baseUrl = await app.listen();
  return {
    app,
    baseUrl,
    metricsUrl: app.metricsUrl ?? '',
    dialect,
    databaseUrl: pgSchema?.url,
    dataDir,
    createProject: (lifecycle = 'onramp', name = 'Test project') => app.projects.create({ name, lifecycle }),
    async request(method, urlPath, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.key) headers.authorization = `Bearer ${options.key}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const response = await fetch(`${baseUrl}${urlPath}`, { method, headers, body });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, body: parsed as any, text };
    },
    async close() {
      await app.close();
      await pgSchema?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
