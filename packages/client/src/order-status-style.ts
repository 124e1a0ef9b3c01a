/**
 * The element's look, every colour and size a CSS custom property the page can set, and
 * every piece a `::part()`. Text colours stay the page's (`--ordercast-text`, `--ordercast-muted`);
 * the accent only marks progress, so a brand colour never costs text its contrast.
 */
export const ORDER_STATUS_CSS = `
:host{display:block;font:var(--ordercast-font,inherit);color:var(--ordercast-text,#1a1a1a);--_accent:var(--ordercast-accent,var(--ordercast-brand-accent,#0a7a55))}
:host([hidden]){display:none}
section{background:var(--ordercast-background,#fff);border:1px solid var(--ordercast-border,#d0d0d0);border-radius:var(--ordercast-radius,12px);padding:var(--ordercast-padding,1rem 1.25rem)}
header{display:flex;align-items:center;gap:.75rem}
img{max-height:2rem;max-width:8rem}
h2{font-size:1rem;margin:0;font-weight:600}
h3{font-size:.875rem;margin:1rem 0 .5rem;color:var(--ordercast-muted,#555);font-weight:600}
.brand{color:var(--ordercast-muted,#555)}
[part~=status]{font-size:var(--ordercast-status-size,1.5rem);font-weight:700;margin:.75rem 0 .25rem}
[part~=description],[part~=amount],[part~=updated],[part~=message]{margin:.25rem 0;color:var(--ordercast-muted,#555)}
ol{list-style:none;margin:0;padding:0}
[part~=progress]{display:flex;flex-wrap:wrap;gap:.5rem 1rem}
[part~=step]{display:flex;align-items:center;gap:.4rem;color:var(--ordercast-muted,#555)}
[part~=step]::before{content:"";width:.75rem;height:.75rem;border-radius:50%;border:2px solid var(--_accent);box-sizing:border-box}
[part~=step-reached]::before{background:var(--_accent)}
[part~=step-current]{color:var(--ordercast-text,#1a1a1a);font-weight:600}
[part~=timeline] li{display:flex;justify-content:space-between;gap:1rem;padding:.25rem 0;border-top:1px solid var(--ordercast-border,#d0d0d0)}
time{color:var(--ordercast-muted,#555);white-space:nowrap}
a{color:inherit}
a:focus-visible{outline:2px solid var(--ordercast-focus,#1a1a1a);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
[hidden]{display:none!important}
`;
