import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestError, writeOrders, type OrderWrite } from '../src/write.js';
import { startOrdercast, type Ordercast } from './helpers/ordercast.js';

describe('writeOrders against a real server', () => {
  let ordercast: Ordercast;
  beforeAll(async () => {
    ordercast = await startOrdercast();
  });
  afterAll(() => ordercast?.close());

  it('sends 1,500 writes in two requests, in order, with one result per write', async () => {
    const order = await ordercast.createOrder();
    const writes: OrderWrite[] = [
      { kind: 'transition', orderId: order.id, body: { status: 'PROCESSING' } },
      { kind: 'transition', orderId: order.id, body: { status: 'PROCESSING' } },
      ...Array.from({ length: 1497 }, (_, i): OrderWrite => ({ kind: 'create', body: { externalId: `sync-${i}` }, idempotencyKey: `sync-${i}` })),
      { kind: 'transition', orderId: order.id, body: { status: 'PENDING_DELIVERY' } },
    ];
    const options = { baseUrl: ordercast.baseUrl, secretKey: ordercast.secretKey };
    const results = await writeOrders(writes, options);
    expect(results).toHaveLength(1500);
    expect(results[0]).toMatchObject({ ok: true, status: 200, order: { status: 'PROCESSING', version: 2 } });
    expect(results[1]).toMatchObject({ ok: false, status: 409, error: { code: 'invalid_transition' } });
    expect(results.slice(2, 1499).every((r) => r.ok && r.status === 201)).toBe(true);
    // The last write went in the second request, after everything in the first.
    expect(results[1499]).toMatchObject({ ok: true, order: { status: 'PENDING_DELIVERY', version: 3 } });
    // Sent again, the creates replay under their keys instead of creating twice.
    const again = await writeOrders(writes.slice(2, 12), options);
    expect(again.every((r) => r.ok && r.replayed)).toBe(true);
    expect(again.map((r) => r.ok && r.order.id)).toEqual(results.slice(2, 12).map((r) => r.ok && r.order.id));
  });

  it('throws a RequestError with the stable code when the server refuses the whole request', async () => {
    const failure = await writeOrders(
      [
        { kind: 'create', body: {}, idempotencyKey: 'one-key' },
        { kind: 'create', body: { externalId: 'other' }, idempotencyKey: 'one-key' },
      ],
      { baseUrl: ordercast.baseUrl, secretKey: ordercast.secretKey },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestError);
    expect(failure).toMatchObject({ code: 'idempotency_key_reused', status: 409 });
  });
});
