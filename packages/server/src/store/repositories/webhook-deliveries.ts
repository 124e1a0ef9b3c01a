import { sql, type Selectable } from 'kysely';
import type { WebhookDelivery } from '../../domain/webhook.js';
import { paddedPieces } from '../batch-shapes.js';
import type { Dialect } from '../dialect.js';
import { precompiled } from '../precompiled-query.js';
import type { DeliveryStatus, WebhookDeliveriesTable } from '../schema.js';
import type { Executor } from '../transaction.js';

export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

export function rowToDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    projectId: row.project_id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventName: row.event_name,
    orderId: row.order_id,
    status: row.status,
    attemptCount: Number(row.attempt_count),
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}

export type NewDelivery = Pick<WebhookDelivery, 'id' | 'projectId' | 'endpointId' | 'eventId' | 'eventName' | 'orderId' | 'createdAt'> & {
  payload: string;
};

export async function insertDelivery(db: Executor, delivery: NewDelivery): Promise<void> {
  await db
    .insertInto('webhook_deliveries')
    .values({
      id: delivery.id,
      project_id: delivery.projectId,
      endpoint_id: delivery.endpointId,
      event_id: delivery.eventId,
      event_name: delivery.eventName,
      order_id: delivery.orderId,
      payload: delivery.payload,
      status: 'pending',
      attempt_count: 0,
      schedule_step: 0,
      next_attempt_at: delivery.createdAt,
      locked_until: null,
      locked_by: null,
      last_status_code: null,
      last_error: null,
      created_at: delivery.createdAt,
      updated_at: delivery.createdAt,
      completed_at: null,
    })
    .execute();
}

/** How wide each endpoint's lane is: the most of its deliveries leased at once, by every dispatcher together. */
export interface LaneWidths {
  /** For an endpoint without a `max_in_flight` of its own. */
  defaultWidth: number;
  /** An endpoint with this many failed attempts in a row is failing: its lane narrows to one probe. */
  failingAfter: number;
}

/**
 * Leases due deliveries to one worker, at most `limit`, and never more of one endpoint
 * than its lane has room for. A delivery is due when it is pending, its time has come,
 * nobody holds a live lease on it, and no older delivery of the same order to the same
 * endpoint is still pending (per-order ordering; other orders are not held back).
 *
 * Lanes: a lease is a slot of its endpoint's lane, so the room left is the lane's width
 * minus the live leases on the endpoint, counted over every process. Endpoints whose lane
 * is full are passed over before the `limit` is applied, so a hanging endpoint, or one
 * with a backlog of 50,000, does not hide another endpoint's first event; among what is
 * due, each endpoint gets its oldest deliveries, up to its room. Two processes claiming at
 * the same moment each count the leases committed before them, so a lane can briefly be
 * wider across processes than one process allows (up to one lane per racing claim), as the
 * rate limit's slots can be one ahead (docs/webhooks.md).
 *
 * A disabled project's deliveries are not claimed: they wait, due, until it is enabled again.
 *
 * This is the claim on PostgreSQL, where SKIP LOCKED lets several processes claim at once
 * without waiting for or doubling each other. SQLite claims by the same rules in three
 * shorter statements in one write transaction (sqlite-delivery-statements.ts beside it),
 * which its planner runs faster.
 */
export async function claimDueDeliveries(
  db: Executor,
  claim: { now: string; leaseUntil: string; workerId: string; limit: number; lanes: LaneWidths },
): Promise<DeliveryRow[]> {
  // laneWidth (domain/attempt-outcome.ts), in SQL: one probe while failing, else the endpoint's own width or the default.
  const width = sql`(case when e.consecutive_failures >= ${claim.lanes.failingAfter} then 1 else coalesce(e.max_in_flight, ${claim.lanes.defaultWidth}) end)`;
  const result = await sql<DeliveryRow>`
    with busy as (
      select l.endpoint_id, count(*) as leased from webhook_deliveries l
      where l.locked_by is not null and l.locked_until >= ${claim.now}
      group by l.endpoint_id
    )
    update webhook_deliveries set locked_until = ${claim.leaseUntil}, locked_by = ${claim.workerId}
    where seq in (
      select r.seq from (
        select c.seq, c.endpoint_id, row_number() over (partition by c.endpoint_id order by c.next_attempt_at, c.seq) as lane_rank
        from (
          select d.seq, d.endpoint_id, d.next_attempt_at from webhook_deliveries d
          where d.status = 'pending'
            and d.next_attempt_at <= ${claim.now}
            and (d.locked_until is null or d.locked_until < ${claim.now})
            and not exists (
              select 1 from webhook_deliveries o
              where o.endpoint_id = d.endpoint_id and o.order_id = d.order_id and o.status = 'pending' and o.seq < d.seq
            )
            and d.endpoint_id not in (
              select b.endpoint_id from busy b left join webhook_endpoints e on e.id = b.endpoint_id where b.leased >= ${width}
            )
            and d.project_id not in (select p.id from projects p where p.disabled_at is not null)
          order by d.next_attempt_at, d.seq
          limit ${claim.limit}
          for update of d skip locked
        ) c
      ) r
      left join webhook_endpoints e on e.id = r.endpoint_id
      left join busy b on b.endpoint_id = r.endpoint_id
      where r.lane_rank <= ${width} - coalesce(b.leased, 0)
    )
    returning *`.execute(db);
  return result.rows.sort((a, b) => Number(a.seq) - Number(b.seq));
}

/** The probe of anyDeliveryDue, built once (see precompiled): the due index, in time order. */
const deliveryDue = precompiled('deliveryDue', (db, now: string, leaseEnded: string) =>
  db
    .selectFrom('webhook_deliveries')
    .select(sql.lit(1).as('due'))
    // A literal, not a parameter: SQLite uses a partial index only when it can see the value.
    .where('status', '=', sql.lit('pending'))
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', leaseEnded)]))
    .limit(sql.lit(1)),
);

