import { useEffect, useRef, useState } from 'preact/hooks';
import { withQuery } from '../api.js';
import { DeliveryList } from '../components/deliveries.js';
import { WholeText, curl, EmptyState, ErrorNotice } from '../components/ui.js';
import { canChange, useSession } from '../context.js';
import { formatTime } from '../format.js';
import type { ListPage, WebhookDelivery, WebhookEndpoint } from '../types.js';
import { useRefresh } from '../use-feed.js';
import { CursorPager } from '../components/cursor-pager.js';

/** Deliveries read to compute each endpoint's recent success rate. */
const RATE_SAMPLE = 100;
const DELIVERY_PAGE = 20;

function endpointState(e: WebhookEndpoint): { label: string; tone: string; detail?: string } {
  if (e.disabled) return { label: 'disabled', tone: 'muted', detail: e.disabledReason ?? undefined };
  if (e.failingSince) return { label: 'failing', tone: 'bad', detail: `failing since ${formatTime(e.failingSince)}` };
  return { label: 'enabled', tone: 'good' };
}

function parseEvents(text: string): string[] {
  const names = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length > 0 ? names : ['*'];
}

function EndpointForm(props: { initial?: WebhookEndpoint; onSaved(endpoint: WebhookEndpoint, secret?: string): void; onCancel?(): void }) {
  const { api, project } = useSession();
  const editing = props.initial !== undefined;
  const [url, setUrl] = useState(props.initial?.url ?? '');
  const [description, setDescription] = useState(props.initial?.description ?? '');
  const [events, setEvents] = useState((props.initial?.enabledEvents ?? ['*']).join(', '));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const prefix = props.initial ? `edit-${props.initial.id}` : 'new-endpoint';

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    try {
      const body = { url: url.trim(), description, enabledEvents: parseEvents(events) };
      if (props.initial) {
        props.onSaved(await api.request<WebhookEndpoint>('PATCH', `/api/v2/webhook-endpoints/${encodeURIComponent(props.initial.id)}`, { body }));
      } else {
        const created = await api.post<WebhookEndpoint & { secret: string }>('/api/v2/webhook-endpoints', body);
        setUrl('');
        setDescription('');
        setEvents('*');
        props.onSaved(created, created.secret);
      }
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const eventNames = ['*', project.lifecycle.createdEventName, ...Object.values(project.lifecycle.eventNames)];
  return (
    <form class="panel endpoint-form" onSubmit={submit} aria-label={editing ? 'Edit endpoint' : 'Add an endpoint'}>
      <div class="filters">
        <div class="field grow">
          <label for={`${prefix}-url`}>Endpoint URL</label>
          <input
            id={`${prefix}-url`}
            type="url"
            required
            maxLength={2048}
            placeholder="https://example.com/webhooks/ordercast"
            value={url}
            onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field grow">
          <label for={`${prefix}-description`}>Description</label>
          <input id={`${prefix}-description`} maxLength={500} value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field grow">
          <label for={`${prefix}-events`}>Events (comma-separated, * for all)</label>
          <input id={`${prefix}-events`} list={`${prefix}-event-names`} value={events} onInput={(e) => setEvents((e.target as HTMLInputElement).value)} />
          <datalist id={`${prefix}-event-names`}>
            {eventNames.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
        </div>
        <div class="field buttons">
          <button type="submit" disabled={busy}>
            {editing ? 'Save' : 'Add endpoint'}
          </button>
          {props.onCancel && (
            <button type="button" class="secondary" onClick={props.onCancel}>
              Cancel
            </button>
          )}
        </div>
      </div>
      {error !== undefined && <ErrorNotice error={error} />}
    </form>
  );
}

function EndpointCard(props: { endpoint: WebhookEndpoint; rate?: { ok: number; total: number }; onChanged(): void; onShowDeliveries(): void }) {
  const session = useSession();
  const { api } = session;
  const writable = canChange(session);
  const e = props.endpoint;
  const state = endpointState(e);
  const [editing, setEditing] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  const [secret, setSecret] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const [since, setSince] = useState(() => new Date(Date.now() - 24 * 3600_000).toISOString().slice(0, 16));
  const path = `/api/v2/webhook-endpoints/${encodeURIComponent(e.id)}`;

  async function act(work: () => Promise<string | undefined>) {
    setMessage(undefined);
    try {
      setMessage(await work());
      setError(undefined);
      props.onChanged();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <li class="panel endpoint" data-endpoint-id={e.id}>
      <div class="page-head">
        <strong class="whole endpoint-url" title={e.url}>
          {e.url}
        </strong>
        <span class={`badge tone-${state.tone}`} data-field="endpoint-state">
          {state.label}
        </span>
        {state.detail && <span class="muted small whole">{state.detail}</span>}
      </div>
      <p class="small muted">
        <WholeText text={e.description || 'No description'} /> · events <WholeText text={e.enabledEvents.join(', ')} class="mono" /> · id{' '}
        <span class="mono">{e.id}</span> ·{' '}
        {props.rate && props.rate.total > 0
          ? `${Math.round((props.rate.ok / props.rate.total) * 100)}% delivered of the last ${props.rate.total} finished deliveries`
          : 'no finished delivery yet'}
      </p>
      <div class="actions">
        <button type="button" class="secondary small" onClick={props.onShowDeliveries}>
          Deliveries
        </button>
        {writable && (
          <>
            <button type="button" class="secondary small" onClick={() => act(async () => (await api.post(`${path}/test`), 'Test event queued.'))}>
              Send test
            </button>
            <button type="button" class="secondary small" onClick={() => setEditing(!editing)} aria-expanded={editing}>
              Edit
            </button>
            <button
              type="button"
              class="secondary small"
              onClick={() =>
                act(async () => {
                  await api.request('PATCH', path, { body: { disabled: !e.disabled } });
                  return e.disabled ? 'Enabled again: use Recover to re-send what failed meanwhile.' : 'Disabled: nothing more is sent to it.';
                })
              }
            >
              {e.disabled ? 'Enable' : 'Disable'}
            </button>
            <button
              type="button"
              class="secondary small"
              onClick={() =>
                act(async () => {
                  if (!confirm('Rotate the signing secret? The old one keeps working for 24 hours.')) return undefined;
                  const rotated = await api.post<{ secret: string; previousSecretExpiresAt: string }>(`${path}/rotate-secret`, {});
                  setSecret(rotated.secret);
                  return `The old secret works until ${formatTime(rotated.previousSecretExpiresAt)}.`;
                })
              }
            >
              Rotate secret
            </button>
            <button
              type="button"
              class="danger small"
              onClick={() =>
                act(async () => {
                  if (!confirm(`Delete the endpoint ${e.url} and its delivery log?`)) return undefined;
                  await api.request('DELETE', path);
                  return undefined;
                })
              }
            >
              Delete
            </button>
          </>
        )}
      </div>
      {writable && (
        <form
          class="move recover"
          aria-label="Recover failed deliveries"
          onSubmit={(event) => {
            event.preventDefault();
            void act(async () => {
              const result = await api.post<{ requeued: number }>(`${path}/recover`, { since: new Date(since).toISOString() });
              return `${result.requeued} failed ${result.requeued === 1 ? 'delivery' : 'deliveries'} queued again.`;
            });
          }}
        >
          <div class="field">
            <label for={`recover-${e.id}`}>Re-send what failed since</label>
            <input id={`recover-${e.id}`} type="datetime-local" value={since} required onInput={(ev) => setSince((ev.target as HTMLInputElement).value)} />
          </div>
          <div class="field buttons">
            <button type="submit" class="secondary small">
              Recover
            </button>
          </div>
        </form>
      )}
      {secret && (
        <p class="notice secret" role="status">
          New signing secret, shown once: <code>{secret}</code>
        </p>
      )}
      {message && (
        <p class="notice ok" role="status">
          {message}
        </p>
      )}
      {error !== undefined && <ErrorNotice error={error} />}
      {editing && (
        <EndpointForm
          initial={e}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            props.onChanged();
          }}
        />
      )}
    </li>
  );
}

interface DeliveryFilters {
  endpointId: string;
  status: string;
  orderId: string;
}

export function WebhooksPage() {
  const session = useSession();
  const { api, origin } = session;
  const [endpoints, setEndpoints] = useState<WebhookEndpoint[] | undefined>();
  const [rates, setRates] = useState<Record<string, { ok: number; total: number }>>({});
  const [newSecret, setNewSecret] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const [filters, setFilters] = useState<DeliveryFilters>({ endpointId: '', status: '', orderId: '' });
  const [draftOrder, setDraftOrder] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [deliveries, setDeliveries] = useState<ListPage<WebhookDelivery> | undefined>();
  const deliveriesHeading = useRef<HTMLHeadingElement>(null);

  async function loadEndpoints() {
    try {
      const [list, sample] = await Promise.all([
        api.get<ListPage<WebhookEndpoint>>('/api/v2/webhook-endpoints'),
        api.get<ListPage<WebhookDelivery>>(withQuery('/api/v2/webhook-deliveries', { limit: RATE_SAMPLE })),
      ]);
      const counted: Record<string, { ok: number; total: number }> = {};
      for (const d of sample.data) {
        if (d.status === 'pending') continue;
        const r = (counted[d.endpointId] ??= { ok: 0, total: 0 });
        r.total += 1;
        if (d.status === 'succeeded') r.ok += 1;
      }
      setEndpoints(list.data);
      setRates(counted);
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  }

  async function loadDeliveries() {
    try {
      setDeliveries(await api.get<ListPage<WebhookDelivery>>(withQuery('/api/v2/webhook-deliveries', { limit: DELIVERY_PAGE, cursor, ...filters })));
    } catch (e) {
      setError(e);
    }
  }

  useEffect(() => {
    void loadEndpoints();
  }, []);
  useEffect(() => {
    void loadDeliveries();
  }, [filters, cursor]);
  // Deliveries are not in the event feed: a short refresh shows retries and re-sends as they happen.
  useRefresh(() => {
    void loadDeliveries();
    void loadEndpoints();
  }, 3000);

  function setFilter(next: Partial<DeliveryFilters>) {
    setCursors([]);
    setCursor(undefined);
    setFilters({ ...filters, ...next });
  }

  return (
    <section aria-labelledby="webhooks-title">
      <div class="page-head">
        <h1 id="webhooks-title">Webhooks</h1>
        <span class="muted small">Signed POSTs (Standard Webhooks) of every order event to your endpoints.</span>
      </div>
      {error !== undefined && <ErrorNotice error={error} onRetry={() => void loadEndpoints()} />}

      <h2>Endpoints</h2>
      {endpoints && endpoints.length === 0 && (
        <EmptyState
          title="No endpoint yet. Add one below, or with:"
          curl={curl(origin, 'POST', '/api/v2/webhook-endpoints', { url: 'https://example.com/webhooks/ordercast' })}
        />
      )}
      {endpoints && endpoints.length > 0 && (
        <ul class="endpoints">
          {endpoints.map((e) => (
            <EndpointCard
              key={e.id}
              endpoint={e}
              rate={rates[e.id]}
              onChanged={() => {
                void loadEndpoints();
                void loadDeliveries();
              }}
              onShowDeliveries={() => {
                setFilter({ endpointId: e.id });
                deliveriesHeading.current?.focus();
              }}
            />
          ))}
        </ul>
      )}
      {newSecret && (
        <p class="notice secret" role="status">
          Endpoint added. Its signing secret, shown once: <code>{newSecret}</code>
        </p>
      )}
      {canChange(session) && (
        <EndpointForm
          onSaved={(_endpoint, secret) => {
            setNewSecret(secret);
            void loadEndpoints();
          }}
        />
      )}

      <h2 id="deliveries-title" ref={deliveriesHeading} tabIndex={-1}>
        Deliveries
      </h2>
      <form
        class="filters"
        role="search"
        aria-label="Filter deliveries"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter({ orderId: draftOrder.trim() });
        }}
      >
        <div class="field">
          <label for="delivery-endpoint">Endpoint</label>
          <select id="delivery-endpoint" value={filters.endpointId} onChange={(e) => setFilter({ endpointId: (e.target as HTMLSelectElement).value })}>
            <option value="">All endpoints</option>
            {(endpoints ?? []).map((e) => (
              <option key={e.id} value={e.id}>
                {e.url.length > 60 ? `${e.url.slice(0, 59)}…` : e.url}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="delivery-status">Status</label>
          <select id="delivery-status" value={filters.status} onChange={(e) => setFilter({ status: (e.target as HTMLSelectElement).value })}>
            <option value="">Any status</option>
            <option value="pending">pending</option>
            <option value="succeeded">succeeded</option>
            <option value="failed">failed</option>
          </select>
        </div>
        <div class="field">
          <label for="delivery-order">Order id</label>
          <input id="delivery-order" value={draftOrder} placeholder="ord_…" onInput={(e) => setDraftOrder((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field buttons">
          <button type="submit">Filter</button>
        </div>
      </form>
      {deliveries && deliveries.data.length === 0 && (
        <EmptyState
          title="No delivery matches. Deliveries appear when an order changes while an endpoint is subscribed, or send a test:"
          curl={curl(origin, 'POST', `/api/v2/webhook-endpoints/${filters.endpointId || '<endpoint id>'}/test`)}
        />
      )}
      {deliveries && deliveries.data.length > 0 && <DeliveryList deliveries={deliveries.data} endpoints={endpoints} onChanged={() => void loadDeliveries()} />}
      {deliveries && (cursor !== undefined || deliveries.hasMore) && (
        <CursorPager
          label="Pages of deliveries"
          cursor={cursor}
          cursors={cursors}
          nextCursor={deliveries.nextCursor}
          hasMore={deliveries.hasMore}
          onMove={(next, stack) => {
            setCursors(stack);
            setCursor(next);
          }}
        />
      )}
    </section>
  );
}
