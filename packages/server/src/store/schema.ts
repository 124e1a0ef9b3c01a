import type { Generated } from 'kysely';

/**
 * The database schema as a TypeScript type (Kysely's way).
 * Timestamps are ISO-8601 UTC strings of fixed width, so they sort the same on
 * SQLite and PostgreSQL; JSON is stored as text and parsed by the repositories.
 */
export interface ProjectsTable {
  id: string;
  name: string;
  lifecycle: string;
  /** Signs user tokens; sealed by the SecretBox (see store/secret-box.ts). */
  token_secret: string;
  /** The secret `token_secret` replaced, still verifying tokens until `token_secret_previous_expires_at`. */
  token_secret_previous: string | null;
  token_secret_previous_expires_at: string | null;
  created_at: string;
  /** When the project was disabled (its credentials stop, its webhooks pause), or null. */
  disabled_at: string | null;
}

/** `restricted`: a secret key (rk_…) limited to its `permissions`. */
export type ApiKeyKind = 'secret' | 'publishable' | 'restricted';

export interface ApiKeysTable {
  id: string;
  project_id: string;
  kind: ApiKeyKind;
  key_hash: string;
  key_prefix: string;
  created_at: string;
  expires_at: string | null;
  /** JSON array of permissions (domain/permissions.ts) for a restricted key; null for the others. */
  permissions: string | null;
  /** When the key was revoked (its expires_at is set to the same moment), or null. */
  revoked_at: string | null;
}

/** Keys of the admin API (ak_…): they provision projects and their keys, and read no project's data. */
export interface AdminKeysTable {
  id: string;
  key_hash: string;
  key_prefix: string;
  created_at: string;
  expires_at: string | null;
}

export interface OrdersTable {
  seq: Generated<number>;
  id: string;
  project_id: string;
  external_id: string | null;
  user_external_id: string | null;
  amount: string | null;
  currency: string | null;
  metadata: string;
  status: string;
  version: number;
  /** JSON: the latest RECENT_HISTORY_LIMIT status changes; the whole history is order_events. */
  recent_history: string;
  created_at: string;
  updated_at: string;
  /** When the order should leave its status; null without an expected duration (migration 0014). */
  expected_by: string | null;
  /** When it should reach a successful final status along the happy path; null when unknown. */
  eta: string | null;
  /** 1 once an `order.stuck` event flagged this version; 0 again when the order moves on. */
  stuck: Generated<number>;
  /** expected_by while the order can still become stuck, else null: the sweeper's due index. */
  due_at: string | null;
}

export interface OrderEventsTable {
  seq: Generated<number>;
  id: string;
  project_id: string;
  order_id: string;
  type: string;
  event_name: string;
  from_status: string | null;
  to_status: string;
  reason: string | null;
  version: number;
  user_external_id: string | null;
  user_offset: number | null;
  /** JSON: the order right after the event (with its bounded recent history). */
  snapshot: string;
  created_at: string;
  /** PostgreSQL: the writing transaction's id, for commit-ordered reading; 0 on SQLite. */
  tx_id: Generated<number>;
  /** JSON (domain/actor.ts): the credential that caused the event; null for events written before it was kept. */
  actor: Generated<string | null>;
  /** The W3C traceparent of the append that wrote it; null when tracing was off (migration 0012). */
  trace_context: string | null;
}

/** One row per user channel: the last offset handed out, and the channel's epoch. */
export interface ChannelOffsetsTable {
  project_id: string;
  user_external_id: string;
  last_offset: number;
  epoch: string;
}

export interface IdempotencyKeysTable {
  project_id: string;
  key: string;
  request_hash: string;
  status_code: number;
  response_body: string;
  created_at: string;
}

