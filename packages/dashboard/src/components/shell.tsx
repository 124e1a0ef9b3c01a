import { useEffect, useState } from 'preact/hooks';
import { useSession } from '../context.js';
import type { FeedState } from '../live-feed.js';
import { EventsPage } from '../pages/events.js';
import { OrderPage } from '../pages/order.js';
import { OrdersPage } from '../pages/orders.js';
import { ProjectPage } from '../pages/project.js';
import { AuditPage } from '../pages/audit.js';
import { WebhooksPage } from '../pages/webhooks.js';
import { useRoute, type Route } from '../router.js';
import { formatTime } from '../format.js';
import { WholeText, Link } from './ui.js';

function useFeedState() {
  const { feed } = useSession();
  const [state, setState] = useState<{ state: FeedState; retryAt: number; attempt: number; message?: string }>({
    state: feed.state,
    retryAt: 0,
    attempt: 0,
  });
  const [, tick] = useState(0);
  useEffect(
    () =>
      feed.subscribe({
        state: (s, detail) => setState({ state: s, retryAt: Date.now() + detail.retryInMs, attempt: detail.attempt, message: detail.error?.message }),
      }),
    [feed],
  );
  // The countdown in the banner moves while the page waits to reconnect.
  useEffect(() => {
    if (state.state !== 'reconnecting') return;
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [state.state]);
  return state;
}

const LABEL: Record<FeedState, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', stopped: 'Offline' };

function Page(props: { route: Route }) {
  const { route } = props;
  switch (route.page) {
    case 'orders':
      return <OrdersPage />;
    case 'stuck':
      return <OrdersPage stuckOnly />;
    case 'order':
      return <OrderPage id={route.id} />;
    case 'webhooks':
      return <WebhooksPage />;
    case 'events':
      return <EventsPage />;
    case 'project':
      return <ProjectPage />;
    case 'audit':
      return <AuditPage />;
    default:
      return (
        <section class="empty" role="status">
          <h1>No such page</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <Link to="/">Go to the orders</Link>.
          </p>
        </section>
      );
  }
}

const NAV: { to: string; label: string; pages: Route['page'][] }[] = [
  { to: '/', label: 'Orders', pages: ['orders', 'order'] },
  { to: '/stuck', label: 'Stuck', pages: ['stuck'] },
  { to: '/webhooks', label: 'Webhooks', pages: ['webhooks'] },
  { to: '/events', label: 'Events', pages: ['events'] },
  { to: '/audit', label: 'Audit log', pages: ['audit'] },
  { to: '/project', label: 'Project', pages: ['project'] },
];

export function Shell(props: { onSignOut(): void }) {
  const { project, feed, role, expiresAt } = useSession();
  const route = useRoute();
  const connection = useFeedState();

  useEffect(() => {
    const titles: Record<string, string> = {
      orders: 'Orders',
      order: 'Order',
      webhooks: 'Webhooks',
      events: 'Events',
      audit: 'Audit log',
      project: 'Project',
    };
    document.title = `${titles[route.page] ?? 'Not found'} · ${project.name} · Ordercast`;
  }, [route, project.name]);

  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <div class="brand">
          <span class="logo" aria-hidden="true" />
          <WholeText text={project.name} class="project-name" />
          {role !== 'secret' && (
            <span class="badge tone-muted" data-testid="session-role" title={expiresAt ? `This session ends at ${formatTime(expiresAt)}` : undefined}>
              {role === 'viewer' ? 'Viewer' : 'Operator'}
            </span>
          )}
        </div>
        <nav aria-label="Main">
          {NAV.map((item) => (
            <Link key={item.to} to={item.to} aria-current={item.pages.includes(route.page) ? 'page' : undefined}>
              {item.label}
            </Link>
          ))}
        </nav>
        <div class="top-right">
          <span
            class={`connection ${connection.state}`}
            role="status"
            aria-live="polite"
            data-state={connection.state}
            title="Live updates from GET /api/v2/events"
          >
            <span class="dot" aria-hidden="true" />
            {LABEL[connection.state]}
          </span>
          <button type="button" class="secondary small" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      {connection.state === 'reconnecting' && (
        <div class="banner" role="alert" data-testid="offline-banner">
          <span>
            Lost contact with the server{connection.message ? ` (${connection.message})` : ''}.{' '}
            {connection.retryAt > Date.now() ? `Reconnecting in ${Math.ceil((connection.retryAt - Date.now()) / 1000)} s` : 'Reconnecting now'}
            {connection.attempt > 1 ? ` (attempt ${connection.attempt})` : ''}; the page catches up by itself.
          </span>
          <button type="button" class="secondary small" onClick={() => feed.retryNow()}>
            Retry now
          </button>
        </div>
      )}
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </div>
  );
}
