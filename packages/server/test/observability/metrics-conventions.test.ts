import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, cli } from '../helpers/processes.js';
import { promtool, skipWithoutPromtool } from '../helpers/promtool.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { eventually, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const FAST_WEBHOOKS = {
  ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true',
  ORDERCAST_WEBHOOK_RETRY_JITTER: '0',
  ORDERCAST_WEBHOOK_POLL_INTERVAL: '100ms',
  ORDERCAST_RATE_LIMIT: '0',
};

/** The value of one sample line of the exposition text, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics of a running server', () => {
  let dataDir: string;
  let server: ServerProcess;
  let receiver: WebhookReceiver;
  let listed: { id: string; secretKey: string };
  let unlisted: { id: string; secretKey: string };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-metrics-'));
    listed = await cli(['projects', 'create', '--name', 'Listed', '--lifecycle', 'onramp', '--json', '--data-dir', dataDir]);
    unlisted = await cli(['projects', 'create', '--name', 'Unlisted', '--lifecycle', 'onramp', '--json', '--data-dir', dataDir]);
    receiver = await startReceiver();
    server = await startServerProcess(['--no-demo', '--data-dir', dataDir], { ...FAST_WEBHOOKS, ORDERCAST_METRICS_PROJECTS: listed.id });
    // Both projects: an endpoint, an order created and moved, so every kind of series has samples.
    for (const project of [listed, unlisted]) {
      await api(server.baseUrl, project.secretKey, 'POST', '/api/v2/webhook-endpoints', { url: receiver.url });
      const order = await api(server.baseUrl, project.secretKey, 'POST', '/api/v2/orders', { status: 'AWAITING_PAYMENT_FROM_USER' });
      await api(server.baseUrl, project.secretKey, 'POST', `/api/v2/orders/${order.id}/status`, { status: 'PROCESSING' });
    }
    await receiver.waitForCount(4);
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const scrape = async () => (await fetch(server.metricsUrl!)).text();

  it.skipIf(skipWithoutPromtool)('passes `promtool check metrics` (names, units, help, types)', async () => {
    const text = await scrape();
    const { code, output } = promtool(['check', 'metrics'], text);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('times each delivery from the commit of its event to its 2xx, by endpoint state', async () => {
    // Outcomes are counted when written, just after the receiver answered.
    const text = await eventually(async () => {
      const t = await scrape();
      return sample(t, 'ordercast_webhook_delivery_lag_seconds_count{endpoint_state="healthy"}') === 4 ? t : undefined;
    });
    expect(sample(text, 'ordercast_webhook_delivery_lag_seconds_bucket{le="86400",endpoint_state="healthy"}')).toBe(4);
    expect(text).not.toContain('endpoint_state="failing"');
  });

  it("reports the log follower's lag and when it last read", async () => {
    const text = await scrape();
    // Four events were appended and followed by this process.
    expect(sample(text, 'ordercast_log_follower_lag_seconds_count')).toBeGreaterThanOrEqual(4);
    const lastRead = sample(text, 'ordercast_log_follower_last_read_timestamp_seconds')!;
    expect(Math.abs(Date.now() / 1000 - lastRead)).toBeLessThan(60);
    expect(sample(text, 'ordercast_log_follower_read_errors_total')).toBe(0);
  });

  it('counts per project only the projects ORDERCAST_METRICS_PROJECTS lists', async () => {
    const text = await eventually(async () => {
      const t = await scrape();
      return sample(t, `ordercast_project_webhook_deliveries_total{project="${listed.id}",outcome="succeeded"}`) === 2 ? t : undefined;
    });
    expect(sample(text, `ordercast_project_orders_created_total{project="${listed.id}"}`)).toBe(1);
    expect(sample(text, `ordercast_project_order_transitions_total{project="${listed.id}"}`)).toBe(1);
    expect(text).not.toContain(unlisted.id);
    // Every project still counts in the totals.
    expect(sample(text, 'ordercast_orders_created_total')).toBe(2);
  });

  it('refuses a project list that is not project ids, naming the variable', async () => {
    const refused = startServerProcess(['--no-demo', '--data-dir', dataDir], { ORDERCAST_METRICS_PROJECTS: `${listed.id},acme` });
    await expect(refused).rejects.toThrow(/ORDERCAST_METRICS_PROJECTS: "acme" is not a project id/);
  });
});
