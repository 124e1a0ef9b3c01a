/**
 * What an order link shows (`GET /o/{token}/status.json`, and each `order.update` of
 * `GET /o/{token}/events`): only the fields the project made public, with display labels in
 * one locale. The shape is the contract between the hosted page and this client.
 */
export interface PublicOrderView {
  object: 'public_order';
  locale: string;
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
  branding: PublicBranding;
}

export interface PublicBranding {
  displayName: string | null;
  logoUrl: string | null;
  accentColor: string | null;
  supportUrl: string | null;
  supportEmail: string | null;
}

/** Enough checking that a proxy's page or a half-deployed server is not drawn as an order. */
export function looksLikePublicOrder(value: unknown): value is PublicOrderView {
  const view = value as Partial<PublicOrderView> | null;
  return (
    typeof view === 'object' &&
    view !== null &&
    typeof view.order?.id === 'string' &&
    typeof view.order.status === 'string' &&
    Number.isInteger(view.order.version) &&
    typeof view.status?.label === 'string' &&
    typeof view.status.final === 'boolean'
  );
}
