import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../src/api.js';
import { layoutLifecycle } from '../src/components/lifecycle-diagram.js';
import { mergeTimeline, readTimeline } from '../src/timeline.js';
import type { Lifecycle, OrderEvent } from '../src/types.js';

const onramp: Lifecycle = {
  name: 'onramp',
  statuses: ['AWAITING_PAYMENT_FROM_USER', 'PAYMENT_DONE_MARKED_BY_USER', 'PROCESSING', 'PENDING_DELIVERY', 'COMPLETED', 'FAILED', 'CANCELLED'],
  initial: ['AWAITING_PAYMENT_FROM_USER', 'PROCESSING'],
  final: ['COMPLETED', 'FAILED', 'CANCELLED'],
  transitions: {
    AWAITING_PAYMENT_FROM_USER: ['PAYMENT_DONE_MARKED_BY_USER', 'PROCESSING', 'FAILED', 'CANCELLED'],
    PAYMENT_DONE_MARKED_BY_USER: ['PROCESSING', 'FAILED', 'CANCELLED'],
    PROCESSING: ['PENDING_DELIVERY', 'COMPLETED', 'FAILED', 'CANCELLED'],
    PENDING_DELIVERY: ['COMPLETED', 'FAILED'],
  },
  createdEventName: 'ORDER_CREATED',
  eventNames: {},
};

function event(version: number): OrderEvent {
  return {
    id: `evt_${version}`,
    type: version === 1 ? 'order.created' : 'order.status_changed',
    eventName: 'x',
    orderId: 'ord_1',
    fromStatus: version === 1 ? null : 'a',
    toStatus: 'b',
    reason: null,
    version,
    createdAt: new Date(0).toISOString(),
  };
}

describe('lifecycle layout', () => {
  it('puts every move forward left to right, by the longest path from an initial status', () => {
    const place = layoutLifecycle(onramp);
    const column = (s: string) => place.get(s)?.column;
    expect([
      column('AWAITING_PAYMENT_FROM_USER'),
      column('PAYMENT_DONE_MARKED_BY_USER'),
      column('PROCESSING'),
      column('PENDING_DELIVERY'),
      column('COMPLETED'),
    ]).toEqual([0, 1, 2, 3, 4]);
    for (const [from, targets] of Object.entries(onramp.transitions)) for (const to of targets) expect(column(to)).toBeGreaterThan(column(from) as number);
    // No two statuses share a box.
    const spots = [...place.values()].map((p) => `${p.column}:${p.row}`);
    expect(new Set(spots).size).toBe(onramp.statuses.length);
  });

  it('lays out a lifecycle with a cycle, the move back going right to left', () => {
    const place = layoutLifecycle({
      ...onramp,
      statuses: ['open', 'held', 'closed'],
      initial: ['open'],
      final: ['closed'],
      transitions: { open: ['held', 'closed'], held: ['open', 'closed'] },
    });
    expect(Object.fromEntries([...place].map(([s, p]) => [s, p.column]))).toEqual({ open: 0, held: 1, closed: 2 });
  });
});

describe('timeline', () => {
  let server: http.Server;
  let origin: string;
  const requested: string[] = [];
  const all = Array.from({ length: 250 }, (_, i) => event(i + 1));

  beforeAll(async () => {
    // Answers as `GET /orders/{id}/events` pages: 100 at a time after `afterVersion`, with `hasMore`.
    server = http.createServer((req, res) => {
      requested.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://x');
      const after = Number(url.searchParams.get('afterVersion') ?? 0);
      const data = all.filter((e) => e.version > after).slice(0, 100);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ object: 'list', data, hasMore: data.length > 0 && (data[data.length - 1] as OrderEvent).version < all.length }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads every page while hasMore is true, the first without paging parameters', async () => {
    requested.length = 0;
    const events = await readTimeline(new Api('sk_test', origin), 'ord_1');
    expect(events.map((e) => e.version)).toEqual(all.map((e) => e.version));
    expect(requested).toEqual(['/api/v2/orders/ord_1/events', '/api/v2/orders/ord_1/events?afterVersion=100', '/api/v2/orders/ord_1/events?afterVersion=200']);
  });

  it('reads only what follows a known version, and merges without duplicates in version order', async () => {
    const tail = await readTimeline(new Api('sk_test', origin), 'ord_1', 240);
    expect(tail.map((e) => e.version)).toEqual([241, 242, 243, 244, 245, 246, 247, 248, 249, 250]);
    const merged = mergeTimeline([event(1), event(3)], [event(3), event(2), event(4)]);
    expect(merged.map((e) => e.version)).toEqual([1, 2, 3, 4]);
  });
});
