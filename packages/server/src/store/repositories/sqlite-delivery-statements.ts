import { CompiledQuery } from 'kysely';
import { laneWidth } from '../../domain/attempt-outcome.js';
import type { WebhookAttempt } from '../../domain/webhook.js';
import type { DeliveryOutcome, DeliveryRow, LaneWidths } from './webhook-deliveries.js';
import type { Executor } from '../transaction.js';

/*
 * The dispatcher's hot statements on SQLite, as fixed SQL texts that take their lists as
 * one JSON parameter: each text is prepared once (the store's statement cache), and
 * nothing is built or compiled per call. The claim is split in three short statements
 * (leases, then what is due, then the update) because SQLite ran the one-statement
 * claim of claimDueDeliveries, an UPDATE over a windowed subquery, at more than the three
 * cost together (figures in bench/README.md). Every function here runs inside the caller's
 * transaction, which on SQLite holds the one write lock (BEGIN IMMEDIATE): nothing
 * changes between the statements of a claim.
 */

/** Live leases per endpoint, with what sets the width of its lane. */
const LEASES_SQL = `select l.endpoint_id, count(*) as leased, e.consecutive_failures, e.max_in_flight
from webhook_deliveries l left join webhook_endpoints e on e.id = l.endpoint_id
where l.locked_by is not null and l.locked_until >= ?
group by l.endpoint_id`;

/**
 * Due deliveries in claim order, passing over the endpoints whose lanes are full (before
 * the limit) and disabled projects, and holding back a delivery while an older one of its
 * order to its endpoint is pending (per-order ordering).
 */
const DUE_SQL = `select d.seq, d.endpoint_id, e.consecutive_failures, e.max_in_flight
from webhook_deliveries d left join webhook_endpoints e on e.id = d.endpoint_id
where d.status = 'pending'
  and d.next_attempt_at <= ?
  and (d.locked_until is null or d.locked_until < ?)
  and not exists (
    select 1 from webhook_deliveries o
    where o.endpoint_id = d.endpoint_id and o.order_id = d.order_id and o.status = 'pending' and o.seq < d.seq
  )
  and d.endpoint_id not in (select value from json_each(?))
  and d.project_id not in (select p.id from projects p where p.disabled_at is not null)
order by d.next_attempt_at, d.seq
limit ?`;

const LEASE_SQL = `update webhook_deliveries set locked_until = ?, locked_by = ?
where seq in (select value from json_each(?))
returning *`;

const FINISH_SQL = `update webhook_deliveries set
  status = ?, attempt_count = attempt_count + 1, schedule_step = schedule_step + 1, next_attempt_at = ?,
  locked_until = null, locked_by = null, last_status_code = ?, last_error = ?, updated_at = ?, completed_at = ?
where id in (select value from json_each(?)) and locked_by = ?`;

/** One row per attempt, in the order given (their `seq` follows it). */
const INSERT_ATTEMPTS_SQL = `insert into webhook_attempts
  (delivery_id, endpoint_id, url, attempted_at, duration_ms, outcome, status_code, response_headers, response_body, error_code, error)
select a.value ->> 0, a.value ->> 1, a.value ->> 2, a.value ->> 3, a.value ->> 4, a.value ->> 5, a.value ->> 6, a.value ->> 7, a.value ->> 8, a.value ->> 9, a.value ->> 10
from json_each(?) a order by a.key`;

interface LaneRow {
  endpoint_id: string;
  consecutive_failures: number | null;
  max_in_flight: number | null;
}

async function run<R>(db: Executor, sqlText: string, parameters: unknown[]): Promise<R[]> {
  return (await db.executeQuery<R>(CompiledQuery.raw(sqlText, parameters))).rows;
}

/** claimDueDeliveries (store/repositories/webhook-deliveries.ts), the same rules, on SQLite. */
export async function claimDueSqlite(
  db: Executor,
  claim: { now: string; leaseUntil: string; workerId: string; limit: number; lanes: LaneWidths },
): Promise<DeliveryRow[]> {
  const width = (row: LaneRow) =>
    laneWidth(
      Number(row.consecutive_failures ?? 0),
      row.max_in_flight === null ? null : Number(row.max_in_flight),
      claim.lanes.defaultWidth,
      claim.lanes.failingAfter,
    );
  const room = new Map<string, number>();
  const full: string[] = [];
  for (const row of await run<LaneRow & { leased: number }>(db, LEASES_SQL, [claim.now])) {
    const left = width(row) - Number(row.leased);
    if (left <= 0) full.push(row.endpoint_id);
    else room.set(row.endpoint_id, left);
  }
  const seqs: number[] = [];
  for (const row of await run<LaneRow & { seq: number }>(db, DUE_SQL, [claim.now, claim.now, JSON.stringify(full), claim.limit])) {
    // Each endpoint gets its oldest due deliveries, up to the room left in its lane.
    const left = room.get(row.endpoint_id) ?? width(row);
    if (left <= 0) continue;
    room.set(row.endpoint_id, left - 1);
    seqs.push(Number(row.seq));
  }
  if (seqs.length === 0) return [];
  const rows = await run<DeliveryRow>(db, LEASE_SQL, [claim.leaseUntil, claim.workerId, JSON.stringify(seqs)]);
  return rows.sort((a, b) => Number(a.seq) - Number(b.seq));
}

/** finishAttempts (store/repositories/webhook-deliveries.ts) on SQLite, in one statement whatever the number of ids. */
export async function finishAttemptsSqlite(db: Executor, ids: readonly string[], workerId: string, outcome: DeliveryOutcome): Promise<void> {
  await run(db, FINISH_SQL, [
    outcome.status,
    outcome.nextAttemptAt,
    outcome.lastStatusCode,
    outcome.lastError,
    outcome.at,
    outcome.status === 'pending' ? null : outcome.at,
    JSON.stringify(ids),
    workerId,
  ]);
}

/** insertAttempts (store/repositories/webhook-attempts.ts) on SQLite, in one statement. */
export async function insertAttemptsSqlite(db: Executor, attempts: readonly WebhookAttempt[]): Promise<void> {
  const rows = attempts.map((a) => [
    a.deliveryId,
    a.endpointId,
    a.url,
    a.attemptedAt,
    Math.round(a.durationMs),
    a.outcome,
    a.statusCode,
    a.responseHeaders === null ? null : JSON.stringify(a.responseHeaders),
    a.responseBody,
    a.errorCode,
    a.error,
  ]);
  await run(db, INSERT_ATTEMPTS_SQL, [JSON.stringify(rows)]);
}
