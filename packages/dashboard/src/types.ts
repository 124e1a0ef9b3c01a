import type { Order } from '@ordercast/client/types';

export type { Order };

export interface Lifecycle {
  name: string;
  statuses: string[];
  initial: string[];
  final: string[];
  transitions: Record<string, string[]>;
  createdEventName: string;
  eventNames: Record<string, string>;
  /** How long an order should stay in each non-final status ("10m"); absent on servers before order timing. */
  expectedWithin?: Record<string, string>;
}

export interface Project {
  id: string;
  object: 'project';
  name: string;
  createdAt: string;
  lifecycle: Lifecycle;
  keys: { kind: 'secret' | 'publishable'; prefix: string; createdAt: string; expiresAt: string | null }[];
}

/** An entry of `/orders/{id}/events`. */
export interface OrderEvent {
  id: string;
  type: 'order.created' | 'order.status_changed' | 'order.stuck';
  eventName: string;
  orderId: string;
  fromStatus: string | null;
  toStatus: string;
  reason: string | null;
  version: number;
  createdAt: string;
  /** Who caused it (null for events written before the server kept it). */
  actor?: Actor | null;
}

/** A credential as the API names it: a key, a dashboard session (with its role), or the CLI. */
export interface Actor {
  kind: string;
  id: string | null;
  role?: 'viewer' | 'operator';
}

/** One change in `GET /api/v2/audit-log`. */
export interface AuditEntry {
  id: string;
  action: string;
  actor: Actor;
  address: string | null;
  target: { type: string; id: string };
  changes: Record<string, unknown>;
  createdAt: string;
}

/** The dashboard session of this browser (`GET /api/v2/dashboard/session`). */
export interface DashboardSession {
  id: string;
  projectId: string;
  role: 'viewer' | 'operator';
  permissions: string[];
  expiresAt: string;
  csrfToken: string;
}

/** An entry of `/events`: the timeline entry with the order as it was after it. */
export interface FeedEvent extends OrderEvent {
  data: Order;
}

export interface ListPage<T> {
  object: 'list';
  data: T[];
  hasMore?: boolean;
  nextCursor?: string | null;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  enabledEvents: string[];
  disabled: boolean;
  disabledAt?: string | null;
  disabledReason?: string | null;
  failingSince?: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventName: string;
  orderId?: string | null;
  status: 'pending' | 'succeeded' | 'failed';
  attemptCount: number;
  nextAttemptAt?: string | null;
  lastStatusCode?: number | null;
  lastError?: string | null;
  createdAt: string;
  updatedAt?: string;
  completedAt?: string | null;
}

export interface WebhookAttempt {
  attemptedAt: string;
  durationMs: number;
  url?: string;
  outcome: 'succeeded' | 'failed';
  statusCode: number | null;
  responseBody?: string | null;
  errorCode: string | null;
  error: string | null;
}

export interface WebhookDeliveryWithAttempts extends WebhookDelivery {
  payload: unknown;
  attempts: WebhookAttempt[];
}
