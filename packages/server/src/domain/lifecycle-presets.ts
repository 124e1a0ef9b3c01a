import { parseLifecycle, type Lifecycle } from './lifecycle.js';
import { onrampDisplay, storeDisplay } from './lifecycle-preset-labels.js';

/**
 * `onramp`: the fiat-to-crypto order lifecycle of reference document 000.
 * Final statuses are exactly the ones its polling snippet stops on.
 */
const onrampStatuses = ['AWAITING_PAYMENT_FROM_USER', 'PAYMENT_DONE_MARKED_BY_USER', 'PROCESSING', 'PENDING_DELIVERY', 'COMPLETED', 'FAILED', 'CANCELLED'];

export const onrampLifecycle: Lifecycle = parseLifecycle({
  name: 'onramp',
  statuses: onrampStatuses,
  initial: ['AWAITING_PAYMENT_FROM_USER', 'PROCESSING'],
  final: ['COMPLETED', 'FAILED', 'CANCELLED'],
  transitions: {
    AWAITING_PAYMENT_FROM_USER: ['PAYMENT_DONE_MARKED_BY_USER', 'PROCESSING', 'FAILED', 'CANCELLED'],
    PAYMENT_DONE_MARKED_BY_USER: ['PROCESSING', 'FAILED', 'CANCELLED'],
    PROCESSING: ['PENDING_DELIVERY', 'COMPLETED', 'FAILED', 'CANCELLED'],
    PENDING_DELIVERY: ['COMPLETED', 'FAILED'],
  },
  createdEventName: 'ORDER_CREATED',
  eventNames: Object.fromEntries(onrampStatuses.map((s) => [s, `ORDER_${s}`])),
  // Why each default (docs/timing.md has the longer story): a payment quote is held for about
  // half an hour; a bank transfer the user says is sent can take a couple of hours to land;
  // checks and the exchange are automatic, so half an hour means someone must look; the
  // chain's confirmations take minutes, an hour means the withdrawal is held up.
  expectedWithin: {
    AWAITING_PAYMENT_FROM_USER: '30m',
    PAYMENT_DONE_MARKED_BY_USER: '2h',
    PROCESSING: '30m',
    PENDING_DELIVERY: '1h',
  },
  display: onrampDisplay,
});

/** `store`: the in-game store order lifecycle of reference document 003. */
export const storeLifecycle: Lifecycle = parseLifecycle({
  name: 'store',
  statuses: ['new', 'paid', 'done', 'canceled'],
  initial: ['new'],
  final: ['done', 'canceled'],
  transitions: { new: ['paid', 'canceled'], paid: ['done', 'canceled'] },
  createdEventName: 'order_created',
  display: storeDisplay,
});

export const lifecyclePresets: Record<string, Lifecycle> = {
  onramp: onrampLifecycle,
  store: storeLifecycle,
};
