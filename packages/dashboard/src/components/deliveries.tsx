import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { canChange, useSession } from '../context.js';
import { formatTime } from '../format.js';
import type { WebhookDelivery, WebhookDeliveryWithAttempts, WebhookEndpoint } from '../types.js';
import { WholeText, ErrorNotice, Link } from './ui.js';

const DELIVERY_TONE: Record<WebhookDelivery['status'], string> = { pending: 'busy', succeeded: 'good', failed: 'bad' };

function Attempts(props: { delivery: WebhookDelivery; onChanged(): void }) {
  const session = useSession();
  const { api } = session;
  const { delivery } = props;
  const [detail, setDetail] = useState<WebhookDeliveryWithAttempts | undefined>();
  const [error, setError] = useState<unknown>();
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState(false);

  async function load() {
    try {
      setDetail(await api.get<WebhookDeliveryWithAttempts>(`/api/v2/webhook-deliveries/${encodeURIComponent(delivery.id)}`));
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  }
  // Re-read when the list shows the delivery moved on (a new attempt, a new status).
  useEffect(() => {
    void load();
  }, [delivery.id, delivery.attemptCount, delivery.status]);

  async function resend() {
    setSending(true);
    try {
      await api.post(`/api/v2/webhook-deliveries/${encodeURIComponent(delivery.id)}/redeliver`);
      setSent(true);
      setError(undefined);
      props.onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
    }
  }

  return (
    <div class="attempts">
      <div class="actions">
        {canChange(session) && (
          <button type="button" class="small" disabled={sending} onClick={resend} aria-label={`Re-send delivery ${delivery.id}`}>
            {sending ? 'Re-sending…' : 'Re-send'}
          </button>
        )}
        {sent && (
          <span class="muted small" role="status">
            Queued again with the same webhook-id.
          </span>
        )}
      </div>
      {error !== undefined && <ErrorNotice error={error} />}
      {detail && detail.attempts.length === 0 && <p class="muted small">No attempt yet.</p>}
      {detail && detail.attempts.length > 0 && (
        <table class="list attempts-table">
          <thead>
            <tr>
              <th scope="col">Attempted</th>
              <th scope="col">HTTP status</th>
              <th scope="col">Duration</th>
              <th scope="col">Response</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {detail.attempts.map((a, i) => (
              <tr key={i} data-outcome={a.outcome}>
                <td data-label="Attempted">{formatTime(a.attemptedAt)}</td>
                <td data-label="HTTP status">
                  <span class={`badge tone-${a.outcome === 'succeeded' ? 'good' : 'bad'}`}>{a.statusCode ?? 'none'}</span>
                </td>
                <td data-label="Duration">{a.durationMs} ms</td>
                <td data-label="Response">
                  {a.responseBody ? (
                    <span class="excerpt" tabIndex={0}>
                      {a.responseBody}
                    </span>
                  ) : (
                    <span class="none">—</span>
                  )}
                </td>
                <td data-label="Error">
                  <WholeText text={a.error ? `${a.errorCode ? `${a.errorCode}: ` : ''}${a.error}` : null} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Why the last attempt failed, for the row itself: the error, or the receiver's HTTP status. */
export function failureReason(d: WebhookDelivery): string | undefined {
  if (d.status === 'succeeded' || d.attemptCount === 0) return undefined;
  return d.lastError ?? (d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : undefined);
}

function DeliveryRow(props: { delivery: WebhookDelivery; endpointUrl: string; onChanged(): void }) {
  const d = props.delivery;
  const failure = failureReason(d);
  // Attempts are read only once a row is opened: a page of deliveries costs one request, not one per row.
  const [open, setOpen] = useState(false);
  return (
    <details class="delivery" data-delivery-id={d.id} data-status={d.status} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>
        <span class="small">{formatTime(d.createdAt)}</span>
        <span class="delivery-what">
          <span class="whole">
            <strong>{d.eventName}</strong> → <span class="muted">{props.endpointUrl}</span>
          </span>
          {d.orderId && (
            <span class="small">
              order{' '}
              <span class="whole mono" data-field="delivery-order">
                {d.orderId}
              </span>
            </span>
          )}
          {failure && (
            <span class="small failure whole" data-field="delivery-failure">
              {d.status === 'failed' ? 'Failed: ' : 'Last attempt failed: '}
              {failure}
            </span>
          )}
        </span>
        <span>
          <span class={`badge tone-${DELIVERY_TONE[d.status]}`} data-field="delivery-status">
            {d.status}
          </span>
        </span>
        <span class="small">
          {d.attemptCount} {d.attemptCount === 1 ? 'attempt' : 'attempts'}
        </span>
        <span class="small mono">{d.lastStatusCode ?? ''}</span>
      </summary>
      <p class="small muted">
        {d.orderId && (
          <>
            Order <Link to={`/orders/${d.orderId}`}>{d.orderId}</Link> ·{' '}
          </>
        )}
        delivery <span class="mono">{d.id}</span>
        {d.nextAttemptAt && d.status === 'pending' ? ` · next attempt ${formatTime(d.nextAttemptAt)}` : ''}
      </p>
      {open && <Attempts delivery={d} onChanged={props.onChanged} />}
    </details>
  );
}

/** Deliveries, each opening to its attempts and a Re-send button. */
export function DeliveryList(props: { deliveries: WebhookDelivery[]; endpoints?: WebhookEndpoint[]; onChanged(): void }) {
  const endpointUrl = (id: string) => props.endpoints?.find((e) => e.id === id)?.url ?? id;
  return (
    <div class="deliveries">
      {props.deliveries.map((d) => (
        <DeliveryRow key={d.id} delivery={d} endpointUrl={endpointUrl(d.endpointId)} onChanged={props.onChanged} />
      ))}
    </div>
  );
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}