export interface WebhookEndpointsTable {
  id: string;
  project_id: string;
  url: string;
  description: string;
  enabled_events: string | null;
  /** JSON `[{secret, expiresAt}]`, each `secret` sealed by the SecretBox. */
  secrets: string;
  disabled_at: string | null;
  disabled_reason: string | null;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
  /** JSON object of custom headers sent with every delivery, sealed by the SecretBox; null for none. */
  headers: string | null;
  /** Most deliveries per second to the endpoint; null for no limit. */
  rate_limit: number | null;
  /** JSON object. */
  metadata: Generated<string>;
  /** Most attempts in flight at once to the endpoint (its lane); null for the server's default. */
  max_in_flight: number | null;
  /** The next free send slot of a rate-limited endpoint (ms since the epoch), taken by every dispatcher. */
  next_send_at_ms: number | null;
  consecutive_failures: Generated<number>;
  /** Since when the endpoint has been enabled and not failing (the start of its current healthy spell). */
  healthy_since: string | null;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookDeliveriesTable {
  seq: Generated<number>;
  id: string;
  project_id: string;
  endpoint_id: string;
  event_id: string;
  event_name: string;
  order_id: string | null;
  payload: string;
  status: DeliveryStatus;
  attempt_count: number;
  schedule_step: number;
  next_attempt_at: string;
  locked_until: string | null;
  locked_by: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface WebhookAttemptsTable {
  seq: Generated<number>;
  delivery_id: string;
  endpoint_id: string;
  url: string;
  attempted_at: string;
  duration_ms: number;
  outcome: string;
  status_code: number | null;
  response_headers: string | null;
  response_body: string | null;
  error_code: string | null;
  error: string | null;
}

/** One row per `POST /orders/{id}/expunge`: what was wiped, and when. */
export interface OrderExpungesTable {
  project_id: string;
  order_id: string;
  expunged_at: string;
  events: number;
  deliveries: number;
}

/** Values the whole deployment shares, such as the key that seals event-feed cursors. */
export interface SettingsTable {
  name: string;
  value: string;
}

/** A recoverable Socket.IO session's subscriptions (realtime/socketio/session-rows.ts), kept for the recovery window. */
export interface SocketioSessionsTable {
  session_id: string;
  project_id: string;
  /** JSON: { orders: [orderId, version the subscription started from][], feed: [txId, seq] | null }. */
  subscriptions: string;
  /** When the connection that wrote it connected (ms): a newer connection of the session wins. */
  connected_at: number;
  /** ms since the epoch. */
  expires_at: number;
}

/** A dashboard sign-in link and, once opened, the session it started (only hashes of the link and the cookie). */
export interface DashboardSessionsTable {
  id: string;
  project_id: string;
  role: string;
  link_hash: string;
  link_expires_at: string;
  /** How long the session lasts once the link is opened. */
  session_seconds: number;
  session_hash: string | null;
  started_at: string | null;
  started_address: string | null;
  expires_at: string | null;
  ended_at: string | null;
  /** `signed_out` or `revoked`. */
  end_reason: string | null;
  /** JSON (domain/actor.ts): who made the link. */
  created_by: string;
  created_at: string;
}

/** One change made with a credential (services/audit-log.ts); order changes are the order events' `actor`. */
export interface AuditLogTable {
  seq: Generated<number>;
  id: string;
  project_id: string | null;
  action: string;
  /** JSON (domain/actor.ts). */
  actor: string;
  /** The key or session id, or `cli`: what the actor filter matches. */
  actor_id: string;
  address: string | null;
  target_type: string;
  target_id: string;
  /** JSON object: what changed, never a secret. */
  changes: string;
  created_at: string;
}

/** A project's own quotas (services/project-quotas.ts); null follows the server's default. */
export interface ProjectQuotasTable {
  project_id: string;
  writes_per_second: number | null;
  open_connections: number | null;
  webhook_endpoints: number | null;
  metadata_bytes: number | null;
  updated_at: string;
}

/** A buyer's link to one order (services/order-link-service.ts): only the token's hash. */
export interface OrderLinksTable {
  id: string;
  project_id: string;
  order_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

/** How a project's buyer page looks (domain/branding.ts); no row: the defaults. */
export interface ProjectBrandingTable {
  project_id: string;
  display_name: string | null;
  logo_url: string | null;
  accent_color: string | null;
  support_url: string | null;
  support_email: string | null;
  /** JSON array: the metadata keys a buyer may see. */
  public_metadata_keys: string;
  updated_at: string;
}

export interface Database {
  projects: ProjectsTable;
  api_keys: ApiKeysTable;
  admin_keys: AdminKeysTable;
  orders: OrdersTable;
  order_events: OrderEventsTable;
  channel_offsets: ChannelOffsetsTable;
  idempotency_keys: IdempotencyKeysTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  ordercast_settings: SettingsTable;
  order_expunges: OrderExpungesTable;
  socketio_sessions: SocketioSessionsTable;
  dashboard_sessions: DashboardSessionsTable;
  audit_log: AuditLogTable;
  project_quotas: ProjectQuotasTable;
  order_links: OrderLinksTable;
  project_branding: ProjectBrandingTable;
}