/**
 * Whether any delivery is due for a claim: pending, its time come, and no live lease on it.
 * One read of the due index (a partial index over pending rows), without a transaction: an
 * idle dispatcher whose last claim found nothing asks this first, so a wake-up with no
 * outbox row behind it (an event of a project without endpoints) costs a read, not a claim. It
 * ignores lanes, ordering and disabled projects, so it can say yes where the claim then
 * finds nothing, never the reverse.
 */
export async function anyDeliveryDue(db: Executor, dialect: Dialect, now: string): Promise<boolean> {
  return (await deliveryDue.first(db, dialect, now, now)) !== undefined;
}

export interface DeliveryOutcome {
  status: DeliveryStatus;
  nextAttemptAt: string;
  lastStatusCode: number | null;
  lastError: string | null;
  at: string;
}

/**
 * Records the result of an attempt for each delivery (all with the same outcome) and
 * releases their leases, where this worker still holds them. Returns how many it updated.
 */
export async function finishAttempts(db: Executor, ids: readonly string[], workerId: string, outcome: DeliveryOutcome): Promise<number> {
  let updated = 0;
  for (const piece of paddedPieces(ids)) {
    const result = await db
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        status: outcome.status,
        attempt_count: eb('attempt_count', '+', 1),
        schedule_step: eb('schedule_step', '+', 1),
        next_attempt_at: outcome.nextAttemptAt,
        locked_until: null,
        locked_by: null,
        last_status_code: outcome.lastStatusCode,
        last_error: outcome.lastError,
        updated_at: outcome.at,
        completed_at: outcome.status === 'pending' ? null : outcome.at,
      }))
      .where(piece.length === 1 ? (eb) => eb('id', '=', piece[0]!) : (eb) => eb('id', 'in', piece))
      .where('locked_by', '=', workerId)
      .executeTakeFirst();
    updated += Number(result.numUpdatedRows);
  }
  return updated;
}

/**
 * Makes every pending delivery of the endpoint due now: it has recovered, and what waited
 * on the retry schedule while it failed goes out at once. The claim keeps each order in order.
 */
export async function releaseEndpointBacklog(db: Executor, endpointId: string, at: string): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: at })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', sql.lit('pending'))
    .where('next_attempt_at', '>', at)
    .execute();
}

/** Gives leases back unused, where this worker still holds them. */
export async function releaseLeases(db: Executor, ids: readonly string[], workerId: string): Promise<void> {
  for (const piece of paddedPieces(ids)) {
    await db
      .updateTable('webhook_deliveries')
      .set({ locked_until: null, locked_by: null })
      .where('id', 'in', piece)
      .where('locked_by', '=', workerId)
      .execute();
  }
}

/** Releases a lease this worker holds and makes the delivery due at `at`, counting no attempt. */
export async function postponeDelivery(db: Executor, id: string, workerId: string, at: string): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ locked_until: null, locked_by: null, next_attempt_at: at })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .execute();
}

/** Gives up a delivery without an attempt (its endpoint is gone or disabled). */
export async function failWithoutAttempt(db: Executor, id: string, reason: string, at: string): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', locked_until: null, locked_by: null, last_error: reason, updated_at: at, completed_at: at })
    .where('id', '=', id)
    .execute();
}

export async function findDeliveryRow(db: Executor, projectId: string, id: string): Promise<DeliveryRow | undefined> {
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
}

export interface DeliveryListFilter {
  projectId: string;
  endpointId?: string;
  orderId?: string;
  status?: DeliveryStatus;
  beforeSeq?: number;
  limit: number;
}

/** Newest first. */
export async function listDeliveryRows(db: Executor, filter: DeliveryListFilter): Promise<DeliveryRow[]> {
  let query = db.selectFrom('webhook_deliveries').selectAll().where('project_id', '=', filter.projectId);
  if (filter.endpointId !== undefined) query = query.where('endpoint_id', '=', filter.endpointId);
  if (filter.orderId !== undefined) query = query.where('order_id', '=', filter.orderId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
  return query.orderBy('seq', 'desc').limit(filter.limit).execute();
}

/**
 * Puts a delivery back in the queue with a fresh retry schedule. A delivery in
 * flight keeps its lease, so it is not sent twice at once.
 */
export async function requeueDelivery(db: Executor, id: string, at: string): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', schedule_step: 0, next_attempt_at: at, completed_at: null, updated_at: at })
    .where('id', '=', id)
    .execute();
}

/** Re-queues every failed delivery of the endpoint created in [since, until). */
export async function requeueFailedDeliveries(db: Executor, endpointId: string, since: string, until: string, at: string): Promise<number> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', schedule_step: 0, next_attempt_at: at, completed_at: null, updated_at: at })
    .where('endpoint_id', '=', endpointId)
    // A literal, not a parameter: SQLite uses a partial index only when it can see the value.
    .where('status', '=', sql.lit('failed'))
    .where('created_at', '>=', since)
    .where('created_at', '<', until)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface QueueStats {
  pending: number;
  oldestPendingCreatedAt: string | null;
  /** Enabled endpoints whose recent attempts keep failing (`failing_since` set). */
  failingEndpoints: number;
}

export async function queueStats(db: Executor): Promise<QueueStats> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('status', '=', sql.lit('pending'))
    .executeTakeFirst();
  const failing = await db
    .selectFrom('webhook_endpoints')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('failing_since', 'is not', null)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return {
    pending: Number(row?.n ?? 0),
    oldestPendingCreatedAt: (row?.oldest as string | null | undefined) ?? null,
    failingEndpoints: Number(failing?.n ?? 0),
  };
}
