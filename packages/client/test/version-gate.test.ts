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
  expectedBy: null,
  eta: null,
  stuck: false,
  createdAt: '2026-11-22T21:00:00.000Z',
  updatedAt: '2026-11-22T21:00:00.000Z',
  statusHistory: [],
});

describe('VersionGate', () => {
  const withHistory = (version: number): Order => ({
    ...order(version),
    final: version === 7,
    statusHistory: Array.from({ length: version }, (_, i) => ({ status: `S${i + 1}`, reason: null, at: `t${i + 1}`, version: i + 1 })),
  });

  it('delivers each version once, oldest first, whatever the arrival order, and never an older after a newer', () => {
    const gate = new VersionGate();
    // A socket catch-up, long-poll answers and live events interleaved, with repeats and jumps.
    const arrivals = [1, 1, 3, 2, 3, 4, 2, 4, 6, 5, 6, 7];
    const delivered = arrivals.flatMap((v) => gate.admit(withHistory(v)));
    expect(delivered.map((o) => o.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(gate.version).toBe(7);
  });

  it('rebuilds skipped versions from statusHistory, none of them final', () => {
    const gate = new VersionGate();
    gate.admit(withHistory(2));
    const delivered = gate.admit(withHistory(7));
    expect(delivered.map((o) => [o.version, o.status, o.updatedAt, o.final, o.statusHistory.length])).toEqual([
      [3, 'S3', 't3', false, 3],
      [4, 'S4', 't4', false, 4],
      [5, 'S5', 't5', false, 5],
      [6, 'S6', 't6', false, 6],
      [7, 'S7', '2026-11-22T21:00:00.000Z', true, 7],
    ]);
  });

  it('starts from the current state, not a replay of the past', () => {
    expect(new VersionGate().admit(withHistory(5)).map((o) => o.version)).toEqual([5]);
  });
});

describe('the Socket.IO message shapes', () => {
  it('reads a subscribe ack as the current order or an error', () => {
    expect(parseSubscribeAck({ order: order(2) })).toEqual({ order: order(2) });
    expect(parseSubscribeAck(order(2))).toEqual({ order: order(2) });
    expect(parseSubscribeAck({ error: { code: 'order_not_found', message: 'No such order' } })).toEqual({
      error: { code: 'order_not_found', message: 'No such order' },
    });
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
