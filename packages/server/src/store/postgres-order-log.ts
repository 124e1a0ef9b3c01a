import type pg from 'pg';
import type { OrderState } from '../domain/order-decisions.js';
import {
  decide,
  eventRecord,
  externalIdTaken,
  idempotencyOutcome,
  loggedEvent,
  payloadJsonOf,
  type AppendCommand,
  type AppendOutcome,
  type EventRecord,
  type StoredIdempotency,
} from './order-log.js';
import { rowToOrderState, timingColumns, type OrderRow } from './repositories/orders.js';
import { isConnectionError, isRetryable, isUniqueViolation } from '../lib/database-errors.js';

const MAX_ATTEMPTS = 20;

/** The order (if any) and the idempotency record (if any), in one round trip. */
const READ_STATE = `
  select o.*, i.request_hash as idem_request_hash, i.status_code as idem_status_code,
         i.response_body as idem_response_body, i.created_at as idem_created_at
  from (select 1) as one
  left join orders o on o.id = $1 and o.project_id = $2
  left join idempotency_keys i on i.project_id = $2 and i.key = $3`;

/**
 * The rest of an append, after `changed` (the CTE that inserts or moves the order and
 * returns it): the user channel's next offset, the event, one outbox row per enabled
 * endpoint that wants it, and the idempotency record. One statement is one transaction,
 * so all of it commits together or not at all, with no BEGIN or COMMIT round trips.
 * If `changed` returns no row (another writer moved the order first), nothing is written.
 */
const APPEND_REST = `
  next_offset as (
    insert into channel_offsets (project_id, user_external_id, last_offset, epoch)
    select project_id, user_external_id, 1, :channelEpoch from changed where user_external_id is not null
    on conflict (project_id, user_external_id) do update set last_offset = channel_offsets.last_offset + 1
    returning last_offset
  ),
  event as (
    insert into order_events (id, project_id, order_id, type, event_name, from_status, to_status, reason, version, user_external_id, user_offset, snapshot, created_at, actor, trace_context)
    select :eventId, project_id, id, :type, :eventName, :fromStatus, :status, :reason, :version, user_external_id, (select last_offset from next_offset), :orderJson, :at, :actor, :traceContext::text
    from changed
    returning seq, tx_id, user_offset
  ),
  outbox as (
    insert into webhook_deliveries (id, project_id, endpoint_id, event_id, event_name, order_id, payload, status, attempt_count, schedule_step, next_attempt_at, created_at, updated_at)
    select 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.project_id, e.id, :eventId, :eventName, c.id, :payloadJson, 'pending', 0, 0, :at, :at, :at
    from webhook_endpoints e join changed c on e.project_id = c.project_id
    where e.disabled_at is null and (e.enabled_events is null or strpos(e.enabled_events, :quotedEventName) > 0)
    returning 1
  ),
  remembered as (
    insert into idempotency_keys (project_id, key, request_hash, status_code, response_body, created_at)
    select project_id, :idempotencyKey, :requestHash, :statusCode, :orderJson, :at from changed where :idempotencyKey::text is not null
    returning 1
  )
  select seq, tx_id, user_offset, (select count(*) from outbox)::int as deliveries from event`;

const READ_STATE_STATEMENT: Statement = { name: 'ordercast_read_state', sql: READ_STATE };

const CREATE = numbered(
  'ordercast_append_create',
  `
  with changed as (
    insert into orders (id, project_id, external_id, user_external_id, amount, currency, metadata, status, version, recent_history, created_at, updated_at,
      expected_by, eta, stuck, due_at)
    values (:orderId, :projectId, :externalId, :userExternalId, :amount, :currency, :metadataJson, :status, 1, :historyJson, :at, :at,
      :expectedBy, :eta, :stuck, :dueAt)
    returning id, project_id, user_external_id
  ),${APPEND_REST}`,
);

const TRANSITION = numbered(
  'ordercast_append_transition',
  `
  with changed as (
    update orders set status = :status, version = :version, recent_history = :historyJson, updated_at = :at,
      expected_by = :expectedBy, eta = :eta, stuck = :stuck, due_at = :dueAt
    where id = :orderId and project_id = :projectId and version = :decidedOnVersion
    returning id, project_id, user_external_id
  ),${APPEND_REST}`,
);

/**
 * A statement run by name: PostgreSQL parses and plans it once per connection, and each
 * run sends only its parameters, not the whole text again.
 */
interface Statement {
  name?: string;
  sql: string;
}

/** `:name` placeholders as PostgreSQL's `$1…`, numbered in order of first use. */
function numbered(name: string, text: string): Statement & { names: string[] } {
  const names: string[] = [];
  const sql = text.replace(/(?<!:):([a-zA-Z]+)/g, (_, name: string) => {
    if (!names.includes(name)) names.push(name);
    return `$${names.indexOf(name) + 1}`;
  });
  return { name, sql, names };
}

type StateRow = Partial<OrderRow> & {
  idem_request_hash: string | null;
  idem_status_code: number | null;
  idem_response_body: string | null;
  idem_created_at: string | null;
};

/**
 * One command's append on PostgreSQL, on its own (the group commit, in
 * postgres-group-commit.ts, sends a batch's commands here when the batch's statement
 * failed for a reason that concerns one of them): at most two round trips per command, and no transaction
 * held open across them. The first reads the order and the idempotency record; the
 * domain decides; the second writes everything in one statement, moving the order
 * only if its version is still the one decided on (compare-and-set). A writer that
 * lost the race reads again and decides again, so no change is ever lost. A connection
 * that dies is retried once on a fresh one; for the write, only after the event's id
 * shows it did not commit, so a change is never applied twice.
 */
