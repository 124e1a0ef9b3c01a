import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, withQuery } from '../api.js';
import { WholeText, curl, EmptyState, ErrorNotice, Link, StatusBadge, StuckMark } from '../components/ui.js';
import { useSession } from '../context.js';
import { formatAgo, formatAmount, formatTime } from '../format.js';
import type { FeedEvent, ListPage, Order } from '../types.js';
import { useFeed } from '../use-feed.js';
import { CursorPager } from '../components/cursor-pager.js';

const PAGE_SIZE = 25;

interface Filters {
  /** An order id: the list is that one order (the API lists by the other fields; an id is read directly). */
  id: string;
  status: string;
  externalId: string;
  userExternalId: string;
}

const NO_FILTERS: Filters = { id: '', status: '', externalId: '', userExternalId: '' };

function matches(order: Order, filters: Filters, stuckOnly = false): boolean {
  return (
    (!stuckOnly || order.stuck) &&
    (!filters.id || order.id === filters.id) &&
    (!filters.status || order.status === filters.status) &&
    (!filters.externalId || order.externalId === filters.externalId) &&
    (!filters.userExternalId || order.userExternalId === filters.userExternalId)
  );
}

/** `stuckOnly`: the Stuck view, orders past their expected time (`?stuck=true`), with the same filters. */
export function OrdersPage(props: { stuckOnly?: boolean } = {}) {
  const stuckOnly = props.stuckOnly === true;
  const { api, project, origin } = useSession();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  // Cursors of the pages before this one; empty on the first (newest) page, the only one new orders join.
  const [cursors, setCursors] = useState<string[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [page, setPage] = useState<ListPage<Order> | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [changed, setChanged] = useState<Record<string, number>>({});
  const [, tick] = useState(0);
  const request = useRef(0);

  /** The order with this id as a page of one (or none), filtered like the list. */
  async function oneOrder(orderId: string): Promise<ListPage<Order>> {
    try {
      const order = await api.get<Order>(`/api/v2/orders/${encodeURIComponent(orderId)}`);
      return { object: 'list', data: matches(order, filters, stuckOnly) ? [order] : [], hasMore: false };
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return { object: 'list', data: [], hasMore: false };
      throw e;
    }
  }

  async function load() {
    const id = ++request.current;
    setLoading(true);
    try {
      const { id: orderId, ...listFilters } = filters;
      const result = orderId
        ? await oneOrder(orderId)
        : await api.get<ListPage<Order>>(withQuery('/api/v2/orders', { limit: PAGE_SIZE, cursor, ...listFilters, ...(stuckOnly ? { stuck: 'true' } : {}) }));
      if (id !== request.current) return;
      setPage(result);
      setError(undefined);
    } catch (e) {
      if (id === request.current) setError(e);
    } finally {
      if (id === request.current) setLoading(false);
    }
  }

  useEffect(() => {
    void load();
  }, [filters, cursor, stuckOnly]);

  // "12 s ago" stays true without a reload.
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 10_000);
    return () => clearInterval(timer);
  }, []);

  useFeed({
    resync: () => void load(),
    events: (events: FeedEvent[]) => {
      setPage((current) => {
        if (!current) return current;
        let data = current.data;
        let hasMore = current.hasMore;
        const marks: Record<string, number> = {};
        for (const event of events) {
          const order = event.data;
          const index = data.findIndex((o) => o.id === order.id);
          if (index >= 0) {
            if ((data[index] as Order).version < order.version) {
              data = data.map((o, i) => (i === index ? order : o));
              marks[order.id] = order.version;
            }
          } else if (
            (stuckOnly ? event.type === 'order.stuck' : event.type === 'order.created') &&
            cursors.length === 0 &&
            cursor === undefined &&
            matches(order, filters, stuckOnly)
          ) {
            data = [order, ...data];
            marks[order.id] = order.version;
            if (data.length > PAGE_SIZE) {
              data = data.slice(0, PAGE_SIZE);
              hasMore = true;
            }
          }
        }
        if (Object.keys(marks).length > 0) setChanged((c) => ({ ...c, ...marks }));
        return data === current.data ? current : { ...current, data, hasMore };
      });
    },
  });

  function applyFilters(event: Event) {
    event.preventDefault();
    setCursors([]);
    setCursor(undefined);
    setFilters({ id: draft.id.trim(), status: draft.status, externalId: draft.externalId.trim(), userExternalId: draft.userExternalId.trim() });
  }

  function clearFilters() {
    setDraft(NO_FILTERS);
    setCursors([]);
    setCursor(undefined);
    setFilters(NO_FILTERS);
  }

  const filtered = filters.id !== '' || filters.status !== '' || filters.externalId !== '' || filters.userExternalId !== '';

  return (
    <section aria-labelledby="orders-title">
      <div class="page-head">
        <h1 id="orders-title">{stuckOnly ? 'Stuck orders' : 'Orders'}</h1>
        <span class="muted small">
          {stuckOnly
            ? 'Orders still in a status past its expected time (the lifecycle’s expectedWithin), newest first. They appear as they get stuck.'
            : 'Newest first. New orders and status changes appear as they happen.'}
        </span>
      </div>
      <form class="filters" onSubmit={applyFilters} role="search" aria-label="Filter orders">
        <div class="field">
          <label for="filter-status">Status</label>
          <select id="filter-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: (e.target as HTMLSelectElement).value })}>
            <option value="">Any status</option>
            {project.lifecycle.statuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-reference">Reference</label>
          <input
            id="filter-reference"
            value={draft.externalId}
            placeholder="externalId"
            onInput={(e) => setDraft({ ...draft, externalId: (e.target as HTMLInputElement).value })}
          />
        </div>
        <div class="field">
          <label for="filter-id">Order id</label>
          <input id="filter-id" value={draft.id} placeholder="ord_…" onInput={(e) => setDraft({ ...draft, id: (e.target as HTMLInputElement).value })} />
        </div>
        <div class="field">
          <label for="filter-user">User</label>
          <input
            id="filter-user"
            value={draft.userExternalId}
            placeholder="userExternalId"
            onInput={(e) => setDraft({ ...draft, userExternalId: (e.target as HTMLInputElement).value })}
          />
        </div>
        <div class="field buttons">
          <button type="submit">Filter</button>
          {filtered && (
            <button type="button" class="secondary" onClick={clearFilters}>
              Clear
            </button>
          )}
        </div>
      </form>

      {error !== undefined && <ErrorNotice error={error} onRetry={() => void load()} />}

      {page &&
        page.data.length === 0 &&
        !loading &&
        (filtered ? (
          <EmptyState
            title={filters.id ? `No order ${filters.id} in this project matches these filters.` : 'No order matches these filters.'}
            curl={curl(
              origin,
              'GET',
              filters.id ? `/api/v2/orders/${encodeURIComponent(filters.id)}` : withQuery('/api/v2/orders', { ...filters, id: undefined }),
            )}
          />
        ) : stuckOnly ? (
          <EmptyState title="No stuck orders: every open order is within its expected time." curl={curl(origin, 'GET', '/api/v2/orders?stuck=true')} />
        ) : (
          <EmptyState
            title="No orders yet. Create one through the API and it appears here at once:"
            curl={curl(origin, 'POST', '/api/v2/orders', { externalId: 'demo-1', userExternalId: 'user-1', amount: '25.00', currency: 'EUR' })}
          />
        ))}

      {page && page.data.length > 0 && (
        <table class="list orders" aria-busy={loading}>
          <thead>
            <tr>
              <th scope="col">Reference</th>
              <th scope="col">Order id</th>
              <th scope="col">User</th>
              <th scope="col">Amount</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Version
              </th>
              <th scope="col">Last change</th>
            </tr>
          </thead>
          <tbody>
            {page.data.map((order) => (
              <tr key={order.id} data-order-id={order.id} class={changed[order.id] === order.version ? 'changed' : undefined}>
                <td data-label="Reference">
                  <Link to={`/orders/${order.id}`} class="row-link">
                    <WholeText text={order.externalId ?? '(no reference)'} />
                  </Link>
                </td>
                <td data-label="Order id">
                  <WholeText text={order.id} class="mono" />
                </td>
                <td data-label="User">
                  <WholeText text={order.userExternalId} />
                </td>
                <td data-label="Amount">
                  <WholeText text={formatAmount(order.amount, order.currency)} />
                </td>
                <td data-label="Status">
                  <StatusBadge status={order.status} /> <StuckMark order={order} />
                </td>
                <td data-label="Version" class="num" data-field="version">
                  {order.version}
                </td>
                <td data-label="Last change">
                  <time dateTime={order.updatedAt} title={formatTime(order.updatedAt)}>
                    {formatAgo(order.updatedAt)}
                  </time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {page && (cursors.length > 0 || cursor !== undefined || page.hasMore) && (
        <CursorPager
          label="Pages of orders"
          cursor={cursor}
          cursors={cursors}
          nextCursor={page.nextCursor}
          hasMore={page.hasMore}
          onMove={(next, stack) => {
            setCursors(stack);
            setCursor(next);
          }}
        />
      )}
    </section>
  );
}
