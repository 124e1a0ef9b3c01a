import { useEffect, useState } from 'preact/hooks';
import { withQuery } from '../api.js';
import { CursorPager } from '../components/cursor-pager.js';
import { ErrorNotice, Link, WholeText } from '../components/ui.js';
import { useSession } from '../context.js';
import { describeActor, formatTime } from '../format.js';
import type { AuditEntry, ListPage } from '../types.js';
import { useFeed } from '../use-feed.js';

const ACTIONS = [
  'order.created',
  'order.status_changed',
  'webhook_endpoint.created',
  'webhook_endpoint.updated',
  'webhook_endpoint.deleted',
  'webhook_endpoint.secret_rotated',
  'api_key.rotated',
  'token_secret.rotated',
  'project.created',
  'dashboard_link.created',
  'dashboard_session.started',
  'dashboard_session.signed_out',
  'dashboard_session.revoked',
];

function Target(props: { target: AuditEntry['target'] }) {
  const { type, id } = props.target;
  if (type === 'order') return <Link to={`/orders/${id}`}>{id}</Link>;
  return (
    <span class="mono">
      {type.replace(/_/g, ' ')} {id}
    </span>
  );
}

function Changes(props: { changes: Record<string, unknown> }) {
  const entries = Object.entries(props.changes);
  if (entries.length === 0) return <span class="muted">—</span>;
  return <WholeText text={entries.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' · ')} class="small" />;
}

/** Who changed what in the project, newest first, from `GET /api/v2/audit-log`. */
export function AuditPage() {
  const { api } = useSession();
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [applied, setApplied] = useState({ action: '', actor: '' });
  const [cursor, setCursor] = useState<string | undefined>();
  const [cursors, setCursors] = useState<string[]>([]);
  const [page, setPage] = useState<ListPage<AuditEntry> | undefined>();
  const [error, setError] = useState<unknown>();

  async function load() {
    try {
      setPage(await api.get<ListPage<AuditEntry>>(withQuery('/api/v2/audit-log', { action: applied.action, actor: applied.actor, cursor, limit: 50 })));
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  }

  useEffect(() => {
    void load();
  }, [applied, cursor]);
  // Order changes are events: the first page follows them live.
  useFeed({ events: () => cursor === undefined && void load(), resync: () => void load() });

  return (
    <section aria-labelledby="audit-title">
      <div class="page-head">
        <h1 id="audit-title">Audit log</h1>
        <span class="muted small">Every change made in this project, with the credential that made it and where from. Secrets never appear here.</span>
      </div>
      <form
        class="filters"
        role="search"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setCursors([]);
          setCursor(undefined);
          setApplied({ action, actor: actor.trim() });
        }}
      >
        <div class="field">
          <label for="audit-action">Action</label>
          <select id="audit-action" value={action} onChange={(e) => setAction((e.target as HTMLSelectElement).value)}>
            <option value="">Any</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="audit-actor">Actor (key or session id, or cli)</label>
          <input id="audit-actor" value={actor} placeholder="key_… / dss_… / cli" onInput={(e) => setActor((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field buttons">
          <button type="submit">Filter</button>
        </div>
      </form>
      {error !== undefined && <ErrorNotice error={error} onRetry={() => void load()} />}
      {page && page.data.length === 0 && <p class="muted">Nothing recorded{applied.action || applied.actor ? ' for this filter' : ' yet'}.</p>}
      {page && page.data.length > 0 && (
        <table class="list audit">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Action</th>
              <th scope="col">By</th>
              <th scope="col">From</th>
              <th scope="col">Target</th>
              <th scope="col">Changes</th>
            </tr>
          </thead>
          <tbody>
            {page.data.map((entry) => (
              <tr key={entry.id} data-audit-id={entry.id} data-action={entry.action}>
                <td data-label="Time">{formatTime(entry.createdAt)}</td>
                <td data-label="Action" class="mono">
                  {entry.action}
                </td>
                <td data-label="By" data-field="actor">
                  <WholeText text={describeActor(entry.actor)} class="mono small" />
                </td>
                <td data-label="From" class="mono small">
                  {entry.address ?? '—'}
                </td>
                <td data-label="Target">
                  <Target target={entry.target} />
                </td>
                <td data-label="Changes">
                  <Changes changes={entry.changes} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <CursorPager
        label="Audit log pages"
        cursor={cursor}
        cursors={cursors}
        nextCursor={page?.nextCursor}
        hasMore={page?.hasMore}
        onMove={(next, stack) => {
          setCursor(next);
          setCursors(stack);
        }}
      />
    </section>
  );
}
