import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { useSession } from '../context.js';
import { formatLate, formatTime, statusTone } from '../format.js';
import { href, onLinkClick } from '../router.js';

export function Link(props: { to: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' | undefined }) {
  return (
    <a href={href(props.to)} class={props.class} aria-current={props['aria-current']} onClick={(e) => onLinkClick(e, props.to)}>
      {props.children}
    </a>
  );
}

/** Marks an order still in its status past its expected time, with how late it is. */
export function StuckMark(props: { order: { stuck?: boolean; expectedBy?: string | null } }) {
  if (!props.order.stuck) return null;
  return (
    <span class="badge tone-bad stuck-mark" data-stuck title={`Expected by ${formatTime(props.order.expectedBy)}`}>
      Stuck · {formatLate(props.order.expectedBy)}
    </span>
  );
}

export function StatusBadge(props: { status: string }) {
  const { project } = useSession();
  return (
    <span class={`badge tone-${statusTone(props.status, project.lifecycle.final)}`} title={props.status} data-status={props.status}>
      {props.status}
    </span>
  );
}

/**
 * Long text (ids, URLs, references, reasons, errors) is shown whole: it wraps anywhere,
 * so it never widens the layout and is never cut.
 */
export function WholeText(props: { text: string | null | undefined; class?: string }) {
  if (props.text === null || props.text === undefined || props.text === '') return <span class="none">—</span>;
  return <span class={`whole ${props.class ?? ''}`}>{props.text}</span>;
}

/** An id shown whole, with a button that copies it (ids are what people paste into support tickets and logs). */
export function CopyableId(props: { id: string; label: string }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(props.id);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      // No clipboard (an insecure origin, or permission refused): the id is on the page to select by hand.
      const range = document.createRange();
      const text = document.getElementById(`id-${props.id}`);
      if (!text) return;
      range.selectNodeContents(text);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
    }
  }
  return (
    <span class="copyable">
      <span class="whole mono" id={`id-${props.id}`} data-field="id">
        {props.id}
      </span>
      <button type="button" class="secondary small copy" onClick={() => void copy()} aria-label={`Copy ${props.label} ${props.id}`}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}

/** An empty list says how to fill it. */
export function EmptyState(props: { title: string; curl: string; children?: ComponentChildren }) {
  return (
    <div class="empty" role="status">
      <p>{props.title}</p>
      {props.children}
      <pre class="curl" tabIndex={0} aria-label="command to run">
        <code>{props.curl}</code>
      </pre>
      {props.curl.includes('$ORDERCAST_SECRET_KEY') && (
        <p class="small muted">
          Set <code>ORDERCAST_SECRET_KEY</code> to your secret key first; this page never shows it.
        </p>
      )}
    </div>
  );
}

export function ErrorNotice(props: { error: unknown; onRetry?: () => void }) {
  const error = props.error;
  const message = error instanceof ApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error);
  return (
    <div class="notice error" role="alert">
      <span>{message}</span>
      {props.onRetry && (
        <button type="button" class="secondary" onClick={props.onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A `curl` line against this server with the key left as a shell variable, never pasted into the page. */
export function curl(origin: string, method: string, path: string, body?: unknown): string {
  const lines = [`curl -s${method === 'GET' ? '' : ` -X ${method}`} ${origin}${path}`, `  -H "Authorization: Bearer $ORDERCAST_SECRET_KEY"`];
  if (body !== undefined) lines.push(`  -H 'Content-Type: application/json' -d '${JSON.stringify(body)}'`);
  return lines.join(' \\\n');
}
