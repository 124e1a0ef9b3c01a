/**
 * The public shapes of Ordercast, as every channel (REST, webhooks, sockets) carries them.
 * Dependency-free on purpose: the server can import these types instead of keeping its own copy.
 */

export interface StatusHistoryEntry {
  status: string;
  reason: string | null;
  at: string;
  version: number;
}

export interface Order {
  id: string;
  object: 'order';
  projectId: string;
  externalId: string | null;
  userExternalId: string | null;
  amount: string | null;
  currency: string | null;
  metadata: Record<string, unknown>;
  status: string;
  /** 1 at creation, +1 on every change; the same number on every channel. */
  version: number;
  /** Whether `status` is a final status of the project's lifecycle. */
  final: boolean;
  createdAt: string;
  updatedAt: string;
  statusHistory: StatusHistoryEntry[];
  /** When the order should leave its status (the lifecycle's `expectedWithin`); null without one, or once final. */
  expectedBy: string | null;
  /** When it should reach a successful final status, along the lifecycle's happy path; null when unknown. */
  eta: string | null;
  /** Whether it is still in its status past `expectedBy` (an `order.stuck` event said so); moving on clears it. */
  stuck: boolean;
}

/** The `order:update` event of the Socket.IO gateway (`/ws`). */
export interface OrderUpdate {
  orderId: string;
  status: string;
  previousStatus: string | null;
  version: number;
  updatedAt: string;
  eventName: string;
  order: Order;
}

/** The JSON body of an Ordercast webhook. */
export interface OrderWebhookEvent {
  id: string;
  eventName: string;
  createdAt: string;
  data: Order;
  /** Present, and true, on examples sent on demand (`POST /webhook-endpoints/{id}/send-example`). */
  test?: boolean;
}

/** Every error code the REST API and the gateways answer with. */
export type ApiErrorCode =
  | 'invalid_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'validation_failed'
  | 'invalid_lifecycle'
  | 'unknown_status'
  | 'invalid_initial_status'
  | 'invalid_transition'
  | 'version_conflict'
  | 'order_not_found'
  | 'project_not_found'
  | 'dashboard_session_not_found'
  | 'external_id_taken'
  | 'invalid_cursor'
  | 'invalid_last_event_id'
  | 'key_in_query'
  | 'unauthorized'
  | 'invalid_token'
  | 'token_expired'
  | 'forbidden'
  | 'idempotency_key_reused'
  | 'idempotency_key_in_use'
  | 'rate_limited'
  | 'limit_exceeded'
  | 'quota_exceeded'
  | 'invalid_quota'
  | 'unknown_event'
  | 'invalid_webhook_url'
  | 'webhook_url_not_allowed'
  | 'unknown_event_name'
  | 'webhook_endpoint_not_found'
  | 'webhook_delivery_not_found'
  | 'webhook_endpoint_disabled'
  | 'invalid_webhook_header'
  | 'forbidden_webhook_header'
  | 'webhook_headers_too_large'
  | 'invalid_rate_limit'
  | 'invalid_max_in_flight'
  | 'unknown_event_type'
  | 'secret_key_required'
  | 'permission_denied'
  | 'unknown_permission'
  | 'project_disabled'
  | 'api_key_not_found'
  | 'api_key_inactive'
  | 'route_not_found'
  | 'not_found'
  | 'order_link_expired'
  | 'order_link_revoked'
  | 'service_unavailable'
  | 'database_unavailable'
  | 'internal_error';

/** `{"error": {...}}`: the body of every REST error. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode | (string & {}); message: string; details?: unknown };
}

/**
 * How the SDK authenticates: a secret key server-side, or in a browser the project's
 * publishable key plus a user JWT minted by the merchant's backend.
 */
export type Credentials = { secretKey: string } | { publishableKey: string; token: string };
