import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followOrderLink } from '../src/link-follower.js';
import type { PublicOrderView } from '../src/public-order.js';
import { startGatewayProxy, type GatewayProxy } from './helpers/gateway-proxy.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';
import { pause, waitUntil } from './helpers/wait.js';

/** The element's link mode, against a real Ordercast server's link routes (`/o/{token}/status.json`, `/o/{token}/events`), through a proxy. */
describe('followOrderLink', () => {
  let ordercast: Ordercast;
  let proxy: GatewayProxy;

  beforeAll(async () => {
    // The last test polls status.json every 100 ms, over the default 5 reads a second per link.
    ordercast = await startOrdercast({ ORDERCAST_LINK_RATE_LIMIT: '100' });
    proxy = await startGatewayProxy(ordercast.baseUrl);
  });
  afterAll(async () => {
    await proxy?.close();
    await ordercast?.close();
  });

  function follow(linkToken: string, extra: Partial<Parameters<typeof followOrderLink>[0]> = {}) {
    const views: PublicOrderView[] = [];
    const transports: string[] = [];
    const ended: string[] = [];
    const follower = followOrderLink({
      baseUrl: proxy.baseUrl,
      linkToken,
      onView: (view) => views.push(view),
      onTransport: (transport) => transports.push(transport),
      onEnd: (code) => ended.push(code),
      ...extra,
    });
    return { follower, views, transports, ended, versions: () => views.map((v) => `${v.order.version}:${v.status.label}`) };
  }

  it('brings each version once, in order, over the stream, and stops by itself at the final status', async () => {
    const order = await ordercast.createOrder();
    const token = await ordercast.orderLink(order.id);
    const { views, transports, versions } = follow(token);
    await waitUntil(() => transports.includes('sse') && views.length === 1, 10_000, 'the stream');
    for (const status of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']) await ordercast.setStatus(order.id, status);
    await waitUntil(() => transports.at(-1) === 'none', 10_000, 'the end at the final status');
    expect(versions()).toEqual(['1:Awaiting payment', '2:Processing', '3:Sending', '4:Completed']);
    expect(transports).toEqual(['sse', 'none']);
    const asked = proxy.requests.filter((p) => p.includes(token)).length;
    await pause(1500);
    expect(proxy.requests.filter((p) => p.includes(token)).length).toBe(asked);
  });

  it('an unknown token ends with not_found, a revoked link with order_link_revoked, even mid-stream', async () => {
    const unknown = follow('olt_doesnotexist');
    await waitUntil(() => unknown.ended.length > 0, 10_000, 'the end');
    expect(unknown.ended).toEqual(['not_found']);
    expect(unknown.views).toEqual([]);

    const order = await ordercast.createOrder();
    const token = await ordercast.orderLink(order.id);
    const revoked = follow(token);
    await waitUntil(() => revoked.transports.includes('sse'), 10_000, 'the stream');
    await ordercast.revokeLinks(order.id);
    await waitUntil(() => revoked.ended.length > 0, 10_000, 'the end');
    expect(revoked.ended).toEqual(['order_link_revoked']);
    expect(revoked.transports.at(-1)).toBe('none');
  });

  // Last: the proxy refuses streams from here on.
  it('reads status.json while the stream is refused, and still brings each version once, in order', async () => {
    proxy.cutStreams();
    const order = await ordercast.createOrder();
    const token = await ordercast.orderLink(order.id);
    const { views, transports, versions, follower } = follow(token, { pollIntervalMs: 100 });
    await waitUntil(() => views.length === 1 && transports.includes('poll'), 10_000, 'polling');
    for (const status of ['PROCESSING', 'PENDING_DELIVERY']) {
      await ordercast.setStatus(order.id, status);
      await waitUntil(() => views.at(-1)?.order.status === status, 10_000, status);
    }
    follower.stop();
    expect(versions()).toEqual(['1:Awaiting payment', '2:Processing', '3:Sending']);
    expect(transports).not.toContain('sse');
  });
});
