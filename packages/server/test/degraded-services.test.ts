import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { redisUrlForTests } from './helpers/processes.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { call } from './helpers/webhook-server-process.js';
import { eventually, startReceiver } from './helpers/webhook-receiver.js';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
}

/** The JSON log lines of a server process whose `msg` matches. */
function logLines(server: ServerProcess, msg: RegExp): Array<Record<string, any>> {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, any>;
      } catch {
        return {};
      }
    })
    .filter((line) => typeof line.msg === 'string' && msg.test(line.msg));
}

describe('services that are unreachable or failing are not silent', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const tempDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-degraded-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };

  it('an unreachable Redis: a rate-limited warning, /readyz ready with redis degraded, and a broker metric at 0', async () => {
    const port = await closedPort();
    const server = await startServerProcess(['--no-demo', '--data-dir', tempDir(), '--redis-url', `redis://:s3cret@127.0.0.1:${port}`]);
    cleanups.push(() => server.stop());
    // ioredis retries about every second; the warning comes once, not once per retry.
    await eventually(() => (logLines(server, /cannot reach Redis/).length > 0 ? true : undefined), 10_000, 'the Redis warning');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const warnings = logLines(server, /cannot reach Redis/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe(40);
    expect(warnings[0]!.redis).toBe(`redis://:***@127.0.0.1:${port}`);
    expect(server.output()).not.toContain('s3cret');

    const ready = await fetch(`${server.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'sqlite', redis: 'degraded' });
    const metrics = await (await fetch(server.metricsUrl!)).text();
    expect(metrics).toMatch(/^ordercast_broker_connected\{broker="redis"\} 0$/m);
  });

  it.skipIf(!redisUrlForTests())('a reachable Redis: /readyz says redis ok and the broker metric is 1', async () => {
    const server = await startServerProcess(['--no-demo', '--data-dir', tempDir(), '--redis-url', redisUrlForTests()!]);
    cleanups.push(() => server.stop());
    await eventually(
      async () => ((await (await fetch(server.metricsUrl!)).text()).includes('ordercast_broker_connected{broker="redis"} 1') ? true : undefined),
      10_000,
      'the broker to connect',
    );
    expect(await (await fetch(`${server.baseUrl}/readyz`)).json()).toEqual({ status: 'ready', database: 'sqlite', redis: 'ok' });
  });

  it('without Redis, /readyz and /metrics say nothing about a broker', async () => {
    const server = await startServerProcess(['--no-demo', '--data-dir', tempDir()]);
    cleanups.push(() => server.stop());
    expect(await (await fetch(`${server.baseUrl}/readyz`)).json()).toEqual({ status: 'ready', database: 'sqlite' });
    expect(await (await fetch(server.metricsUrl!)).text()).not.toMatch(/^ordercast_broker_connected\{/m);
  });

  it('failing webhook deliveries: one warning per endpoint in the server log, not one per attempt', async () => {
    const dir = tempDir();
    const project = JSON.parse(runCli(['projects', 'create', '--name', 'hooks', '--lifecycle', 'onramp', '--json', '--data-dir', dir]).stdout);
    const server = await startServerProcess(['--no-demo', '--data-dir', dir], {
      ORDERCAST_RATE_LIMIT: '0',
      ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
      ORDERCAST_WEBHOOK_RETRY_SCHEDULE: '0,100ms,100ms,100ms',
      ORDERCAST_WEBHOOK_RETRY_JITTER: '0',
      ORDERCAST_WEBHOOK_POLL_INTERVAL: '50ms',
    });
    cleanups.push(() => server.stop());
    const failing = await startReceiver(() => ({ status: 500, body: 'down' }));
    cleanups.push(() => failing.close());
    const refused = `http://127.0.0.1:${await closedPort()}/webhook?token=hide-me`;
    const first = await call(server.baseUrl, project.secretKey, 'POST', '/api/v2/webhook-endpoints', { url: failing.url });
    const second = await call(server.baseUrl, project.secretKey, 'POST', '/api/v2/webhook-endpoints', { url: refused });
    expect([first.status, second.status]).toEqual([201, 201]);
    for (let i = 0; i < 3; i++) expect((await call(server.baseUrl, project.secretKey, 'POST', '/api/v2/orders', {})).status).toBe(201);

    // Every attempt of the three deliveries (4 each) is made and fails...
    await failing.waitForCount(12, 15_000);
    await eventually(
      async () => {
        const list = await call(server.baseUrl, project.secretKey, 'GET', `/api/v2/webhook-deliveries?endpointId=${second.body.id}&limit=100`);
        return list.body.data.length === 3 && list.body.data.every((d: any) => d.status === 'failed') ? true : undefined;
      },
      15_000,
      'the refused endpoint to give up',
    );
    // ...and the log has one warning for each endpoint.
    const warnings = logLines(server, /webhook delivery failed/);
    expect(warnings.filter((w) => w.endpointId === first.body.id)).toHaveLength(1);
    expect(warnings.filter((w) => w.endpointId === second.body.id)).toHaveLength(1);
    const refusedWarning = warnings.find((w) => w.endpointId === second.body.id)!;
    expect(refusedWarning).toMatchObject({ level: 40, projectId: project.id, statusCode: null });
    expect(refusedWarning.error).toBeTruthy();
    expect(refusedWarning.url).toBe(refused.split('?')[0]);
    expect(server.output()).not.toContain('hide-me');
    expect(warnings.find((w) => w.endpointId === first.body.id)).toMatchObject({ statusCode: 500 });
  });
});
