import { BrandingForm } from '../components/branding-form.js';
import { LifecycleDiagram } from '../components/lifecycle-diagram.js';
import { WholeText, StatusBadge } from '../components/ui.js';
import { useSession } from '../context.js';
import { formatTime } from '../format.js';

export function ProjectPage() {
  const { project } = useSession();
  const { lifecycle } = project;
  return (
    <section aria-labelledby="project-title">
      <div class="page-head">
        <h1 id="project-title">
          <WholeText text={project.name} />
        </h1>
        <span class="muted small mono">{project.id}</span>
      </div>
      <p class="muted small">Created {formatTime(project.createdAt)}.</p>

      <h2>Lifecycle “{lifecycle.name}”</h2>
      <p class="small muted">
        Orders start in {lifecycle.initial.join(' or ')} and end in {lifecycle.final.join(', ')}. Webhooks and sockets name each change by the event below
        (creation: <code>{lifecycle.createdEventName}</code>).
      </p>
      <LifecycleDiagram lifecycle={lifecycle} />
      <table class="list statuses">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Event name</th>
            <th scope="col">May move to</th>
          </tr>
        </thead>
        <tbody>
          {lifecycle.statuses.map((s) => (
            <tr key={s} data-status={s}>
              <td data-label="Status">
                <span>
                  <StatusBadge status={s} />
                  {lifecycle.initial.includes(s) ? <span class="muted small"> initial</span> : null}
                </span>
              </td>
              <td data-label="Event name">
                <WholeText text={lifecycle.eventNames[s]} class="mono" />
              </td>
              <td data-label="May move to">
                <WholeText text={(lifecycle.transitions[s] ?? []).join(', ') || 'final'} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <details class="panel">
        <summary>Lifecycle as JSON</summary>
        <pre class="json" tabIndex={0}>
          <code>{JSON.stringify(lifecycle, null, 2)}</code>
        </pre>
      </details>

      <h2>Buyer page</h2>
      <p class="small muted">
        How the page a buyer opens from an order link (<code>POST /api/v2/orders/{'{id}'}/links</code>) looks, and which metadata keys it shows. See
        docs/buyer-view.md.
      </p>
      <BrandingForm />

      <h2>Keys</h2>
      <table class="list keys">
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Key</th>
            <th scope="col">Created</th>
            <th scope="col">Works until</th>
          </tr>
        </thead>
        <tbody>
          {project.keys.map((k) => (
            <tr key={`${k.kind}-${k.prefix}`}>
              <td data-label="Kind">{k.kind}</td>
              <td data-label="Key" class="mono">
                {k.prefix}…
              </td>
              <td data-label="Created">{formatTime(k.createdAt)}</td>
              <td data-label="Works until">{k.expiresAt ? formatTime(k.expiresAt) : 'until rotated'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="small muted">
        Keys are stored hashed and shown only when made. Rotate one from the server’s command line; the old key keeps working for the grace period, then this
        dashboard asks for the new one:
      </p>
      <pre class="curl" tabIndex={0}>
        <code>{`npx ordercast projects rotate-key --project ${project.id} --kind secret --grace 3600`}</code>
      </pre>
    </section>
  );
}
