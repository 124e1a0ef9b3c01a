import { withQuery, type Api } from './api.js';
import type { ListPage, OrderEvent } from './types.js';

/** More than any real order has; a guard against a server that keeps saying hasMore. */
const MAX_PAGES = 200;

/**
 * Reads an order's timeline from `GET /orders/{id}/events`, oldest first, following
 * `hasMore` with `afterVersion`. The first request sends no paging parameter, so it also
 * works against a server that answers the whole timeline in one list.
 */
export async function readTimeline(api: Api, orderId: string, afterVersion?: number): Promise<OrderEvent[]> {
  const path = `/api/v2/orders/${encodeURIComponent(orderId)}/events`;
  const events: OrderEvent[] = [];
  let after = afterVersion;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await api.get<ListPage<OrderEvent>>(after === undefined ? path : withQuery(path, { afterVersion: after }));
    const fresh = result.data.filter((e) => after === undefined || e.version > after);
    events.push(...fresh);
    if (!result.hasMore || fresh.length === 0) break;
    after = (fresh[fresh.length - 1] as OrderEvent).version;
  }
  return events;
}

/** Adds events to a timeline, once each, in version order. */
export function mergeTimeline(current: OrderEvent[], more: OrderEvent[]): OrderEvent[] {
  const byVersion = new Map(current.map((e) => [e.version, e]));
  for (const e of more) byVersion.set(e.version, e);
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}
