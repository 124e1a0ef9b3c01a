import type { BuyerPageStrings } from '../../domain/buyer-page-strings.js';
import type { Locale } from '../../domain/locales.js';
import type { PublicOrderView } from '../../domain/public-order-view.js';
import { expandHex, whiteReadsOn } from './colour.js';
import { PAGE_CSS } from './page-style.js';
import { PAGE_SCRIPT } from './page-script.js';

/** Text for HTML content and attribute values: every character that could end either is escaped. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside <script type="application/json">: nothing in it can close the element. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Times as the page shows them before its script runs: in UTC, said so. */
export function formatTime(iso: string, locale: Locale): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`;
}

function themeCss(accent: string): string {
  const hex = expandHex(accent);
  const readable = whiteReadsOn(hex);
  return `:root{--accent:${hex};--accent-soft:${hex}33;--accent-ink:${readable ? hex : 'var(--ink)'};--on-accent:${readable ? '#fff' : '#1d2430'}}.step.reached .dot{color:var(--on-accent)}`;
}

interface Shell {
  locale: Locale;
  title: string;
  nonce: string;
  accent: string;
  body: string;
  script?: string;
}

function shell({ locale, title, nonce, accent, body, script }: Shell): string {
  return `<!doctype html>
<html lang="${escapeHtml(locale)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${PAGE_CSS}${themeCss(accent)}</style>
</head>
<body>
${body}
${script ?? ''}
</body>
</html>
`;
}

function progressList(view: PublicOrderView, t: BuyerPageStrings): string {
  return view.progress.steps
    .map((step, index) => {
      const current = index === view.progress.current;
      const state = current ? t.stepCurrent : step.reached ? t.stepReached : t.stepAhead;
      const classes = ['step', step.reached ? 'reached' : '', current ? 'current' : ''].filter(Boolean).join(' ');
      return `<li class="${classes}"${current ? ' aria-current="step"' : ''}><span class="dot" aria-hidden="true">${step.reached && !current ? '✓' : index + 1}</span><span class="step-label">${escapeHtml(step.label)}<span class="visually-hidden"> (${escapeHtml(state)})</span></span></li>`;
    })
    .join('');
}

function timelineList(view: PublicOrderView, locale: Locale): string {
  return [...view.order.timeline]
    .reverse()
    .map(
      (entry) => `<li><span>${escapeHtml(entry.label)}</span><time datetime="${escapeHtml(entry.at)}">${escapeHtml(formatTime(entry.at, locale))}</time></li>`,
    )
    .join('');
}

function facts(view: PublicOrderView, t: BuyerPageStrings, locale: Locale): string {
  const rows: string[] = [];
  if (view.order.amount !== null) {
    rows.push(
      `<dt>${escapeHtml(t.amount)}</dt><dd id="oc-amount">${escapeHtml(`${view.order.amount}${view.order.currency ? ` ${view.order.currency}` : ''}`)}</dd>`,
    );
  }
  rows.push(
    `<dt>${escapeHtml(t.lastUpdate)}</dt><dd><time id="oc-updated" datetime="${escapeHtml(view.order.updatedAt)}">${escapeHtml(formatTime(view.order.updatedAt, locale))}</time></dd>`,
  );
  // The ETA (the lifecycle's expected durations along its happy path), while the order is on its way.
  const eta = view.status.final ? null : view.order.eta;
  rows.push(
    `<dt id="oc-eta-label"${eta ? '' : ' hidden'}>${escapeHtml(t.expectedCompletion)}</dt><dd id="oc-eta-value"${eta ? '' : ' hidden'}><time id="oc-eta"${eta ? ` datetime="${escapeHtml(eta)}"` : ''}>${eta ? escapeHtml(formatTime(eta, locale)) : ''}</time></dd>`,
  );
  for (const [key, value] of Object.entries(view.order.metadata)) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    rows.push(`<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(text.slice(0, 500))}</dd>`);
  }
  return `<dl class="facts">${rows.join('')}</dl>`;
}

function brandHeader(view: PublicOrderView): string {
  const logo = view.branding.logoUrl ? `<img src="${escapeHtml(view.branding.logoUrl)}" alt="" width="40" height="40">` : '';
  return `<header class="brand">${logo}<span class="brand-name">${escapeHtml(view.branding.displayName)}</span></header>`;
}

function support(view: PublicOrderView, t: BuyerPageStrings): string {
  const links: string[] = [];
  if (view.branding.supportUrl)
    links.push(`<a href="${escapeHtml(view.branding.supportUrl)}" rel="noopener noreferrer" target="_blank">${escapeHtml(t.contactSupport)}</a>`);
  if (view.branding.supportEmail) links.push(`<a href="mailto:${escapeHtml(view.branding.supportEmail)}">${escapeHtml(t.emailSupport)}</a>`);
  return links.length === 0 ? '' : `<footer class="support"><p>${escapeHtml(t.help)}</p>${links.join('')}</footer>`;
}

/** The order's page: complete without JavaScript; its script only keeps it live. */
export function renderOrderPage(view: PublicOrderView, t: BuyerPageStrings, nonce: string): string {
  const { locale } = view;
  const body = `<div class="wrap">
${brandHeader(view)}
<main class="card" aria-labelledby="oc-status">
<p class="eyebrow">${escapeHtml(t.title)}</p>
<h1 id="oc-status">${escapeHtml(view.status.label)}</h1>
<p class="description" id="oc-description">${escapeHtml(view.status.description ?? '')}</p>
<p class="badge" id="oc-live" role="status" aria-live="polite"></p>
<div class="columns">
<section aria-labelledby="oc-progress-title"><h2 id="oc-progress-title">${escapeHtml(t.progress)}</h2><ol class="steps" id="oc-steps">${progressList(view, t)}</ol></section>
<section aria-labelledby="oc-details-title"><h2 id="oc-details-title">${escapeHtml(t.details)}</h2><div id="oc-facts">${facts(view, t, locale)}</div>
<h2 id="oc-timeline-title">${escapeHtml(t.timeline)}</h2><ol class="timeline" id="oc-timeline" aria-labelledby="oc-timeline-title">${timelineList(view, locale)}</ol></section>
</div>
${support(view, t)}
<p class="order-id">${escapeHtml(view.order.id)}</p>
</main>
</div>`;
  const state = { view, strings: t };
  const script = `<script type="application/json" id="oc-state">${jsonForScript(state)}</script>\n<script nonce="${nonce}">${PAGE_SCRIPT}</script>`;
  return shell({ locale, title: `${view.status.label} · ${view.branding.displayName}`, nonce, accent: view.branding.accentColor, body, script });
}

/** The page of a link that lapsed (410) or never was (404): a clear message, nothing about the order. */
export function renderMessagePage(locale: Locale, title: string, message: string, nonce: string, accent: string): string {
  const body = `<div class="wrap lapsed"><main class="card"><h1>${escapeHtml(title)}</h1><p class="description">${escapeHtml(message)}</p></main></div>`;
  return shell({ locale, title, nonce, accent, body });
}
