import { describe, expect, it } from 'vitest';
import type { OrderEvent } from '../src/domain/order.js';
import { OrderedDelivery } from '../src/realtime/ordered-delivery.js';

// One subscription's stream, by Centrifuge's rule: skip what is stale, send what is next, read the log on a gap. The usual event
// (the next one, nothing queued before it) goes out during `offer` itself.

const eventAt = (version: number) => ({ id: `evt_${version}`, version }) as OrderEvent;

function subscription(log: OrderEvent[]) {
  const delivered: number[] = [];
  const errors: unknown[] = [];
  let reads = 0;
  let failOn: number | undefined;
  const delivery = new OrderedDelivery({
    positionOf: (event) => event.version,
    readAfter: async (position) => {
      reads++;
      return log.filter((e) => e.version > position);
    },
    deliver: (event) => {
      if (event.version === failOn) throw new Error('socket gone');
      delivered.push(event.version);
    },
    onError: (error) => errors.push(error),
  });
  return { delivery, delivered, errors, reads: () => reads, failOn: (version: number) => (failOn = version) };
}

describe('OrderedDelivery', () => {
  it('delivers the next event during offer and drops repeats, reading nothing', async () => {
    const s = subscription([]);
    s.delivery.start(1);
    s.delivery.offer(eventAt(2));
    expect(s.delivered).toEqual([2]);
    s.delivery.offer(eventAt(2));
    s.delivery.offer(eventAt(1));
    s.delivery.offer(eventAt(3));
    await s.delivery.idle();
    expect(s.delivered).toEqual([2, 3]);
    expect(s.reads()).toBe(0);
  });

  it('reads the log on a gap, and keeps what arrives meanwhile in order behind it', async () => {
    const log = [2, 3, 4, 5].map(eventAt);
    const s = subscription(log);
    s.delivery.start(1);
    s.delivery.offer(eventAt(4));
    // Queued behind the fill, not sent ahead of it.
    s.delivery.offer(eventAt(5));
    expect(s.delivered).toEqual([]);
    await s.delivery.idle();
    expect(s.delivered).toEqual([2, 3, 4, 5]);
    s.delivery.offer(eventAt(6));
    expect(s.delivered).toEqual([2, 3, 4, 5, 6]);
  });

  it('on a gap the log holds no event for (pruned), goes on from what the log has', async () => {
    const s = subscription([5, 6].map(eventAt));
    s.delivery.start(1);
    s.delivery.offer(eventAt(6));
    await s.delivery.idle();
    expect(s.delivered).toEqual([5, 6]);
    s.delivery.offer(eventAt(7));
    expect(s.delivered).toEqual([5, 6, 7]);
  });

  it('holds events offered before start, then delivers them after the starting point', async () => {
    const s = subscription([]);
    s.delivery.offer(eventAt(3));
    s.delivery.offer(eventAt(4));
    expect(s.delivered).toEqual([]);
    s.delivery.start(3);
    await s.delivery.idle();
    expect(s.delivered).toEqual([4]);
  });

  it('reports a failed delivery and goes on with the next event; closed, it delivers nothing', async () => {
    const s = subscription([]);
    s.delivery.start(0);
    s.failOn(1);
    s.delivery.offer(eventAt(1));
    s.delivery.offer(eventAt(2));
    expect(s.errors).toHaveLength(1);
    expect(s.delivered).toEqual([2]);
    s.delivery.close();
    s.delivery.offer(eventAt(3));
    await s.delivery.idle();
    expect(s.delivered).toEqual([2]);
  });
});
