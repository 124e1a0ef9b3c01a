/** Webhook endpoints, deliveries and attempts, as the API shows them. */
export interface WebhookSecret {
  secret: string;
  /** null for the current secret; old secrets keep signing until this time (rotation grace). */
  expiresAt: string | null;
}

export interface WebhookEndpoint {
  id: string;
  projectId: string;
  url: string;
  description: string;
  /** Event names this endpoint receives; `['*']` means every event. */
  enabledEvents: string[];
  disabled: boolean;
  disabledAt: string | null;
  disabledReason: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
  /** Custom headers sent with every delivery. */
  headers: Record<string, string>;
  /** Most deliveries per second to this endpoint, across every dispatcher; null for no limit. */
  rateLimit: number | null;
  /** Most attempts in flight at once to this endpoint, across every dispatcher; null for the server's default. */
  maxInFlight: number | null;
  metadata: Record<string, unknown>;
}

/** What `GET /webhook-endpoints/{id}/stats` calls the endpoint's health. */
export type EndpointState = 'enabled' | 'failing' | 'disabled';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookDelivery {
  id: string;
  projectId: string;
  endpointId: string;
  eventId: string;
  eventName: string;
  orderId: string | null;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

export type AttemptOutcome = 'succeeded' | 'failed';

export interface WebhookAttempt {
  deliveryId: string;
  endpointId: string;
  url: string;
  attemptedAt: string;
  durationMs: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  responseHeaders: Record<string, string> | null;
  /** The first 4 KiB of the response body, as text. */
  responseBody: string | null;
  /** Why no HTTP status came back: timeout, connect_timeout, connection_refused, address_not_allowed, dns_error, tls_error, network_error. */
  errorCode: string | null;
  error: string | null;
}

export const ALL_EVENTS = '*';

/** Earlier names of operational events, still honoured in `enabledEvents`. */
const EVENT_NAME_ALIASES: Record<string, string> = { WEBHOOK_ENDPOINT_DISABLED: 'endpoint.disabled' };

/**
 * Operational events that `"*"` does not cover: one can come per failed delivery, so an
 * endpoint gets them only by naming them. (`endpoint.disabled` is rare, and `"*"` always
 * received it.)
 */
const NAMED_ONLY_EVENTS = new Set(['endpoint.failing', 'endpoint.recovered', 'delivery.exhausted']);

/** Whether an endpoint with this filter receives an event of that name. */
export function endpointWantsEvent(enabledEvents: string[], eventName: string): boolean {
  if (enabledEvents.includes(ALL_EVENTS) && !NAMED_ONLY_EVENTS.has(eventName)) return true;
  return enabledEvents.some((name) => name === eventName || EVENT_NAME_ALIASES[name] === eventName);
}
