/**
 * The buyer page's only script (nonced by the CSP): it keeps the server-rendered page live.
 * Server-Sent Events first (`/o/{token}/events`); when those cannot connect, it polls
 * `status.json`. A lapsed link reloads the page, which the server then answers with 410.
 * Every value goes into the page as text (textContent), never as markup.
 */
export const PAGE_SCRIPT = `(() => {
  'use strict';
  const state = JSON.parse(document.getElementById('oc-state').textContent);
  const t = state.strings;
  let view = state.view;
  const base = location.pathname.replace(/\\/+$/, '');
  const lang = encodeURIComponent(view.locale);
  const badge = document.getElementById('oc-live');
  const announcer = document.createElement('p');
  announcer.className = 'visually-hidden';
  announcer.setAttribute('aria-live', 'polite');
  document.querySelector('main').appendChild(announcer);
  const timeFormat = new Intl.DateTimeFormat(view.locale, { dateStyle: 'medium', timeStyle: 'short' });
  const fmt = (iso) => { const d = new Date(iso); return isNaN(d.getTime()) ? iso : timeFormat.format(d); };
  const el = (tag, attrs, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const setTimes = () => {
    for (const time of document.querySelectorAll('time[datetime]')) time.textContent = fmt(time.getAttribute('datetime'));
  };
  function render(next) {
    const statusChanged = next.order.status !== view.order.status;
    view = next;
    document.getElementById('oc-status').textContent = view.status.label;
    document.getElementById('oc-description').textContent = view.status.description || '';
    document.title = view.status.label + ' · ' + view.branding.displayName;
    const steps = document.getElementById('oc-steps');
    steps.replaceChildren(...view.progress.steps.map((step, index) => {
      const current = index === view.progress.current;
      const li = el('li', { class: 'step' + (step.reached ? ' reached' : '') + (current ? ' current' : '') });
      if (current) li.setAttribute('aria-current', 'step');
      li.append(el('span', { class: 'dot', 'aria-hidden': 'true' }, step.reached && !current ? '\\u2713' : String(index + 1)));
      const label = el('span', { class: 'step-label' }, step.label);
      label.append(el('span', { class: 'visually-hidden' }, ' (' + (current ? t.stepCurrent : step.reached ? t.stepReached : t.stepAhead) + ')'));
      li.append(label);
      return li;
    }));
    const updated = document.getElementById('oc-updated');
    if (updated) updated.setAttribute('datetime', view.order.updatedAt);
    const eta = view.status.final ? null : view.order.eta;
    const etaTime = document.getElementById('oc-eta');
    if (etaTime) {
      if (eta) etaTime.setAttribute('datetime', eta); else { etaTime.removeAttribute('datetime'); etaTime.textContent = ''; }
      for (const id of ['oc-eta-label', 'oc-eta-value']) document.getElementById(id).hidden = !eta;
    }
    const timeline = document.getElementById('oc-timeline');
    timeline.replaceChildren(...view.order.timeline.slice().reverse().map((entry) => {
      const li = el('li');
      li.append(el('span', {}, entry.label), el('time', { datetime: entry.at }));
      return li;
    }));
    setTimes();
    if (statusChanged) announcer.textContent = t.orderStatus + ': ' + view.status.label;
  }
  const offer = (next) => { if (next && next.order && next.order.version > view.order.version) render(next); };
  const setBadge = (live) => {
    badge.textContent = live ? t.live : t.reconnecting;
    badge.classList.toggle('live', live);
  };
  let pollTimer;
  async function poll() {
    try {
      const response = await fetch(base + '/status.json?lang=' + lang, { cache: 'no-store', credentials: 'omit' });
      if (response.status === 404 || response.status === 410) { location.reload(); return; }
      if (response.ok) { offer(await response.json()); setBadge(true); }
      else setBadge(false);
    } catch { setBadge(false); }
    if (!view.status.final) pollTimer = setTimeout(poll, 5000);
  }
  function startPolling() {
    if (pollTimer === undefined && !view.status.final) poll();
  }
  setTimes();
  if (view.status.final) return;
  if (typeof EventSource !== 'function') { startPolling(); return; }
  const source = new EventSource(base + '/events?lang=' + lang);
  let failures = 0;
  source.addEventListener('open', () => { failures = 0; setBadge(true); });
  source.addEventListener('order.update', (message) => {
    try { offer(JSON.parse(message.data)); } catch {}
    if (view.status.final) { source.close(); badge.textContent = ''; badge.classList.remove('live'); }
  });
  source.addEventListener('lapsed', () => { source.close(); location.reload(); });
  source.addEventListener('error', () => {
    failures += 1;
    setBadge(false);
    // Streams that cannot connect (a proxy that buffers or blocks them): poll instead.
    if (source.readyState === EventSource.CLOSED || failures >= 3) { source.close(); startPolling(); }
  });
})();`;
