import { describe, expect, it } from 'vitest';
import { OrdercastError } from '../src/domain/errors.js';
import { assertInitialStatus, assertTransition, parseLifecycle } from '../src/domain/lifecycle.js';
import { onrampLifecycle, storeLifecycle } from '../src/domain/lifecycle-presets.js';

function problemsOf(input: unknown): string[] {
  try {
    parseLifecycle(input);
  } catch (error) {
    expect(error).toBeInstanceOf(OrdercastError);
    expect((error as OrdercastError).code).toBe('invalid_lifecycle');
    return (error as OrdercastError & { details: { problems: string[] } }).details.problems;
  }
  throw new Error('expected the lifecycle to be rejected');
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as OrdercastError).code;
  }
  return undefined;
}

describe('onramp preset (reference 000)', () => {
  it('has the statuses of the reference document, with COMPLETED, FAILED and CANCELLED final', () => {
    for (const s of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED', 'FAILED', 'CANCELLED']) expect(onrampLifecycle.statuses).toContain(s);
    expect([...onrampLifecycle.final].sort()).toEqual(['CANCELLED', 'COMPLETED', 'FAILED']);
  });

  it('names events ORDER_CREATED and ORDER_<STATUS>', () => {
    expect(onrampLifecycle.createdEventName).toBe('ORDER_CREATED');
    expect(onrampLifecycle.eventNames.COMPLETED).toBe('ORDER_COMPLETED');
    expect(onrampLifecycle.eventNames.PROCESSING).toBe('ORDER_PROCESSING');
    expect(onrampLifecycle.eventNames.PENDING_DELIVERY).toBe('ORDER_PENDING_DELIVERY');
  });

  it('allows the happy path and refuses to leave a final status', () => {
    expect(() => assertTransition(onrampLifecycle, 'PROCESSING', 'PENDING_DELIVERY')).not.toThrow();
    expect(() => assertTransition(onrampLifecycle, 'PENDING_DELIVERY', 'COMPLETED')).not.toThrow();
    expect(codeOf(() => assertTransition(onrampLifecycle, 'COMPLETED', 'PROCESSING'))).toBe('invalid_transition');
    expect(codeOf(() => assertTransition(onrampLifecycle, 'PROCESSING', 'NOPE'))).toBe('unknown_status');
  });
});

describe('store preset (reference 003)', () => {
  it('is new -> paid -> done, with canceled, and order_<status> event names', () => {
    expect(storeLifecycle.statuses).toEqual(['new', 'paid', 'done', 'canceled']);
    expect(storeLifecycle.initial).toEqual(['new']);
    expect([...storeLifecycle.final].sort()).toEqual(['canceled', 'done']);
    expect(storeLifecycle.eventNames).toEqual({ new: 'order_new', paid: 'order_paid', done: 'order_done', canceled: 'order_canceled' });
    expect(codeOf(() => assertTransition(storeLifecycle, 'new', 'done'))).toBe('invalid_transition');
    expect(codeOf(() => assertTransition(storeLifecycle, 'done', 'canceled'))).toBe('invalid_transition');
    expect(codeOf(() => assertInitialStatus(storeLifecycle, 'paid'))).toBe('invalid_initial_status');
  });

  it('names the allowed next statuses when a transition is refused', () => {
    try {
      assertTransition(storeLifecycle, 'new', 'done');
      throw new Error('not refused');
    } catch (error) {
      expect((error as OrdercastError).details).toEqual({ currentStatus: 'new', requestedStatus: 'done', allowedNextStatuses: ['paid', 'canceled'] });
    }
  });
});

describe('custom lifecycles', () => {
  const valid = {
    name: 'parcel',
    statuses: ['created', 'shipped', 'delivered', 'lost'],
    initial: ['created'],
    final: ['delivered', 'lost'],
    transitions: { created: ['shipped'], shipped: ['delivered', 'lost'] },
    eventNames: { shipped: 'parcel.shipped' },
  };

  it('accepts a valid definition and fills in default event names', () => {
    const lifecycle = parseLifecycle(valid);
    expect(lifecycle.eventNames).toEqual({
      created: 'order_created',
      shipped: 'parcel.shipped',
      delivered: 'order_delivered',
      lost: 'order_lost',
    });
    expect(lifecycle.transitions.delivered).toEqual([]);
  });

  it('rejects unknown statuses in transitions, initial and final', () => {
    const problems = problemsOf({
      ...valid,
      initial: ['nope'],
      final: ['delivered', 'gone'],
      transitions: { ...valid.transitions, created: ['shipped', 'teleported'] },
    });
    expect(problems).toContain('initial status "nope" is not in statuses');
    expect(problems).toContain('final status "gone" is not in statuses');
    expect(problems.some((p) => p.includes('"teleported" is not in statuses'))).toBe(true);
  });

  it('rejects unreachable statuses', () => {
    const problems = problemsOf({ ...valid, statuses: [...valid.statuses, 'orphan'], final: [...valid.final, 'orphan'] });
    expect(problems).toContain('status "orphan" is unreachable from the initial statuses');
  });

  it('rejects transitions out of final statuses', () => {
    const problems = problemsOf({ ...valid, transitions: { ...valid.transitions, delivered: ['shipped'] } });
    expect(problems).toContain('transitions: "delivered" is final and cannot have transitions');
  });

  it('rejects a non-final status with no way out, duplicates, and no final status', () => {
    expect(problemsOf({ ...valid, transitions: { created: ['shipped'] } })).toContain(
      'status "shipped" is not final but has no transitions out of it (orders would be stuck)',
    );
    expect(problemsOf({ ...valid, statuses: [...valid.statuses, 'lost'] })).toContain('status "lost" is listed twice');
    expect(problemsOf({ ...valid, final: [] })).toContain('final must list at least one status');
  });

  it('rejects wrong shapes with a clear message instead of crashing', () => {
    expect(problemsOf('not an object')).toEqual(['not an object']);
    expect(problemsOf({ statuses: 'a,b' })).toContain('statuses must be an array of strings');
    expect(problemsOf({ ...valid, transitions: [] })).toContain('transitions must be an object mapping a status to the statuses it may move to');
    expect(problemsOf({ ...valid, eventNames: { shipped: 42 } })).toContain('eventNames.shipped must be a string matching /^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/');
  });
});
