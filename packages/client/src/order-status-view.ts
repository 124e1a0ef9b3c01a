import type { PublicBranding, PublicOrderView } from './public-order.js';
import type { Order } from './types.js';

/** What `<ordercast-order-status>` draws, whichever way the order reached it. */
export interface OrderStatusView {
  version: number;
  status: string;
  label: string;
  description: string | null;
  final: boolean;
  updatedAt: string;
  /** When the order should be complete (docs/timing.md), while it is on its way; null when unknown or final. */
  eta: string | null;
  amount: string | null;
  currency: string | null;
  steps: Array<{ status: string; label: string; reached: boolean; current: boolean }>;
  timeline: Array<{ status: string; label: string; at: string }>;
  branding: PublicBranding | null;
}

/** Display text for a status, set by the page in user-token mode (a link brings the project's own). */
export type StatusLabels = Record<string, string | { label: string; description?: string }>;

/** A link's view: labels, progress and branding come from the project, in the requested locale. */
export function viewOfPublicOrder(view: PublicOrderView): OrderStatusView {
  const { order } = view;
  const steps = view.progress?.steps ?? [];
  // The step of the current status, or else the last one reached (a status off the happy path).
  let current = steps.findIndex((step) => step.status === order.status);
  if (current === -1) current = steps.map((step) => step.reached).lastIndexOf(true);
  return {
    version: order.version,
    status: order.status,
    label: view.status.label,
    description: view.status.description ?? null,
    final: view.status.final,
    updatedAt: order.updatedAt,
    eta: view.status.final ? null : (order.eta ?? null),
    amount: order.amount ?? null,
    currency: order.currency ?? null,
    steps: steps.map((step, index) => ({ status: step.status, label: step.label, reached: step.reached, current: index === current })),
    timeline: order.timeline ?? [],
    branding: view.branding ?? null,
  };
}

/**
 * An order read with a user token: the REST shape has no display labels or lifecycle, so
 * labels come from `labels` (else the status name, made readable) and progress from `steps`
 * (the happy path the page lists; none, no progress). The timeline is the order's recent
 * `statusHistory` plus every version seen since.
 */
export function viewOfOrder(order: Order, previous: OrderStatusView | undefined, labels: StatusLabels = {}, steps: readonly string[] = []): OrderStatusView {
  const labelOf = labelsFrom(labels);
  const entry = labels[order.status];
  const seen = new Map<string, { status: string; label: string; at: string }>();
  for (const item of previous?.timeline ?? []) seen.set(`${item.status}@${item.at}`, item);
  for (const item of [...order.statusHistory].sort((a, b) => a.version - b.version)) {
    seen.set(`${item.status}@${item.at}`, { status: item.status, label: labelOf(item.status), at: item.at });
  }
  seen.set(`${order.status}@${order.updatedAt}`, { status: order.status, label: labelOf(order.status), at: order.updatedAt });
  const timeline = [...seen.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const reachedStatuses = new Set(timeline.map((item) => item.status));
  const currentIndex = steps.indexOf(order.status);
  const lastReached = currentIndex !== -1 ? currentIndex : steps.reduce((last, status, index) => (reachedStatuses.has(status) ? index : last), -1);
  return {
    version: order.version,
    status: order.status,
    label: labelOf(order.status),
    description: typeof entry === 'object' ? (entry.description ?? null) : null,
    final: order.final,
    updatedAt: order.updatedAt,
    eta: order.final ? null : (order.eta ?? null),
    amount: order.amount,
    currency: order.currency,
    steps: steps.map((status, index) => ({ status, label: labelOf(status), reached: index <= lastReached, current: index === lastReached })),
    timeline,
    branding: null,
  };
}

/** The same view with other labels (user-token mode: the page changed `labels`), without reading the order again. */
export function relabel(view: OrderStatusView, labels: StatusLabels): OrderStatusView {
  const labelOf = labelsFrom(labels);
  const entry = labels[view.status];
  return {
    ...view,
    label: labelOf(view.status),
    description: typeof entry === 'object' ? (entry.description ?? null) : null,
    steps: view.steps.map((step) => ({ ...step, label: labelOf(step.status) })),
    timeline: view.timeline.map((item) => ({ ...item, label: labelOf(item.status) })),
  };
}

function labelsFrom(labels: StatusLabels): (status: string) => string {
  return (status) => {
    const entry = labels[status];
    return typeof entry === 'string' ? entry : (entry?.label ?? readable(status));
  };
}

/** `PENDING_DELIVERY` → `Pending delivery`: the best a status name can do without the project's labels. */
export function readable(status: string): string {
  const words = status
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