export class PostgresOrderLog {
  /** `namedStatements: false` for transaction poolers that cannot keep a statement prepared on one connection (PgBouncer before 1.21). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly namedStatements = true,
  ) {}

  async append(command: AppendCommand, ids: { orderId: string; eventId: string }): Promise<AppendOutcome> {
    const claim = command.idempotency;
    let lastError: unknown;
    let reconnected = false;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      let current: OrderState | undefined;
      if (command.kind !== 'create' || claim) {
        let state: StateRow[];
        try {
          state = await this.query<StateRow>(READ_STATE_STATEMENT, [command.kind !== 'create' ? command.orderId : null, command.projectId, claim?.key ?? null]);
        } catch (error) {
          // A read changes nothing: once on a fresh connection, then a 503 for the caller.
          if (reconnected || !isConnectionError(error)) throw error;
          reconnected = true;
          continue;
        }
        const row = state[0]!;
        const stored: StoredIdempotency | undefined =
          row.idem_request_hash === null
            ? undefined
            : { requestHash: row.idem_request_hash, statusCode: row.idem_status_code!, responseBody: row.idem_response_body!, createdAt: row.idem_created_at! };
        const earlier = idempotencyOutcome(claim, stored);
        if (earlier === 'lapsed') {
          await this.query('delete from idempotency_keys where project_id = $1 and key = $2 and created_at < $3', [
            command.projectId,
            claim!.key,
            claim!.lapsedBefore,
          ]);
          continue;
        }
        if (earlier) return earlier;
        current = row.id ? rowToOrderState(row as OrderRow) : undefined;
      }
      const at = new Date().toISOString();
      const decision = decide(command, current, ids, at);
      if (!decision.ok) return { kind: 'refused', refusal: decision.refusal };
      const record = eventRecord(command, decision.event);
      try {
        const statement = command.kind === 'create' ? CREATE : TRANSITION;
        const written = await this.query<{ seq: number; tx_id: number; user_offset: number | null; deliveries: number }>(
          statement,
          this.parameters(statement, command, record, current),
        );
        const positions = written[0];
        if (!positions) continue; // the order moved since it was read: decide again
        return {
          kind: 'appended',
          event: loggedEvent(record, { seq: positions.seq, txId: positions.tx_id, userOffset: positions.user_offset }),
          deliveries: positions.deliveries,
        };
      } catch (error) {
        lastError = error;
        if (isConnectionError(error)) {
          // The connection died under the statement: it committed whole or not at all. The
          // event id says which, read on a fresh connection; if that fails too, a 503.
          if (reconnected) throw error;
          reconnected = true;
          const committed = await this.query<{ seq: number; tx_id: number; user_offset: number | null; deliveries: number }>(
            'select seq, tx_id, user_offset, (select count(*) from webhook_deliveries where event_id = $1)::int as deliveries from order_events where id = $1',
            [record.event.id],
          ).catch(() => {
            throw error;
          });
          const positions = committed[0];
          if (positions) {
            return {
              kind: 'appended',
              event: loggedEvent(record, { seq: positions.seq, txId: positions.tx_id, userOffset: positions.user_offset }),
              deliveries: positions.deliveries,
            };
          }
          continue;
        }
        // Two requests with one Idempotency-Key raced: the loser reads again and replays the winner's answer.
        if (claim && isUniqueViolation(error)) continue;
        if (command.kind === 'create' && isUniqueViolation(error, 'external_id')) return externalIdTaken(command.order.externalId as string);
        if (isRetryable(error)) continue;
        throw error;
      }
    }
    if (lastError) throw lastError;
    return {
      kind: 'refused',
      refusal: { code: 'version_conflict', message: 'The order is being changed by many writers at once; try again', details: { orderId: ids.orderId } },
    };
  }

  private parameters(statement: { names: string[] }, command: AppendCommand, record: EventRecord, current: OrderState | undefined): unknown[] {
    const { event } = record;
    const order = event.order;
    const timing = timingColumns(order);
    const values: Record<string, unknown> = {
      expectedBy: timing.expected_by,
      eta: timing.eta,
      stuck: timing.stuck,
      dueAt: timing.due_at,
      orderId: order.id,
      projectId: command.projectId,
      externalId: order.externalId,
      userExternalId: order.userExternalId,
      amount: order.amount,
      currency: order.currency,
      metadataJson: record.metadataJson,
      historyJson: record.historyJson,
      decidedOnVersion: current?.version,
      channelEpoch: record.channelEpoch ?? '',
      eventId: event.id,
      type: event.type,
      eventName: event.eventName,
      fromStatus: event.fromStatus,
      status: event.toStatus,
      reason: event.reason,
      version: event.version,
      orderJson: record.orderJson,
      at: event.at,
      actor: record.actorJson,
      payloadJson: payloadJsonOf(record),
      quotedEventName: record.quotedEventName,
      idempotencyKey: command.idempotency?.key ?? null,
      requestHash: command.idempotency?.requestHash ?? null,
      statusCode: record.statusCode,
      traceContext: record.traceContext,
    };
    return statement.names.map((name) => {
      if (!(name in values)) throw new Error(`append statement names an unknown parameter :${name}`);
      return values[name];
    });
  }

  private async query<R>(statement: Statement | string, parameters: unknown[]): Promise<R[]> {
    const { name, sql } = typeof statement === 'string' ? { name: undefined, sql: statement } : statement;
    return (await this.pool.query({ name: this.namedStatements ? name : undefined, text: sql, values: parameters })).rows as R[];
  }
}
