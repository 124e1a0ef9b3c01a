import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, withQuery } from '../api.js';
import { DeliveryList, isNotFound } from '../components/deliveries.js';
import { LifecycleDiagram } from '../components/lifecycle-diagram.js';
import { CopyableId, ErrorNotice, Link, StatusBadge, StuckMark, WholeText } from '../components/ui.js';
import { NoDeliveries } from '../components/no-deliveries.js';
import { OrderMetadata } from '../components/order-metadata.js';
import { canChange, useSession } from '../context.js';
import { describeActor, formatAmount, formatTime } from '../format.js';
import { mergeTimeline, readTimeline } from '../timeline.js';
import type { ListPage, Order, OrderEvent, WebhookDelivery, WebhookEndpoint } from '../types.js';
import { useFeed, useRefresh } from '../use-feed.js';

function MoveForm(props: { order: Order; onMoved(order: Order): void }) {
  const { api, project } = useSession();
  const { order } = props;
  const allowed = project.lifecycle.transitions[order.status] ?? [];
  const [status, setStatus] = useState(allowed[0] ?? '');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string | undefined>();

  useEffect(() => {
    if (!allowed.includes(status)) setStatus(allowed[0] ?? '');
  }, [order.status]);

  if (allowed.length === 0) {
    return <p class="muted">{order.status} is a final status: this order does not move any more.</p>;
  }

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setDone(undefined);
    try {
      const moved = await api.post<Order>(`/api/v2/orders/${encodeURIComponent(order.id)}/status`, {
        status,
        ...(reason.trim() ? { reason: reason.trim() } : {}),
        // Someone else moving the order meanwhile is a conflict to see, not an update to overwrite.
        expectedVersion: order.version,
      });
      setError(undefined);
      setReason('');
      setDone(`Moved to ${moved.status} (version ${moved.version}).`);
      props.onMoved(moved);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="move" onSubmit={submit} aria-label="Change the status">
      <div class="field">
        <label for="next-status">Next status</label>
        <select id="next-status" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
          {allowed.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <div class="field grow">
        <label for="move-reason">Reason (optional)</label>
        <input
          id="move-reason"
          value={reason}
          maxLength={1000}
          placeholder="e.g. card authorised"
          onInput={(e) => setReason((e.target as HTMLInputElement).value)}
        />
      </div>
      <div class="field buttons">
        <button type="submit" disabled={busy || !status}>
          {busy ? 'Moving…' : 'Move'}
        </button>
      </div>
      {done && (
        <p class="notice ok" role="status">
          {done}
        </p>
      )}
      {error !== undefined && <ErrorNotice error={error} />}
    </form>
  );
}

export function OrderPage(props: { id: string }) {
  const session = useSession();
  const { api, project, origin } = session;
  const [order, setOrder] = useState<Order | undefined>();
  const [timeline, setTimeline] = useState<OrderEvent[]>([]);
  const [deliveries, setDeliveries] = useState<WebhookDelivery[] | undefined>();
  const [endpoints, setEndpoints] = useState<WebhookEndpoint[] | undefined>();
  const [error, setError] = useState<unknown>();
  const [missing, setMissing] = useState(false);
  const timelineRef = useRef<OrderEvent[]>([]);
  timelineRef.current = timeline;

  async function loadDeliveries() {
    try {
      // The endpoints too: rows name their URL, and an empty list is explained by them.
      const [page, endpointPage] = await Promise.all([
        api.get<ListPage<WebhookDelivery>>(withQuery('/api/v2/webhook-deliveries', { orderId: props.id, limit: 50 })),
        api.get<ListPage<WebhookEndpoint>>('/api/v2/webhook-endpoints'),
      ]);
      setEndpoints(endpointPage.data);
      setDeliveries(page.data);
    } catch {
      // The order itself is what this page is about; deliveries show again on the next refresh.
    }
  }

  async function load() {
    try {
      const [current, events] = await Promise.all([api.get<Order>(`/api/v2/orders/${encodeURIComponent(props.id)}`), readTimeline(api, props.id)]);
      setOrder(current);
      setTimeline(events);
      setMissing(false);
      setError(undefined);
      void loadDeliveries();
    } catch (e) {
      if (isNotFound(e) && e instanceof ApiError && e.code === 'order_not_found') setMissing(true);
      else setError(e);
    }
  }

  /** Newer events than the timeline holds (after a move, or a feed event that skipped a version). */
  async function loadTail() {
    const last = timelineRef.current[timelineRef.current.length - 1];
    try {
      const more = last ? await readTimeline(api, props.id, last.version) : await readTimeline(api, props.id);
      setTimeline((t) => mergeTimeline(t, more));
    } catch {
      // The live feed or the next resync fills the gap.
    }
  }

  useEffect(() => {
    setOrder(undefined);
    setTimeline([]);
    setDeliveries(undefined);
    setMissing(false);
    void load();
  }, [props.id]);

  useFeed({
    resync: () => void load(),
    events: (events) => {
      const mine = events.filter((e) => e.orderId === props.id);
      if (mine.length === 0) return;
      const latest = mine[mine.length - 1]!.data;
      setOrder((o) => (o && o.version >= latest.version ? o : latest));
      const known = timelineRef.current[timelineRef.current.length - 1]?.version ?? 0;
      const ordered = mine.map(({ data: _data, ...event }) => event as OrderEvent);
      if (ordered[0] && ordered[0].version === known + 1) setTimeline((t) => mergeTimeline(t, ordered));
      else void loadTail();
      // A change queues webhooks: show them without waiting for the refresh.
      setTimeout(() => void loadDeliveries(), 1500);
    },
  });
  useRefresh(() => void loadDeliveries(), 5000);

  if (missing) {
    return (
      <section class="empty" role="status" data-testid="order-not-found">
        <h1>Order not found</h1>
        <p>
          No order <code class="whole">{props.id}</code> in this project: it was deleted, belongs to another project, or the id is mistyped.
        </p>
        <p>
          <Link to="/">Back to the orders</Link>
        </p>
      </section>
    );
  }
  if (error !== undefined && !order) return <ErrorNotice error={error} onRetry={() => void load()} />;
  if (!order) return <p aria-busy="true">Loading the order…</p>;

  const visited = timeline.map((e) => e.toStatus);
  return (
    <section aria-labelledby="order-title">
      <p class="small">
        <Link to="/">← Orders</Link>
      </p>
      <div class="page-head">
        <h1 id="order-title">
          <WholeText text={order.externalId ?? order.id} />
        </h1>
        <StatusBadge status={order.status} />
        <StuckMark order={order} />
        <span class="muted small">version {order.version}</span>
      </div>
      {error !== undefined && <ErrorNotice error={error} onRetry={() => void load()} />}
      <dl class="facts">
        <div class="wide">
          <dt>Order id</dt>
          <dd>
            <CopyableId id={order.id} label="order id" />
          </dd>
        </div>
        <div class="wide">
          <dt>Reference</dt>
          <dd>
            <WholeText text={order.externalId} />
          </dd>
        </div>
        <div class="wide">
          <dt>User</dt>
          <dd>
            <WholeText text={order.userExternalId} />
          </dd>
        </div>
        <div>
          <dt>Amount</dt>
          <dd>
            <WholeText text={formatAmount(order.amount, order.currency)} />
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatTime(order.createdAt)}</dd>
        </div>
        <div>
          <dt>Last change</dt>
          <dd>{formatTime(order.updatedAt)}</dd>
        </div>
        {order.expectedBy && (
          <div>
            <dt>Expected to move by</dt>
            <dd data-field="expected-by">{formatTime(order.expectedBy)}</dd>
          </div>
        )}
        {order.eta && (
          <div>
            <dt>Expected to complete by</dt>
            <dd data-field="eta">{formatTime(order.eta)}</dd>
          </div>
        )}
      </dl>

      <h2 id="lifecycle-title">Lifecycle</h2>
      <div class="legend" aria-hidden="true">
        <span>■ current status</span>
        <span>┅ allowed next</span>
        <span>▣ final</span>
      </div>
      <LifecycleDiagram lifecycle={project.lifecycle} current={order.status} visited={visited} />
      <div class="panel">
        {canChange(session) ? (
          <MoveForm
            order={order}
            onMoved={(moved) => {
              setOrder((o) => (o && o.version >= moved.version ? o : moved));
              void loadTail();
            }}
          />
        ) : (
          <p class="muted" data-testid="viewer-note">
            You are signed in as a viewer: you can follow this order, not move it.
          </p>
        )}
      </div>

      <h2 id="timeline-title">Timeline</h2>
      <table class="list timeline" aria-labelledby="timeline-title">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">From → to</th>
            <th scope="col">Reason</th>
            <th scope="col">By</th>
            <th scope="col" class="num">
              Version
            </th>
          </tr>
        </thead>
        <tbody>
          {timeline.map((e) => (
            <tr key={e.version} data-version={e.version}>
              <td data-label="Time">{formatTime(e.createdAt)}</td>
              <td data-label="Event">
                <WholeText text={e.eventName} class="mono" />
              </td>
              <td data-label="From → to">
                <span class="transition">
                  {e.type === 'order.stuck' ? (
                    <>
                      still <StatusBadge status={e.toStatus} />, past its expected time
                    </>
                  ) : e.fromStatus ? (
                    <>
                      <StatusBadge status={e.fromStatus} /> → <StatusBadge status={e.toStatus} />
                    </>
                  ) : (
                    <>
                      created as <StatusBadge status={e.toStatus} />
                    </>
                  )}
                </span>
              </td>
              <td data-label="Reason">
                <WholeText text={e.reason} />
              </td>
              <td data-label="By">
                <WholeText text={describeActor(e.actor)} class="mono small" />
              </td>
              <td data-label="Version" class="num">
                {e.version}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2 id="metadata-title">Metadata</h2>
      <OrderMetadata metadata={order.metadata} />

      <h2>Webhook deliveries</h2>
      {deliveries && deliveries.length === 0 && endpoints && (
        <NoDeliveries order={order} endpoints={endpoints} eventNames={timeline.map((e) => e.eventName)} origin={origin} />
      )}
      {deliveries && deliveries.length > 0 && <DeliveryList deliveries={deliveries} endpoints={endpoints} onChanged={() => void loadDeliveries()} />}
    </section>
  );
}
