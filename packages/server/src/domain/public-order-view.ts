import { DEFAULT_ACCENT, type Branding } from './branding.js';
import type { Lifecycle } from './lifecycle.js';
import type { Locale } from './locales.js';
import type { Order } from './order.js';
import { statusText, type StatusDisplay } from './status-display.js';

/** What a buyer's link shows of an order (the contract of `/o/{token}/status.json` and its SSE). */
export interface PublicOrderView {
  object: 'public_order';
  locale: Locale;
  order: {
    id: string;
    status: string;
    version: number;
    updatedAt: string;
    amount: string | null;
    currency: string | null;
    metadata: Record<string, unknown>;
    timeline: Array<{ status: string; label: string; at: string }>;
    expectedBy: string | null;
    eta: string | null;
  };
  status: { label: string; description: string | null; final: boolean; successful: boolean };
  progress: { steps: Array<{ status: string; label: string; reached: boolean }>; current: number };
  branding: {
    displayName: string;
    logoUrl: string | null;
    accentColor: string;
    supportUrl: string | null;
    supportEmail: string | null;
  };
}

/** Paths longer than this are not searched further: a lifecycle's happy path is short. */
const SEARCH_BUDGET = 20_000;

/**
 * The lifecycle's happy path: the longest path without repeats from its first initial status
 * to a final one (an order that goes through every step). Failure and cancellation endings
 * branch off it sooner, so they are not on it. Bounded: a huge lifecycle gets the best path found.
 */
export function happyPath(lifecycle: Lifecycle): string[] {
  const start = lifecycle.initial[0];
  if (start === undefined) return [];
  let best: string[] = [start];
  let budget = SEARCH_BUDGET;
  const path: string[] = [start];
  const onPath = new Set<string>([start]);
  const walk = (status: string): void => {
    if (--budget < 0) return;
    if (lifecycle.final.includes(status)) {
      if (path.length > best.length || !lifecycle.final.includes(best.at(-1) as string)) best = [...path];
      return;
    }
    for (const next of lifecycle.transitions[status] ?? []) {
      if (onPath.has(next)) continue;
      path.push(next);
      onPath.add(next);
      walk(next);
      onPath.delete(next);
      path.pop();
    }
  };
  walk(start);
  return best;
}

/** Lifecycles made from a preset before labels shipped have none: they take the preset's. */
export function displayOf(lifecycle: Lifecycle, presets: Record<string, Lifecycle>): StatusDisplay | undefined {
  if (lifecycle.display) return lifecycle.display;
  const preset = presets[lifecycle.name];
  const samePreset = preset && preset.statuses.length === lifecycle.statuses.length && preset.statuses.every((s, i) => lifecycle.statuses[i] === s);
  return samePreset ? preset.display : undefined;
}

export interface PublicViewInput {
  order: Order;
  lifecycle: Lifecycle;
  display: StatusDisplay | undefined;
  branding: Branding;
  projectName: string;
  locale: Locale;
}

/**
 * Only what a buyer may see: status, the public timeline (statuses and times, never a
 * reason), amount and currency, and the metadata keys the project lists. Never the user's
 * id, the external id or any other metadata.
 */
export function publicOrderView({ order, lifecycle, display, branding, projectName, locale }: PublicViewInput): PublicOrderView {
  const label = (status: string) => statusText(display, status, locale).label;
  const steps = happyPath(lifecycle);
  const visited = new Set(order.statusHistory.map((entry) => entry.status));
  visited.add(order.status);
  const current = steps.indexOf(order.status);
  const metadata: Record<string, unknown> = {};
  for (const key of branding.publicMetadataKeys) if (Object.hasOwn(order.metadata, key)) metadata[key] = order.metadata[key];
  const text = statusText(display, order.status, locale);
  return {
    object: 'public_order',
    locale,
    order: {
      id: order.id,
      status: order.status,
      version: order.version,
      updatedAt: order.updatedAt,
      amount: order.amount,
      currency: order.currency,
      metadata,
      timeline: order.statusHistory.map((entry) => ({ status: entry.status, label: label(entry.status), at: entry.at })),
      expectedBy: order.expectedBy,
      eta: order.eta,
    },
    status: {
      label: text.label,
      description: text.description ?? null,
      final: order.final,
      successful: order.final && steps.at(-1) === order.status,
    },
    progress: {
      // A step is reached when the order passed through it, or stands past it on the path.
      steps: steps.map((status, index) => ({ status, label: label(status), reached: visited.has(status) || (current >= 0 && index <= current) })),
      current,
    },
    branding: {
      displayName: branding.displayName ?? projectName,
      logoUrl: branding.logoUrl,
      accentColor: branding.accentColor ?? DEFAULT_ACCENT,
      supportUrl: branding.supportUrl,
      supportEmail: branding.supportEmail,
    },
  };
}
