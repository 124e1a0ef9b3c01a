import type pg from 'pg';
import type { OrderState } from '../domain/order-decisions.js';
import { isConnectionError, isDatabaseUnavailable, isRetryable } from '../lib/database-errors.js';
import {
  decide,
  eventRecord,
  externalIdTaken,
  idempotencyOutcome,
  loggedEvent,
  type AppendCommand,
  type AppendOutcome,
  type AppendRequest,
  type AppendResult,
  type EventRecord,
  type OrderLog,
} from './order-log.js';
import {
  eventRowParameter,
  FIND_WRITTEN,
  orderRowParameter,
  READ_BATCH_STATE,
  WRITE_BATCH,
  type BatchState,
  type WrittenEvent,
} from './postgres-batch-statements.js';
import type { PostgresOrderLog } from './postgres-order-log.js';
import { rowToOrderState } from './repositories/orders.js';

interface Pending extends AppendRequest {
  settle(result: AppendResult): void;
  /** Batches this command lost a race in (another process moved its order first). */
  lostRaces: number;
  /** A connection died under a batch this command was in, and was replaced. */
  reconnected: boolean;
}

/** Commands per batch; a unit of appendMany is never cut, so one batch may hold more. */
const MAX_BATCH = 512;
const MAX_LOST_RACES = 20;
/**
 * Batches written at once: while one waits for its flush the next is read and decided,
 * and an order row locked by another session holds up only the batches that name it.
 */
const MAX_IN_FLIGHT = 2;

/** An order as the batch has decided it so far. */
interface OrderInBatch {
  state: OrderState | undefined;
  /** The version the order was read at (compare-and-set); null for an order the batch creates. */
  decidedOn: number | null;
  /** Whether the batch appends an event for it, so its row is written. */
  changed: boolean;
}

/** What the batch decided for a command, to be answered once the write is known. */
type Decided =
  | { kind: 'answered'; item: Pending; outcome: AppendOutcome }
  | { kind: 'next batch'; item: Pending }
  /** Decided on the state of an order the batch moves: it stands only if that order's write does. */
  | { kind: 'refused on a moved order'; item: Pending; orderKey: string; outcome: AppendOutcome }
  | { kind: 'appended'; item: Pending; orderKey: string; record: EventRecord };

const orderKey = (projectId: string, orderId: string) => `${projectId}\u0000${orderId}`;
const orderKeyOf = ({ command, ids }: Pending) => orderKey(command.projectId, command.kind === 'create' ? ids.orderId : command.orderId);

/**
 * Group commit on PostgreSQL: appends that arrive while a batch is being written wait
 * for the next one, which decides them all against one read of their orders and writes
 * them in one statement (one transaction, one WAL flush). Each order is still
 * compare-and-set on the version it was read at: when another process moved it first,
 * only that order's commands are decided again, in the next batch. A refusal is a value
 * and writes nothing. A connection that dies under the write leaves the batch committed
 * whole or not at all: the event ids, read on a fresh connection, say which. A database
 * error that is none of these (a unique key taken by another process in the meantime)
 * sends the batch's commands through the one-command path, each alone, which knows how
 * to answer every such case.
 */
