import type { Selectable } from 'kysely';
import { ALL_EVENTS, type WebhookEndpoint, type WebhookSecret } from '../../domain/webhook.js';
import type { Dialect } from '../database.js';
import type { WebhookEndpointsTable } from '../schema.js';
import type { Executor } from '../transaction.js';

type EndpointRow = Selectable<WebhookEndpointsTable>;

/**
 * An endpoint with the secrets it signs with: never sent to API clients as is.
 * Each `secret` is as stored, sealed by the SecretBox; WebhookEndpointService opens them to sign.
 */
export interface EndpointRecord extends WebhookEndpoint {
  secrets: WebhookSecret[];
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
      ...(resetFailureClock ? { failing_since: null } : {}),
      updated_at: endpoint.updatedAt,
    })
    .where('id', '=', endpoint.id)
    .execute();
}

export async function updateEndpointSecrets(db: Executor, id: string, secrets: WebhookSecret[], at: string): Promise<void> {
  await db.updateTable('webhook_endpoints').set({ secrets: JSON.stringify(secrets), updated_at: at }).where('id', '=', id).execute();
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

/** Starts the failure clock if it is not running; returns the time it started. */
export async function markEndpointFailing(db: Executor, id: string, at: string): Promise<string> {
  await db.updateTable('webhook_endpoints').set({ failing_since: at }).where('id', '=', id).where('failing_since', 'is', null).execute();
  const row = await db.selectFrom('webhook_endpoints').select('failing_since').where('id', '=', id).executeTakeFirst();
  return row?.failing_since ?? at;
}

export async function markEndpointHealthy(db: Executor, id: string): Promise<void> {
  await db.updateTable('webhook_endpoints').set({ failing_since: null }).where('id', '=', id).where('failing_since', 'is not', null).execute();
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
