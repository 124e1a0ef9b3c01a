import { describe, expect, it } from 'vitest';
import { readable, relabel, viewOfOrder } from '../src/order-status-view.js';
import { stringsFor } from '../src/order-status-strings.js';
import type { Order } from '../src/types.js';

const order = (status: string, version: number, history: Array<[string, number]>, final = false): Order => ({
  id: 'ord_1',
  object: 'order',
  projectId: 'prj_1',
  externalId: null,
  userExternalId: 'u',
  amount: '10.00',
  currency: 'EUR',
  metadata: {},
  status,
  version,
  final,
  createdAt: '2026-12-07T10:00:00.000Z',
  updatedAt: `2026-12-07T10:0${version}:00.000Z`,
  statusHistory: history.map(([s, v]) => ({ status: s, reason: null, at: `2026-12-07T10:0${v}:00.000Z`, version: v })),
  expectedBy: null,
  eta: null,
  stuck: false,
});

const STEPS = ['AWAITING_PAYMENT_FROM_USER', 'PROCESSING', 'PENDING_DELIVERY', 'COMPLETED'];

describe('the element’s view of an order read with a user token', () => {
  it('labels statuses from `labels`, else readable words, and marks progress up to the current step', () => {
    const view = viewOfOrder(
      order('PROCESSING', 2, [['AWAITING_PAYMENT_FROM_USER', 1]]),
      undefined,
      { PROCESSING: { label: 'Preparing', description: 'Soon' } },
      STEPS,
    );
    expect(view.label).toBe('Preparing');
    expect(view.description).toBe('Soon');
    expect(view.steps.map((s) => `${s.label}${s.reached ? '+' : ''}${s.current ? '*' : ''}`)).toEqual([
      'Awaiting payment from user+',
      'Preparing+*',
      'Pending delivery',
      'Completed',
    ]);
    expect(view.timeline.map((t) => t.status)).toEqual(['AWAITING_PAYMENT_FROM_USER', 'PROCESSING']);
  });

  it('keeps the timeline it has seen as versions arrive, and a status off the happy path keeps the last step reached', () => {
    const first = viewOfOrder(order('AWAITING_PAYMENT_FROM_USER', 1, []), undefined, {}, STEPS);
    const second = viewOfOrder(order('PROCESSING', 2, []), first, {}, STEPS);
    const cancelled = viewOfOrder(order('CANCELLED', 3, []), second, {}, STEPS);
    expect(cancelled.timeline.map((t) => t.label)).toEqual(['Awaiting payment from user', 'Processing', 'Cancelled']);
    expect(cancelled.steps.filter((s) => s.current).map((s) => s.status)).toEqual(['PROCESSING']);
  });

  it('relabels a view without losing its timeline or progress', () => {
    const view = viewOfOrder(order('PROCESSING', 2, [['AWAITING_PAYMENT_FROM_USER', 1]]), undefined, {}, STEPS);
    const german = relabel(view, { PROCESSING: 'In Bearbeitung', AWAITING_PAYMENT_FROM_USER: 'Warten auf Zahlung' });
    expect(german.label).toBe('In Bearbeitung');
    expect(german.timeline.map((t) => t.label)).toEqual(['Warten auf Zahlung', 'In Bearbeitung']);
    expect(german.steps.filter((s) => s.reached).map((s) => s.label)).toEqual(['Warten auf Zahlung', 'In Bearbeitung']);
  });

  it('without steps shows no progress; readable() turns status names into words', () => {
    expect(viewOfOrder(order('new', 1, []), undefined).steps).toEqual([]);
    expect(readable('PENDING_DELIVERY')).toBe('Pending delivery');
    expect(readable('payment.done')).toBe('Payment done');
  });

  it('picks its own words by language, falling back to the nearest, then English', () => {
    expect(stringsFor('de-AT').locale).toBe('de');
    expect(stringsFor('pt').locale).toBe('pt-BR');
    expect(stringsFor('<script>').locale).toBe('en');
    expect(stringsFor('x'.repeat(10_000)).locale).toBe('en');
    expect(stringsFor(undefined).strings.name).toBe('Order status');
  });
});