export class PostgresGroupCommitLog implements OrderLog {
  private queue: Pending[][] = [];
  private scheduled = false;
  private inFlight = 0;
  /** Orders written by the batches in flight, with how many commands each. */
  private readonly busy = new Map<string, number>();
  /** Batch statements committed, and batches whose commands were sent through the one-command path after an unexpected error: refusals and lost races cause neither. */
  committedTransactions = 0;
  isolatedReruns = 0;
  /** Orders whose compare-and-set failed in a batch because another process moved them first. */
  racesLost = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly alone: PostgresOrderLog,
    private readonly namedStatements = true,
  ) {}

  async append(command: AppendCommand, ids: { orderId: string; eventId: string }): Promise<AppendOutcome> {
    const [result] = await this.appendMany([{ command, ids }]);
    if (!result!.ok) throw result!.error;
    return result!.outcome;
  }

  appendMany(commands: readonly AppendRequest[]): Promise<AppendResult[]> {
    const unit: Pending[] = [];
    const results = commands.map((request) => new Promise<AppendResult>((settle) => unit.push({ ...request, settle, lostRaces: 0, reconnected: false })));
    if (unit.length > 0) {
      this.queue.push(unit);
      this.schedule();
    }
    return Promise.all(results);
  }

  /** Starts batches, up to MAX_IN_FLIGHT at once, in the next turn of the event loop (requests that arrive in this one join them). */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
        const batch = this.takeBatch();
        if (batch.length === 0) return;
        this.start(batch);
      }
    });
  }

  private start(batch: Pending[]): void {
    const keys = batch.map(orderKeyOf);
    for (const key of keys) this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
    this.inFlight++;
    void this.runBatch(batch)
      .catch((error: unknown) => {
        for (const item of batch) item.settle({ ok: false, error });
        return [];
      })
      .then((again) => {
        for (const key of keys) {
          const left = this.busy.get(key)! - 1;
          if (left === 0) this.busy.delete(key);
          else this.busy.set(key, left);
        }
        this.inFlight--;
        // Decided again before anything newer, in their order.
        if (again.length > 0) this.queue.unshift(again);
        if (this.queue.length > 0) this.schedule();
      });
  }

  /**
   * The next batch: whole units, in order, up to MAX_BATCH commands. A unit naming an
   * order that a batch in flight writes waits (its compare-and-set would only fail), and
   * so does every later unit naming one of its orders, so commands on one order keep
   * their order; the others go ahead.
   */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const held = new Set<string>();
    const waiting: Pending[][] = [];
    while (this.queue.length > 0) {
      const unit = this.queue.shift()!;
      const keys = unit.map(orderKeyOf);
      if (keys.some((key) => this.busy.has(key) || held.has(key)) || (batch.length > 0 && batch.length + unit.length > MAX_BATCH)) {
        for (const key of keys) held.add(key);
        waiting.push(unit);
        if (batch.length >= MAX_BATCH) break;
        continue;
      }
      batch.push(...unit);
    }
    this.queue.unshift(...waiting);
    return batch;
  }

  /** Runs one batch; returns the commands to decide again. */
  private async runBatch(batch: Pending[]): Promise<Pending[]> {
    const state = await this.readState(batch);
    const at = new Date().toISOString();
    const orders = new Map<string, OrderInBatch>();
    for (const row of state.orders) orders.set(orderKey(row.project_id, row.id), { state: rowToOrderState(row), decidedOn: row.version, changed: false });
    const storedKeys = new Map(state.keys.map((k) => [`${k.project_id}\u0000${k.key}`, k]));
    const takenExternalIds = new Set(state.taken.map(([project, external]) => `${project}\u0000${external}`));
    const claimedKeys = new Set<string>();

    const decided: Decided[] = [];
    const eventRows: unknown[] = [];
    const eventIds: string[] = [];
    for (const item of batch) {
      const { command } = item;
      const claim = command.idempotency;
      if (claim) {
        const keyName = `${command.projectId}\u0000${claim.key}`;
        // A second use of a key in one batch replays the first: after it has committed.
        if (claimedKeys.has(keyName)) {
          decided.push({ kind: 'next batch', item });
          continue;
        }
        claimedKeys.add(keyName);
        const earlier = idempotencyOutcome(claim, storedKeys.get(keyName));
        if (earlier === 'lapsed') {
          await this.query('delete from idempotency_keys where project_id = $1 and key = $2 and created_at < $3', [
            command.projectId,
            claim.key,
            claim.lapsedBefore,
          ]);
        } else if (earlier) {
          decided.push({ kind: 'answered', item, outcome: earlier });
          continue;
        }
      }
      const key = orderKey(command.projectId, command.kind === 'create' ? item.ids.orderId : command.orderId);
      if (command.kind === 'create' && command.order.externalId !== null) {
        const external = `${command.projectId}\u0000${command.order.externalId}`;
        if (takenExternalIds.has(external)) {
          decided.push({ kind: 'answered', item, outcome: externalIdTaken(command.order.externalId) });
          continue;
        }
      }
      const entry = orders.get(key);
      const decision = decide(command, entry?.state, item.ids, at);
      if (!decision.ok) {
        const outcome: AppendOutcome = { kind: 'refused', refusal: decision.refusal };
        decided.push(entry?.changed ? { kind: 'refused on a moved order', item, orderKey: key, outcome } : { kind: 'answered', item, outcome });
        continue;
      }
      if (command.kind === 'create' && command.order.externalId !== null) takenExternalIds.add(`${command.projectId}\u0000${command.order.externalId}`);
      const record = eventRecord(command, decision.event);
      orders.set(key, { state: decision.event.order, decidedOn: entry ? entry.decidedOn : null, changed: true });
      eventRows.push(eventRowParameter(eventRows.length, command.projectId, record, claim));
      eventIds.push(record.event.id);
      decided.push({ kind: 'appended', item, orderKey: key, record });
    }

    let written = new Map<string, WrittenEvent>();
    if (eventRows.length > 0) {
      const orderRows = [...orders.values()].filter((o) => o.changed).map((o) => orderRowParameter(o.state!, o.decidedOn));
      const outcome = await this.write(batch, orderRows, eventRows, eventIds);
      if (outcome === 'alone') return this.runAlone(batch);
      if (!(outcome instanceof Map)) return outcome.again;
      written = outcome;
    }

    // Orders whose compare-and-set failed: none of their events were written.
    const lostOrders = new Set<string>();
    for (const d of decided) {
      if (d.kind === 'appended' && !written.has(d.record.event.id)) lostOrders.add(d.orderKey);
    }
    this.racesLost += lostOrders.size;
    const again: Pending[] = [];
    for (const d of decided) {
      if (d.kind === 'next batch') {
        again.push(d.item);
      } else if (d.kind === 'answered') {
        d.item.settle({ ok: true, outcome: d.outcome });
      } else if (lostOrders.has(d.orderKey)) {
        if (++d.item.lostRaces >= MAX_LOST_RACES) {
          d.item.settle({
            ok: true,
            outcome: {
              kind: 'refused',
              refusal: {
                code: 'version_conflict',
                message: 'The order is being changed by many writers at once; try again',
                details: { orderId: d.item.command.kind !== 'create' ? d.item.command.orderId : d.item.ids.orderId },
              },
            },
          });
        } else {
          again.push(d.item);
        }
      } else if (d.kind === 'refused on a moved order') {
        d.item.settle({ ok: true, outcome: d.outcome });
      } else {
        const { record } = d;
        const row = written.get(record.event.id)!;
        d.item.settle({
          ok: true,
          outcome: { kind: 'appended', event: loggedEvent(record, { seq: row.seq, txId: row.tx_id, userOffset: row.user_offset }), deliveries: row.deliveries },
        });
      }
    }
    return again;
  }

  /** The batch's state, read in one round trip; once more on a fresh connection if the first dies. */
  private async readState(batch: Pending[]): Promise<BatchState> {
    const orders: Array<{ id: string; project_id: string }> = [];
    const keys: Array<{ project_id: string; key: string }> = [];
    const externals: Array<{ project_id: string; external_id: string }> = [];
    for (const { command } of batch) {
      if (command.kind !== 'create') orders.push({ id: command.orderId, project_id: command.projectId });
      else if (command.order.externalId !== null) externals.push({ project_id: command.projectId, external_id: command.order.externalId });
      if (command.idempotency) keys.push({ project_id: command.projectId, key: command.idempotency.key });
    }
    if (orders.length === 0 && keys.length === 0 && externals.length === 0) return { orders: [], keys: [], taken: [] };
    const parameters = [JSON.stringify(orders), JSON.stringify(keys), JSON.stringify(externals)];
    try {
      return (await this.query<BatchState>(READ_BATCH_STATE, parameters))[0]!;
    } catch (error) {
      // A read changes nothing: once on a fresh connection, then a 503 for the caller.
      if (!isConnectionError(error)) throw error;
      return (await this.query<BatchState>(READ_BATCH_STATE, parameters))[0]!;
    }
  }

  /**
   * The batch's one statement. Returns the written events by id; `again`, the commands
   * to decide again, when the batch did not commit; 'alone' when each command should
   * run on its own.
   */
  private async write(
    batch: Pending[],
    orderRows: unknown[],
    eventRows: unknown[],
    eventIds: string[],
  ): Promise<Map<string, WrittenEvent> | { again: Pending[] } | 'alone'> {
    try {
      const rows = await this.query<WrittenEvent>(WRITE_BATCH, [JSON.stringify(orderRows), JSON.stringify(eventRows)]);
      this.committedTransactions++;
      return new Map(rows.map((row) => [row.id, row]));
    } catch (error) {
      if (isConnectionError(error)) {
        // Committed whole or not at all; the event ids say which, read on a fresh connection.
        // If that read fails too, every command of the batch answers with the error (a 503).
        const found = await this.query<WrittenEvent>(FIND_WRITTEN, [eventIds]).catch(() => {
          throw error;
        });
        if (found.length > 0) {
          this.committedTransactions++;
          return new Map(found.map((row) => [row.id, row]));
        }
        // Not committed: decided again, but a command gets one reconnection only, then the error.
        const again: Pending[] = [];
        for (const item of batch) {
          if (item.reconnected) item.settle({ ok: false, error });
          else again.push(Object.assign(item, { reconnected: true }));
        }
        return { again };
      }
      // A statement timeout, a full disk: every command of the batch gets that answer (a 503).
      if (isDatabaseUnavailable(error)) {
        for (const item of batch) item.settle({ ok: false, error });
        return { again: [] };
      }
      // A deadlock with another process's batch: decided again, up to the limit of lost races.
      if (isRetryable(error)) {
        const again = batch.filter((item) => ++item.lostRaces < MAX_LOST_RACES);
        return again.length === batch.length ? { again } : 'alone';
      }
      return 'alone';
    }
  }

  /** Each command through the one-command path, in order: it answers unique keys taken meanwhile and the like, one by one. */
  private async runAlone(batch: Pending[]): Promise<Pending[]> {
    this.isolatedReruns++;
    for (const item of batch) {
      try {
        item.settle({ ok: true, outcome: await this.alone.append(item.command, item.ids) });
      } catch (error) {
        item.settle({ ok: false, error });
      }
    }
    return [];
  }

  private async query<R>(statement: { name?: string; text: string } | string, values: unknown[]): Promise<R[]> {
    const { name, text } = typeof statement === 'string' ? { name: undefined, text: statement } : statement;
    return (await this.pool.query({ name: this.namedStatements ? name : undefined, text, values })).rows as R[];
  }
}
