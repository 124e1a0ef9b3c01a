import { useState } from 'preact/hooks';
import { WholeText, curl, EmptyState, Link, StatusBadge } from '../components/ui.js';
import { useSession } from '../context.js';
import { formatTime } from '../format.js';
import { useFeed } from '../use-feed.js';

/** The project's events as they are written, from the same long-poll that keeps every page live. */
export function EventsPage() {
  const { feed, origin } = useSession();
  const [events, setEvents] = useState(feed.recent);
  useFeed({ events: () => setEvents(feed.recent) });

  return (
    <section aria-labelledby="events-title">
      <div class="page-head">
        <h1 id="events-title">Events</h1>
        <span class="muted small">Every event of the project since you signed in, newest first (the last 200).</span>
      </div>
      {events.length === 0 ? (
        <EmptyState
          title="No event since you signed in. Create an order or change a status and it streams in here:"
          curl={curl(origin, 'POST', '/api/v2/orders', { externalId: 'demo-2', userExternalId: 'user-1', amount: '25.00', currency: 'EUR' })}
        >
          <p class="small muted">
            Or follow the same stream from a terminal: <code>npx ordercast listen</code>, or <code>GET /api/v2/events?after=latest&amp;waitForChange=25</code>.
          </p>
        </EmptyState>
      ) : (
        <table class="list events" aria-live="polite" aria-relevant="additions">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Order</th>
              <th scope="col">Status</th>
              <th scope="col">Reason</th>
              <th scope="col" class="num">
                Version
              </th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} data-event-id={e.id}>
                <td data-label="Time">{formatTime(e.createdAt)}</td>
                <td data-label="Event">
                  <WholeText text={e.eventName} class="mono" />
                </td>
                <td data-label="Order">
                  <Link to={`/orders/${e.orderId}`}>
                    <WholeText text={e.data.externalId ?? e.orderId} />
                  </Link>
                </td>
                <td data-label="Status">
                  <StatusBadge status={e.toStatus} />
                </td>
                <td data-label="Reason">
                  <WholeText text={e.reason} />
                </td>
                <td data-label="Version" class="num">
                  {e.version}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
