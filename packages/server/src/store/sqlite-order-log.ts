import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
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
  type AppendRequest,
  type AppendResult,
  type OrderLog,
  type StoredIdempotency,
} from './order-log.js';
import { rowToOrderState, timingColumns, type OrderRow } from './repositories/orders.js';
import type { Database } from './schema.js';
import { isDatabaseUnavailable } from '../lib/database-errors.js';

interface Pending {
  command: AppendCommand;
  ids: { orderId: string; eventId: string };
  resolve(outcome: AppendOutcome): void;
  reject(error: unknown): void;
}

type Result = AppendResult;

/** What the commands of one batch share: the commit time, and whether a project has an enabled webhook endpoint. */
interface BatchContext {
  at: string;
  hasEndpoints(projectId: string): boolean;
}

/** Commands per transaction; a unit of appendMany is never cut, so one batch may hold more. */
const MAX_BATCH = 256;
const MAX_BUSY_ATTEMPTS = 5;

const SQL = {
  idempotency:
    'select request_hash as requestHash, status_code as statusCode, response_body as responseBody, created_at as createdAt from idempotency_keys where project_id = ? and key = ?',
  forgetIdempotency: 'delete from idempotency_keys where project_id = ? and key = ?',
  rememberIdempotency: 'insert into idempotency_keys (project_id, key, request_hash, status_code, response_body, created_at) values (?, ?, ?, ?, ?, ?)',
  order: 'select * from orders where id = ? and project_id = ?',
  externalIdExists: 'select 1 from orders where project_id = ? and external_id = ?',
  insertOrder: `insert into orders (id, project_id, external_id, user_external_id, amount, currency, metadata, status, version, recent_history, created_at, updated_at,
    expected_by, eta, stuck, due_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  updateOrder: `update orders set status = ?, version = ?, recent_history = ?, updated_at = ?, expected_by = ?, eta = ?, stuck = ?, due_at = ?
    where id = ? and version = ?`,
  nextChannelOffset: `insert into channel_offsets (project_id, user_external_id, last_offset, epoch) values (?, ?, 1, ?)
    on conflict (project_id, user_external_id) do update set last_offset = last_offset + 1 returning last_offset`,
  insertEvent: `insert into order_events (id, project_id, order_id, type, event_name, from_status, to_status, reason, version, user_external_id, user_offset, snapshot, created_at, actor, trace_context)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning seq`,
  hasEndpoints: 'select exists (select 1 from webhook_endpoints where project_id = ? and disabled_at is null)',
  // One outbox row per enabled endpoint that wants the event, chosen in the same statement.
  insertOutbox: `insert into webhook_deliveries (id, project_id, endpoint_id, event_id, event_name, order_id, payload, status, attempt_count, schedule_step, next_attempt_at, created_at, updated_at)
    select 'msg_' || lower(hex(randomblob(16))), project_id, id, ?, ?, ?, ?, 'pending', 0, 0, ?, ?, ?
    from webhook_endpoints where project_id = ? and disabled_at is null and (enabled_events is null or instr(enabled_events, ?) > 0)`,
};

type Statements = { [K in keyof typeof SQL]: BetterSqlite3.Statement };

/**
 * A transaction's context. Whether a project has an enabled endpoint is asked once per
 * transaction (no other writer can add one meanwhile): an event of a project without
 * one needs no outbox statement.
 */
function batchContext(s: Statements, at: string): BatchContext {
  const endpoints = new Map<string, boolean>();
  return {
    at,
    hasEndpoints(projectId) {
      let has = endpoints.get(projectId);
      if (has === undefined) endpoints.set(projectId, (has = s.hasEndpoints.get(projectId) === 1));
      return has;
    },
  };
}

/**
 * The append on SQLite. SQLite has one writer and each commit writes every page the
 * transaction touched, so commands that queue up while a batch runs share the next
 * transaction (group commit). The batch runs synchronously on the writer connection
 * while holding Kysely's connection, so nothing interleaves with it. A refusal is a
 * value and writes nothing, so it never rolls back its neighbours; only an unexpected
 * database error does, and then the batch runs again with a savepoint around each
 * command. Every caller hears back after the COMMIT.
 */
export class SqliteOrderLog implements OrderLog {
  /** Units waiting for the writer: one command each, or one appendMany call. */
  private queue: Pending[][] = [];
  private draining = false;
  private statements: Statements | undefined;
  /** Transactions committed, and batches run again one savepoint per command after an unexpected error: refusals cause neither. */
  committedTransactions = 0;
  isolatedReruns = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlite: BetterSqlite3.Database,
  ) {}

  append(command: AppendCommand, ids: { orderId: string; eventId: string }): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.enqueue([{ command, ids, resolve, reject }]);
    });
  }

  appendMany(commands: readonly AppendRequest[]): Promise<AppendResult[]> {
    const unit: Pending[] = [];
    const results = commands.map(
      ({ command, ids }) =>
        new Promise<AppendResult>((resolve) => {
          unit.push({ command, ids, resolve: (outcome) => resolve({ ok: true, outcome }), reject: (error) => resolve({ ok: false, error }) });
        }),
    );
    if (unit.length > 0) this.enqueue(unit);
    return Promise.all(results);
  }

  private enqueue(unit: Pending[]): void {
    this.queue.push(unit);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        // The batch is synchronous: a turn of the event loop between batches keeps timers
        // and sockets served, and lets requests that just arrived join the next batch.
        await new Promise((resolve) => setImmediate(resolve));
        const batch: Pending[] = [];
        while (this.queue.length > 0 && (batch.length === 0 || batch.length + this.queue[0]!.length <= MAX_BATCH)) batch.push(...this.queue.shift()!);
        await this.runBatch(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    let results: Result[];
    try {
      results = await this.withWriter(() => this.commitBatch(batch));
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const result = results[i]!;
      if (result.ok) item.resolve(result.outcome);
      else item.reject(result.error);
    });
  }

  /** Runs `work` while this process holds the writer connection (Kysely's connection lock). */
  private async withWriter<T>(work: () => T): Promise<T> {
    return this.db.connection().execute(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return work();
        } catch (error) {
          // Another process (the CLI) held the write lock past the busy timeout.
          if (attempt >= MAX_BUSY_ATTEMPTS || !String((error as { code?: string }).code).startsWith('SQLITE_BUSY')) throw error;
          await new Promise((resolve) => setTimeout(resolve, attempt * 10));
        }
      }
    });
  }

  private commitBatch(batch: Pending[]): Result[] {
    const s = (this.statements ??= this.prepare());
    const at = new Date().toISOString();
    try {
      const context = batchContext(s, at);
      const outcomes = this.sqlite.transaction(() => batch.map((item) => this.applyOne(s, item, context))).immediate();
      this.committedTransactions++;
      return outcomes.map((outcome) => ({ ok: true, outcome }));
    } catch (error) {
      // The storage itself refused (disk full, I/O error): every command of the batch gets that answer.
      if (isDatabaseUnavailable(error)) throw error;
      // An unexpected error rolled everything back: again, each command in a savepoint
      // of its own (better-sqlite3 nests transactions as savepoints), so it stays alone.
      const context = batchContext(s, at);
      const alone = this.sqlite.transaction((item: Pending) => this.applyOne(s, item, context));
      const results = this.sqlite
        .transaction(() =>
          batch.map((item): Result => {
            try {
              return { ok: true, outcome: alone(item) };
            } catch (error) {
              return { ok: false, error };
            }
          }),
        )
        .immediate();
      this.committedTransactions++;
      this.isolatedReruns++;
      return results;
    }
  }

  private applyOne(s: Statements, { command, ids }: Pending, batch: BatchContext): AppendOutcome {
    const { at } = batch;
    const { projectId } = command;
    const claim = command.idempotency;
    if (claim) {
      const earlier = idempotencyOutcome(claim, s.idempotency.get(projectId, claim.key) as StoredIdempotency | undefined);
      if (earlier === 'lapsed') s.forgetIdempotency.run(projectId, claim.key);
      else if (earlier) return earlier;
    }
    let current: OrderState | undefined;
    if (command.kind !== 'create') {
      const row = s.order.get(command.orderId, projectId) as OrderRow | undefined;
      current = row ? rowToOrderState(row) : undefined;
    } else if (command.order.externalId !== null && s.externalIdExists.get(projectId, command.order.externalId)) {
      return externalIdTaken(command.order.externalId);
    }
    const decision = decide(command, current, ids, at);
    if (!decision.ok) return { kind: 'refused', refusal: decision.refusal };

    const record = eventRecord(command, decision.event);
    const { event } = decision;
    const order = event.order;
    const timing = timingColumns(order);
    if (command.kind === 'create') {
      s.insertOrder.run(
        order.id,
        projectId,
        order.externalId,
        order.userExternalId,
        order.amount,
        order.currency,
        record.metadataJson,
        order.status,
        1,
        record.historyJson,
        at,
        at,
        timing.expected_by,
        timing.eta,
        timing.stuck,
        timing.due_at,
      );
    } else {
      // Under the batch's write lock nobody else can move the order, so this always matches.
      s.updateOrder.run(
        order.status,
        order.version,
        record.historyJson,
        at,
        timing.expected_by,
        timing.eta,
        timing.stuck,
        timing.due_at,
        order.id,
        current!.version,
      );
    }
    const userOffset = record.channelEpoch === null ? null : (s.nextChannelOffset.get(projectId, order.userExternalId, record.channelEpoch) as number);
    const seq = s.insertEvent.get(
      event.id,
      projectId,
      order.id,
      event.type,
      event.eventName,
      event.fromStatus,
      event.toStatus,
      event.reason,
      event.version,
      order.userExternalId,
      userOffset,
      record.orderJson,
      at,
      record.actorJson,
      record.traceContext,
    ) as number;
    const deliveries = batch.hasEndpoints(projectId)
      ? s.insertOutbox.run(event.id, event.eventName, order.id, payloadJsonOf(record), at, at, at, projectId, record.quotedEventName).changes
      : 0;
    if (claim) s.rememberIdempotency.run(projectId, claim.key, claim.requestHash, record.statusCode, record.orderJson, at);
    return { kind: 'appended', event: loggedEvent(record, { seq, txId: 0, userOffset }), deliveries };
  }

  private prepare(): Statements {
    const statements = Object.fromEntries(Object.entries(SQL).map(([name, text]) => [name, this.sqlite.prepare(text)])) as Statements;
    // These two return one value: the new offset, the new seq.
    statements.nextChannelOffset.pluck();
    statements.insertEvent.pluck();
    statements.hasEndpoints.pluck();
    return statements;
  }
}
