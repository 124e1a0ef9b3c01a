import { sql, type Selectable } from 'kysely';
import { ALL_EVENTS, type WebhookEndpoint, type WebhookSecret } from '../../domain/webhook.js';
import type { Dialect } from '../dialect.js';
import type { WebhookEndpointsTable } from '../schema.js';
import type { Executor } from '../transaction.js';

type EndpointRow = Selectable<WebhookEndpointsTable>;

/**
 * An endpoint with the secrets it signs with: never sent to API clients as is.
 * Each `secret` is as stored, sealed by the SecretBox; WebhookEndpointService opens them to sign.
 */
export interface EndpointRecord extends Omit<WebhookEndpoint, 'headers'> {
  secrets: WebhookSecret[];
  /** The custom headers as stored: JSON sealed by the SecretBox, or null for none. */
  sealedHeaders: string | null;
  consecutiveFailures: number;
  healthySince: string | null;
  /** The next free send slot of a rate-limited endpoint as read (ms since the epoch); see takeSendSlot. */
  nextSendAtMs: number | null;
}

export function rowToEndpoint(row: EndpointRow): EndpointRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    url: row.url,
    description: row.description,
    enabledEvents: row.enabled_events === null ? [ALL_EVENTS] : (JSON.parse(row.enabled_events) as string[]),
    disabled: row.disabled_at !== null,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    secrets: JSON.parse(row.secrets) as WebhookSecret[],
    sealedHeaders: row.headers,
    rateLimit: row.rate_limit === null ? null : Number(row.rate_limit),
    maxInFlight: row.max_in_flight === null ? null : Number(row.max_in_flight),
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    consecutiveFailures: Number(row.consecutive_failures),
    healthySince: row.healthy_since,
    nextSendAtMs: row.next_send_at_ms === null ? null : Number(row.next_send_at_ms),
  };
}

function enabledEventsColumn(enabledEvents: string[]): string | null {
  return enabledEvents.includes(ALL_EVENTS) ? null : JSON.stringify(enabledEvents);
}

export async function insertEndpoint(db: Executor, endpoint: EndpointRecord): Promise<void> {
  await db
    .insertInto('webhook_endpoints')
    .values({
      id: endpoint.id,
      project_id: endpoint.projectId,
      url: endpoint.url,
      description: endpoint.description,
      enabled_events: enabledEventsColumn(endpoint.enabledEvents),
      secrets: JSON.stringify(endpoint.secrets),
      disabled_at: endpoint.disabledAt,
      disabled_reason: endpoint.disabledReason,
      failing_since: endpoint.failingSince,
      created_at: endpoint.createdAt,
      updated_at: endpoint.updatedAt,
      headers: endpoint.sealedHeaders,
      rate_limit: endpoint.rateLimit,
      max_in_flight: endpoint.maxInFlight,
      metadata: JSON.stringify(endpoint.metadata),
      healthy_since: endpoint.healthySince,
    })
    .execute();
}

/**
 * Writes the fields a user edits. Secrets and the failure clock have their own
 * writers (rotation, the dispatcher), so a concurrent edit cannot undo them;
 * `resetFailureClock` clears the clock when an endpoint is re-enabled.
 */
export async function updateEndpointSettings(db: Executor, endpoint: EndpointRecord, resetFailureClock: boolean): Promise<void> {
  await db
    .updateTable('webhook_endpoints')
    .set({
      url: endpoint.url,
      description: endpoint.description,
      enabled_events: enabledEventsColumn(endpoint.enabledEvents),
      disabled_at: endpoint.disabledAt,
      disabled_reason: endpoint.disabledReason,
      ...(resetFailureClock ? { failing_since: null, consecutive_failures: 0, healthy_since: endpoint.updatedAt } : {}),
      headers: endpoint.sealedHeaders,
      rate_limit: endpoint.rateLimit,
      max_in_flight: endpoint.maxInFlight,
      metadata: JSON.stringify(endpoint.metadata),
      updated_at: endpoint.updatedAt,
    })
    .where('id', '=', endpoint.id)
    .execute();
}

export async function updateEndpointSecrets(db: Executor, id: string, secrets: WebhookSecret[], at: string): Promise<void> {
  await db
    .updateTable('webhook_endpoints')
    .set({ secrets: JSON.stringify(secrets), updated_at: at })
    .where('id', '=', id)
    .execute();
}

