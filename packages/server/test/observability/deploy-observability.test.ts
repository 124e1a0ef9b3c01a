import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { promtool, skipWithoutPromtool } from '../helpers/promtool.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { webhookApi } from '../helpers/webhook-api.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const RULES = path.join(root, 'deploy/prometheus/ordercast-rules.yml');
const DASHBOARD = path.join(root, 'deploy/grafana/ordercast.json');
/** Grafana's reference to the dashboard's data source variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template
const DATASOURCE_VARIABLE = '${datasource}';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
const rules: Rule[] = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
const panels: any[] = dashboard.panels;
const panelExprs: string[] = panels.flatMap((panel) => (panel.targets ?? []).map((target: { expr: string }) => target.expr));

/** The metric families an expression names (a histogram's _bucket, _count and _sum belong to it). */
function families(expr: string): string[] {
  return [...expr.matchAll(/\bordercast_[a-z0-9_]+/g)].map(([name]) => name.replace(/_(bucket|count|sum)$/, ''));
}

/** The families /metrics declares (a `# TYPE` line each, with or without samples yet). */
function declared(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));
}

describe('deploy/: the Prometheus rules and the Grafana dashboard', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true' });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await server?.close();
  });

  it.skipIf(skipWithoutPromtool)('the rules file passes `promtool check rules`', () => {
    const { code, output } = promtool(['check', 'rules', RULES]);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(code).toBe(0);
  });

  it('alerts on webhook backlog age, failing endpoints, follower lag, database unavailable, 5xx rate and sockets near their limits', () => {
    const byMetric = (name: string) => rules.filter((rule) => rule.alert && families(rule.expr).includes(name)).map((rule) => rule.alert);
    expect(byMetric('ordercast_webhook_oldest_pending_age_seconds')).not.toEqual([]);
    expect(byMetric('ordercast_webhook_endpoints_failing')).not.toEqual([]);
    expect(byMetric('ordercast_log_follower_lag_seconds')).not.toEqual([]);
    expect(byMetric('ordercast_log_follower_last_read_timestamp_seconds')).not.toEqual([]);
    expect(byMetric('ordercast_database_up')).not.toEqual([]);
    expect(rules.some((rule) => rule.alert && rule.expr.includes('status_code=~"5.."'))).toBe(true);
    expect(byMetric('ordercast_process_open_fds')).not.toEqual([]);
  });

  it('the dashboard is a Grafana 10+ dashboard with a Prometheus data source to choose', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(dashboard.uid).toBe('ordercast');
    const variables = dashboard.templating.list;
    expect(variables.find((v: { type: string }) => v.type === 'datasource')).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: DATASOURCE_VARIABLE });
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    }
    const titles = panels.map((panel) => panel.title).join('\n');
    for (const shown of ['Webhook backlog age', 'Failing endpoints', 'Follower lag', 'Database up', '5xx rate', 'file descriptors'])
      expect(titles).toContain(shown);
  });

  it('every metric the rules and the dashboard use is on /metrics of a running server', async () => {
    // Traffic first, so the labelled series have been created as well.
    const api = webhookApi(server, await server.createProject('onramp'));
    await api.createEndpoint(receiver.url);
    const order = await api.createOrder({ status: 'AWAITING_PAYMENT_FROM_USER' });
    await api.transition(order.id, 'PROCESSING');
    await receiver.waitForCount(2);
    const exposed = declared(await (await fetch(server.metricsUrl)).text());
    const used = new Set([...rules.map((rule) => rule.expr), ...panelExprs].flatMap(families));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
  });
});
