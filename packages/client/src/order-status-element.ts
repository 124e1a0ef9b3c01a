import { AuthError, OrderNotFoundError } from './errors.js';
import { followOrderLink } from './link-follower.js';
import { relabel, viewOfOrder, viewOfPublicOrder, type OrderStatusView, type StatusLabels } from './order-status-view.js';
import { ORDER_STATUS_CSS } from './order-status-style.js';
import { stringsFor, type ElementStrings } from './order-status-strings.js';
import { trackOrder } from './track-order.js';

/** Node (server rendering) has no HTMLElement: the module still loads there, and defines nothing. */
const Base = (globalThis.HTMLElement ?? class {}) as typeof HTMLElement;

type State = 'loading' | 'live' | 'final' | 'error';

/**
 * `<ordercast-order-status>`: one order's status, progress and timeline, live. With
 * `link-token` it reads an order link (labels, progress and branding from the project);
 * with `order-id`, `token` and `publishable-key` it follows the order through `trackOrder`.
 */
export class OrderStatusElement extends Base {
  static readonly observedAttributes = ['order-id', 'token', 'publishable-key', 'link-token', 'base-url', 'lang', 'steps'];
  private readonly root: ShadowRoot;
  private readonly el: Record<
    | 'section'
    | 'title'
    | 'logo'
    | 'brand'
    | 'status'
    | 'description'
    | 'amount'
    | 'live'
    | 'progressTitle'
    | 'progress'
    | 'historyTitle'
    | 'timeline'
    | 'updated'
    | 'message'
    | 'support',
    HTMLElement
  >;
  private stopFollowing: (() => void) | undefined;
  private current: OrderStatusView | undefined;
  private statusLabels: StatusLabels = {};
  private restartQueued = false;
  private text: { locale: string; strings: ElementStrings } = stringsFor('en');

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    const sheet = typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype ? new CSSStyleSheet() : undefined;
    if (sheet) {
      // A constructed sheet is not inline CSS: pages with a strict style-src still style the element.
      sheet.replaceSync(ORDER_STATUS_CSS);
      this.root.adoptedStyleSheets = [sheet];
    } else this.root.append(Object.assign(document.createElement('style'), { textContent: ORDER_STATUS_CSS }));
    const make = (tag: string, part: string, attributes: Record<string, string> = {}) => {
      const node = document.createElement(tag);
      if (part) node.setAttribute('part', part);
      for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
      return node;
    };
    this.el = {
      section: make('section', 'container', { 'aria-labelledby': 'title' }),
      title: make('h2', 'title', { id: 'title' }),
      logo: make('img', 'logo', { alt: '', hidden: '' }),
      brand: make('span', 'brand', { class: 'brand', hidden: '' }),
      status: make('p', 'status'),
      description: make('p', 'description', { hidden: '' }),
      amount: make('p', 'amount', { hidden: '' }),
      // Announces each change of status once; the visible status above is not live, or it would be read twice.
      live: make('p', '', { role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true', class: 'sr' }),
      progressTitle: make('h3', 'progress-title', { id: 'progress-title', hidden: '' }),
      progress: make('ol', 'progress', { 'aria-labelledby': 'progress-title', hidden: '' }),
      historyTitle: make('h3', 'timeline-title', { id: 'timeline-title', hidden: '' }),
      timeline: make('ol', 'timeline', { 'aria-labelledby': 'timeline-title', hidden: '' }),
      updated: make('p', 'updated', { hidden: '' }),
      message: make('p', 'message', { hidden: '' }),
      support: make('a', 'support', { hidden: '' }),
    };
    const header = make('header', 'header');
    header.append(this.el.logo, this.el.brand, this.el.title);
    this.el.section.append(
      header,
      this.el.status,
      this.el.description,
      this.el.amount,
      this.el.live,
      this.el.progressTitle,
      this.el.progress,
      this.el.historyTitle,
      this.el.timeline,
      this.el.updated,
      this.el.message,
      this.el.support,
    );
    this.root.append(this.el.section);
  }

  /** Display labels per status for user-token mode: `{ PROCESSING: 'Preparing', SHIPPED: { label, description } }`. */
  get labels(): StatusLabels {
    return this.statusLabels;
  }

  /** Redraws with the new labels; no new connection (frameworks pass a fresh object on every render). */
  set labels(value: StatusLabels) {
    this.statusLabels = value ?? {};
    if (this.current && !this.getAttribute('link-token')) this.render(relabel(this.current, this.statusLabels), false);
  }

  /** What the element shows now (undefined while loading). */
  get view(): OrderStatusView | undefined {
    return this.current;
  }

  connectedCallback(): void {
    // Through the queue: an element upgraded in place hears each attribute first, and must start once.
    this.queueRestart();
  }

  disconnectedCallback(): void {
    this.stop();
  }

  attributeChangedCallback(): void {
    this.queueRestart();
  }

  /** Several attributes set one after another (as frameworks do) start one connection, not several. */
  private queueRestart(): void {
    if (this.restartQueued || !this.isConnected) return;
    this.restartQueued = true;
    queueMicrotask(() => {
      this.restartQueued = false;
      if (this.isConnected) this.restart();
    });
  }

  private stop(): void {
    this.stopFollowing?.();
    this.stopFollowing = undefined;
  }

  private restart(): void {
    this.stop();
    this.current = undefined;
    // Its own `lang`, else the page's around it: the element's words and the link's labels follow the same one.
    const lang = this.getAttribute('lang') ?? this.parentElement?.closest('[lang]')?.getAttribute('lang') ?? undefined;
    this.text = stringsFor(lang);
    this.el.section.lang = this.text.locale;
    this.el.title.textContent = this.text.strings.name;
    this.el.progressTitle.textContent = this.text.strings.progress;
    this.el.historyTitle.textContent = this.text.strings.history;
    this.show('loading');
    this.el.status.textContent = this.text.strings.loading;
    for (const key of ['description', 'amount', 'progressTitle', 'progress', 'historyTitle', 'timeline', 'updated', 'message', 'support'] as const)
      this.el[key].hidden = true;
    this.el.live.textContent = '';

    const baseUrl = this.getAttribute('base-url') ?? globalThis.location?.origin ?? '';
    const linkToken = this.getAttribute('link-token');
    const orderId = this.getAttribute('order-id');
    const token = this.getAttribute('token');
    const publishableKey = this.getAttribute('publishable-key');
    if (linkToken) {
      const follower = followOrderLink({
        baseUrl,
        linkToken,
        lang,
        onView: (view) => this.render(viewOfPublicOrder(view)),
        onTransport: (transport) => this.setAttribute('data-transport', transport),
        onEnd: (code) =>
          this.fail(
            code === 'order_link_revoked' ? this.text.strings.revoked : code === 'order_link_expired' ? this.text.strings.expired : this.text.strings.notFound,
            code,
          ),
      });
      this.stopFollowing = follower.stop;
    } else if (orderId && token && publishableKey) {
      const steps = (this.getAttribute('steps') ?? '').split(/[\s,]+/).filter(Boolean);
      const tracker = trackOrder(orderId, { baseUrl, credentials: { publishableKey, token } });
      tracker.on('update', (order) => this.render(viewOfOrder(order, this.current, this.statusLabels, steps)));
      tracker.on('transport', (transport) => this.setAttribute('data-transport', transport));
      tracker.on('error', (error) =>
        this.fail(
          error instanceof OrderNotFoundError ? this.text.strings.notFound : this.text.strings.failed,
          error instanceof AuthError || error instanceof OrderNotFoundError ? error.code : 'unavailable',
        ),
      );
      this.stopFollowing = () => tracker.stop();
    }
  }

  private show(state: State): void {
    this.setAttribute('data-state', state);
  }

  private fail(message: string, code: string): void {
    this.show('error');
    this.setAttribute('data-error', code);
    if (!this.current) this.el.status.textContent = '';
    this.el.message.textContent = message;
    this.el.message.hidden = false;
    this.el.live.textContent = message;
    this.dispatchEvent(new CustomEvent('ordercast-error', { detail: { code }, bubbles: true, composed: true }));
  }

  private render(view: OrderStatusView, announce = true): void {
    const previous = this.current;
    this.current = view;
    const { strings, locale } = this.text;
    const { el } = this;
    this.setAttribute('data-status', view.status);
    this.removeAttribute('data-error');
    this.show(view.final ? 'final' : 'live');
    el.status.textContent = view.label;
    el.status.setAttribute('data-status', view.status);
    el.description.textContent = view.description ?? '';
    el.description.hidden = !view.description;
    el.amount.textContent = view.amount ? money(view.amount, view.currency, locale) : '';
    el.amount.hidden = !view.amount;
    if (announce && (!previous || previous.status !== view.status)) el.live.textContent = `${strings.name}: ${view.label}`;

    el.progress.replaceChildren(
      ...view.steps.map((step) => {
        const item = document.createElement('li');
        item.setAttribute('part', `step${step.reached ? ' step-reached' : ''}${step.current ? ' step-current' : ''}`);
        if (step.current) item.setAttribute('aria-current', 'step');
        item.textContent = step.label;
        return item;
      }),
    );
    el.progress.hidden = el.progressTitle.hidden = view.steps.length === 0;

    el.timeline.replaceChildren(
      ...view.timeline.map((entry) => {
        const item = document.createElement('li');
        item.setAttribute('part', 'event');
        const label = document.createElement('span');
        label.textContent = entry.label;
        item.append(label, timeElement(entry.at, locale));
        return item;
      }),
    );
    el.timeline.hidden = el.historyTitle.hidden = view.timeline.length === 0;

    el.updated.replaceChildren(
      `${strings.updated}: `,
      timeElement(view.updatedAt, locale),
      ...(view.eta ? [` · ${strings.expected}: `, timeElement(view.eta, locale)] : []),
    );
    el.updated.hidden = false;
    el.message.hidden = true;
    this.brand(view);
    if (announce) this.dispatchEvent(new CustomEvent('ordercast-update', { detail: view, bubbles: true, composed: true }));
  }

  private brand(view: OrderStatusView): void {
    const { el } = this;
    const branding = view.branding;
    if (branding?.accentColor) this.style.setProperty('--ordercast-brand-accent', branding.accentColor);
    el.brand.textContent = branding?.displayName ?? '';
    el.brand.hidden = !branding?.displayName;
    const logo = safeUrl(branding?.logoUrl);
    el.logo.hidden = !logo;
    if (logo) el.logo.setAttribute('src', logo);
    const support = safeUrl(branding?.supportUrl) ?? (branding?.supportEmail ? `mailto:${branding.supportEmail}` : undefined);
    el.support.hidden = !support;
    if (support) {
      el.support.setAttribute('href', support);
      el.support.textContent = this.text.strings.support;
    }
  }
}

function timeElement(at: string, locale: string): HTMLTimeElement {
  const time = document.createElement('time');
  time.setAttribute('part', 'time');
  time.dateTime = at;
  const date = new Date(at);
  time.textContent = Number.isNaN(date.getTime()) ? at : new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
  return time;
}

function money(amount: string, currency: string | null, locale: string): string {
  try {
    if (currency) return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(Number(amount));
  } catch {
    // An unknown currency code: shown as written.
  }
  return currency ? `${amount} ${currency}` : amount;
}

/** Only http(s) links reach an `href` or `src`: never `javascript:` or `data:`, whatever the server sent. */
function safeUrl(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