export async function findEndpoint(db: Executor, projectId: string, id: string): Promise<EndpointRecord | undefined> {
  const row = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
  return row ? rowToEndpoint(row) : undefined;
}

/** Reads an endpoint and, on PostgreSQL, locks it until the transaction ends (SQLite transactions are serial already). */
export async function findEndpointForUpdate(db: Executor, dialect: Dialect, projectId: string, id: string): Promise<EndpointRecord | undefined> {
  const row = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where('project_id', '=', projectId)
    .$if(dialect === 'postgres', (q) => q.forUpdate())
    .executeTakeFirst();
  return row ? rowToEndpoint(row) : undefined;
}

export async function findEndpointById(db: Executor, id: string): Promise<EndpointRecord | undefined> {
  const row = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? rowToEndpoint(row) : undefined;
}

/** The endpoints with these ids that still exist. */
export async function findEndpointsByIds(db: Executor, ids: readonly string[]): Promise<EndpointRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('webhook_endpoints').selectAll().where('id', 'in', ids).execute();
  return rows.map(rowToEndpoint);
}

export async function listEndpoints(db: Executor, projectId: string): Promise<EndpointRecord[]> {
  const rows = await db.selectFrom('webhook_endpoints').selectAll().where('project_id', '=', projectId).orderBy('created_at').orderBy('id').execute();
  return rows.map(rowToEndpoint);
}

export async function listEnabledEndpoints(db: Executor, projectId: string): Promise<EndpointRecord[]> {
  const rows = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('disabled_at', 'is', null)
    .orderBy('created_at')
    .execute();
  return rows.map(rowToEndpoint);
}

export async function deleteEndpoint(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('webhook_attempts').where('endpoint_id', '=', id).execute();
  await db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
  await db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
}

/**
 * Counts failed attempts in a row and starts the failure clock if it is not running.
 * Returns when the clock started and the run's length after these failures.
 */
export async function markEndpointFailing(db: Executor, id: string, at: string, failures = 1): Promise<{ failingSince: string; consecutiveFailures: number }> {
  await db
    .updateTable('webhook_endpoints')
    .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', failures), failing_since: eb.fn.coalesce('failing_since', eb.val(at)) }))
    .where('id', '=', id)
    .execute();
  const row = await db.selectFrom('webhook_endpoints').select(['failing_since', 'consecutive_failures']).where('id', '=', id).executeTakeFirst();
  return { failingSince: row?.failing_since ?? at, consecutiveFailures: Number(row?.consecutive_failures ?? failures) };
}

/** Ends a run of failures; returns how long the run was (0 when the endpoint was not failing). */
export async function markEndpointHealthy(db: Executor, id: string, at: string): Promise<number> {
  const row = await db.selectFrom('webhook_endpoints').select(['failing_since', 'consecutive_failures']).where('id', '=', id).executeTakeFirst();
  if (!row || (row.failing_since === null && Number(row.consecutive_failures) === 0)) return 0;
  await db.updateTable('webhook_endpoints').set({ failing_since: null, consecutive_failures: 0, healthy_since: at }).where('id', '=', id).execute();
  return Number(row.consecutive_failures);
}

/**
 * Takes the next send slot of a rate-limited endpoint: the later of now and the slot
 * after the last one taken, one interval on. One UPDATE, so dispatchers in several
 * processes never take the same slot. Returns the slot's time (ms since the epoch).
 */
export async function takeSendSlot(db: Executor, dialect: Dialect, id: string, nowMs: number, intervalMs: number): Promise<number> {
  const later =
    dialect === 'postgres' ? sql`greatest(coalesce(next_send_at_ms, 0), ${nowMs}::double precision)` : sql`max(coalesce(next_send_at_ms, 0), ${nowMs})`;
  const result = await sql<{ slot: number | string }>`
    update webhook_endpoints set next_send_at_ms = ${later} + ${intervalMs}
    where id = ${id}
    returning next_send_at_ms - ${intervalMs} as slot`.execute(db);
  const slot = result.rows[0]?.slot;
  return slot === undefined ? nowMs : Number(slot);
}

/** Disables the endpoint unless it already is; returns true when this call disabled it. */
export async function disableEndpoint(db: Executor, id: string, at: string, reason: string): Promise<boolean> {
  const result = await db
    .updateTable('webhook_endpoints')
    .set({ disabled_at: at, disabled_reason: reason, updated_at: at })
    .where('id', '=', id)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
