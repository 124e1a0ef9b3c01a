import { describe, expect, it } from 'vitest';
import { parseOrderUpdate, parseSubscribeAck } from '../src/socket-messages.js';
import type { Order } from '../src/types.js';
import { VersionGate } from '../src/version-gate.js';

const order = (version: number, status = `S${version}`, id = 'ord_1'): Order => ({
  id,
  object: 'order',
  projectId: 'prj_1',
  externalId: null,
  userExternalId: null,
  amount: null,
  currency: null,
  metadata: {},
  status,
  version,
  final: false,
  createdAt: '2026-11-22T21:00:00.000Z',
  updatedAt: '2026-11-22T21:00:00.000Z',
  statusHistory: [],
});

describe('VersionGate', () => {
  it('lets each version through once and never an older one after a newer one, whatever the arrival order', () => {
    const gate = new VersionGate();
    // A socket catch-up, a long-poll answer and live events interleaved, with repeats.
    const arrivals = [1, 1, 3, 2, 3, 4, 2, 4, 6, 5, 6, 7];
    const passed = arrivals.filter((v) => gate.admit(order(v)));
    expect(passed).toEqual([1, 3, 4, 6, 7]);
    expect(gate.version).toBe(7);
    expect(gate.current?.status).toBe('S7');
  });
});

describe('the Socket.IO message shapes', () => {
  it('reads a subscribe ack as the current order or an error', () => {
    expect(parseSubscribeAck({ order: order(2) })).toEqual({ order: order(2) });
    expect(parseSubscribeAck(order(2))).toEqual({ order: order(2) });
    expect(parseSubscribeAck({ error: { code: 'order_not_found', message: 'No such order' } })).toEqual({ error: { code: 'order_not_found', message: 'No such order' } });
    expect(parseSubscribeAck({ code: 'forbidden', message: 'no' })).toEqual({ error: { code: 'forbidden', message: 'no' } });
    expect(parseSubscribeAck('ok')).toMatchObject({ error: { code: 'invalid_ack' } });
  });

  it('takes the order out of an order:update for this order only', () => {
    const update = { orderId: 'ord_1', status: 'S3', previousStatus: 'S2', version: 3, updatedAt: '', eventName: 'E', order: order(3) };
    expect(parseOrderUpdate(update, 'ord_1')).toEqual(order(3));
    expect(parseOrderUpdate({ ...update, orderId: 'ord_2', order: order(3, 'S3', 'ord_2') }, 'ord_1')).toBeUndefined();
    expect(parseOrderUpdate({ orderId: 'ord_1', status: 'S3' }, 'ord_1')).toBeUndefined();
  });
});
