/**
 * The buyer page's stylesheet. The accent colour arrives as a custom property set in a
 * nonced <style> (domain/branding.ts lets through only a hex colour). Text is always the
 * dark ink on white; the accent marks progress and links, so any accent keeps text legible.
 */
export const PAGE_CSS = `
:root { color-scheme: light; --ink: #1d2430; --muted: #4f5b6b; --line: #dfe3ea; --bg: #f4f6f9; --card: #fff; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans JP", sans-serif; }
a { color: var(--accent-ink); text-underline-offset: 2px; }
a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; border-radius: 4px; }
.wrap { max-width: 820px; margin: 0 auto; padding: 24px 16px 48px; }
.brand { display: flex; align-items: center; gap: 12px; margin: 0 0 16px; min-height: 40px; }
.brand img { height: 40px; width: auto; max-width: 160px; object-fit: contain; }
.brand-name { font-weight: 600; font-size: 1.05rem; }
.card { background: var(--card); border: 1px solid var(--line); border-top: 4px solid var(--accent); border-radius: 12px; padding: 24px 20px; box-shadow: 0 1px 2px rgba(16,24,40,.05); }
.eyebrow { margin: 0; color: var(--muted); font-size: .875rem; text-transform: uppercase; letter-spacing: .04em; }
h1 { margin: 4px 0 4px; font-size: 1.75rem; line-height: 1.25; }
h2 { font-size: 1rem; margin: 28px 0 12px; }
.description { margin: 0; color: var(--muted); }
.badge { display: inline-block; margin-top: 12px; padding: 2px 10px; border-radius: 999px; font-size: .8125rem; border: 1px solid var(--line); color: var(--muted); }
.badge.live { border-color: var(--accent); color: var(--accent-ink); }
.steps { list-style: none; margin: 0; padding: 0; display: grid; gap: 0; }
.step { position: relative; display: flex; align-items: flex-start; gap: 12px; padding: 0 0 18px; color: var(--muted); }
.step:last-child { padding-bottom: 0; }
.step::before { content: ""; position: absolute; left: 11px; top: 24px; bottom: 0; width: 2px; background: var(--line); }
.step:last-child::before { display: none; }
.step.reached::before { background: var(--accent); }
.dot { flex: none; width: 24px; height: 24px; border-radius: 50%; border: 2px solid var(--line); background: var(--card); display: grid; place-items: center; font-size: .75rem; font-weight: 700; }
.step.reached .dot { border-color: var(--accent); background: var(--accent); color: #fff; }
.step.current .dot { box-shadow: 0 0 0 4px var(--accent-soft); }
.step.reached, .step.current { color: var(--ink); }
.step.current .step-label { font-weight: 600; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.timeline { list-style: none; margin: 0; padding: 0; border-top: 1px solid var(--line); }
.timeline li { display: flex; justify-content: space-between; gap: 12px; flex-wrap: wrap; padding: 10px 0; border-bottom: 1px solid var(--line); }
.timeline time { color: var(--muted); font-size: .9375rem; white-space: nowrap; }
.support { margin-top: 24px; display: flex; flex-wrap: wrap; gap: 8px 20px; align-items: center; }
.support p { margin: 0; font-weight: 600; }
.order-id { margin-top: 20px; color: var(--muted); font-size: .8125rem; overflow-wrap: anywhere; }
.visually-hidden { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.lapsed h1 { font-size: 1.5rem; }
@media (min-width: 900px) {
  .wrap { padding-top: 56px; }
  .card { padding: 36px 40px; }
  .columns { display: grid; grid-template-columns: 1fr 1.25fr; gap: 0 48px; }
  h1 { font-size: 2.125rem; }
}
@media (prefers-reduced-motion: no-preference) { .dot { transition: background .3s, border-color .3s; } }
`;
