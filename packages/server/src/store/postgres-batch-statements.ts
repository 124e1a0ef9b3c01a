import type { OrderState } from '../domain/order-decisions.js';
import type { EventRecord, IdempotencyClaim } from './order-log.js';
import { timingColumns, type OrderRow } from './repositories/orders.js';

/**
 * The statements of a group commit on PostgreSQL. Each takes its rows as one JSON
 * parameter (`jsonb_to_recordset`), so its text, and so its prepared plan, is the same
 * whatever the batch's size.
 */

/**
 * Everything a batch must know before deciding, in one round trip: the orders its
 * transitions move, the idempotency records its keys name, and which of its creates'
 * external ids are taken already.
 */
export const READ_BATCH_STATE = {
  name: 'ordercast_batch_read_state',
  text: `
  select
    (select coalesce(jsonb_agg(to_jsonb(o)), '[]') from orders o
       join jsonb_to_recordset($1::jsonb) as k(id text, project_id text) on o.id = k.id and o.project_id = k.project_id) as orders,
    (select coalesce(jsonb_agg(jsonb_build_object('project_id', i.project_id, 'key', i.key, 'requestHash', i.request_hash,
              'statusCode', i.status_code, 'responseBody', i.response_body, 'createdAt', i.created_at)), '[]') from idempotency_keys i
       join jsonb_to_recordset($2::jsonb) as k(project_id text, key text) on i.project_id = k.project_id and i.key = k.key) as keys,
    (select coalesce(jsonb_agg(jsonb_build_array(o.project_id, o.external_id)), '[]') from orders o
       join jsonb_to_recordset($3::jsonb) as k(project_id text, external_id text) on o.project_id = k.project_id and o.external_id = k.external_id) as taken`,
};

export interface BatchState {
  orders: OrderRow[];
  keys: Array<{ project_id: string; key: string; requestHash: string; statusCode: number; responseBody: string; createdAt: string }>;
  taken: Array<[string, string]>;
}

/**
 * The write of a whole batch, as one statement and so one transaction with one WAL
 * flush and no BEGIN or COMMIT round trips. Orders are compare-and-set one by one:
 * an order whose version moved since it was read (another process) is left out, and
 * with it every event the batch decided for it (`kept`), so nothing of a lost race is
 * written; the caller decides those commands again. The rest commits together: each
 * user channel's offsets move once per batch by the number of its events, the events
 * take their seq in the order they were decided, and the outbox rows follow the same
 * order. All events share the transaction's id: a log reader passes them together,
 * in seq order, once the transaction is below its horizon (store/log-reading.ts).
 */
export const WRITE_BATCH = {
  name: 'ordercast_batch_append',
  text: `
  with
  o as (
    select * from jsonb_to_recordset($1::jsonb) as x(id text, project_id text, external_id text, user_external_id text, amount text,
      currency text, metadata text, status text, version int, created_at text, updated_at text, decided_on int,
      expected_by text, eta text, stuck int, due_at text)
  ),
  e as (
    select * from jsonb_to_recordset($2::jsonb) as x(ord int, id text, project_id text, order_id text, type text, event_name text,
      from_status text, to_status text, reason text, version int, user_external_id text, snapshot text, created_at text,
      quoted_event_name text, epoch text, idem_key text, idem_hash text, status_code int, actor text, trace_context text)
  ),
  -- Each order's recent history as its last event of the batch carries it: the \`json\` type keeps
  -- the text of a value as it was written, so this is the same text the order row would have sent.
  latest as (
    select distinct on (order_id) order_id, (snapshot::json -> 'statusHistory')::text as recent_history from e order by order_id, ord desc
  ),
  created as (
    insert into orders (id, project_id, external_id, user_external_id, amount, currency, metadata, status, version, recent_history, created_at, updated_at,
      expected_by, eta, stuck, due_at)
    select o.id, project_id, external_id, user_external_id, amount, currency, metadata, status, version, l.recent_history, created_at, updated_at,
      expected_by, eta, stuck, due_at
    from o join latest l on l.order_id = o.id where decided_on is null
    returning id
  ),
  moved as (
    update orders set status = o.status, version = o.version, recent_history = l.recent_history, updated_at = o.updated_at,
      expected_by = o.expected_by, eta = o.eta, stuck = o.stuck, due_at = o.due_at
    from o join latest l on l.order_id = o.id
    where o.decided_on is not null and orders.id = o.id and orders.project_id = o.project_id and orders.version = o.decided_on
    returning orders.id
  ),
  kept as (
    select e.* from e where e.order_id in (select id from created union all select id from moved)
  ),
  offsets as (
    insert into channel_offsets (project_id, user_external_id, last_offset, epoch)
    select project_id, user_external_id, count(*)::int, min(epoch) from kept where user_external_id is not null
    group by project_id, user_external_id
    order by project_id, user_external_id
    on conflict (project_id, user_external_id) do update set last_offset = channel_offsets.last_offset + excluded.last_offset
    returning project_id, user_external_id, last_offset
  ),
  numbered as (
    select k.*, f.last_offset - count(*) over per_user + row_number() over (per_user order by k.ord) as user_offset
    from kept k left join offsets f on f.project_id = k.project_id and f.user_external_id = k.user_external_id
    window per_user as (partition by k.project_id, k.user_external_id)
  ),
  events as (
    insert into order_events (id, project_id, order_id, type, event_name, from_status, to_status, reason, version, user_external_id, user_offset, snapshot, created_at, actor, trace_context)
    select id, project_id, order_id, type, event_name, from_status, to_status, reason, version, user_external_id, user_offset::int, snapshot, created_at, actor, trace_context
    from numbered order by ord
    returning id, seq, tx_id, user_offset
  ),
  outbox as (
    insert into webhook_deliveries (id, project_id, endpoint_id, event_id, event_name, order_id, payload, status, attempt_count, schedule_step, next_attempt_at, created_at, updated_at)
    select 'msg_' || replace(gen_random_uuid()::text, '-', ''), w.project_id, w.id, k.id, k.event_name, k.order_id,
      -- The webhook body (domain/webhook-payload.ts) around the snapshot, built only for the rows an endpoint wants.
      '{"id":' || to_json(k.id)::text || ',"eventName":' || to_json(k.event_name)::text || ',"createdAt":' || to_json(k.created_at)::text || ',"data":' || k.snapshot || '}',
      'pending', 0, 0, k.created_at, k.created_at, k.created_at
    from kept k join webhook_endpoints w on w.project_id = k.project_id
    where w.disabled_at is null and (w.enabled_events is null or strpos(w.enabled_events, k.quoted_event_name) > 0)
    order by k.ord
    returning event_id
  ),
  remembered as (
    insert into idempotency_keys (project_id, key, request_hash, status_code, response_body, created_at)
    select project_id, idem_key, idem_hash, status_code, snapshot, created_at from kept where idem_key is not null
    returning 1
  )
  select ev.id, ev.seq, ev.tx_id, ev.user_offset, coalesce(d.deliveries, 0)::int as deliveries
  from events ev left join (select event_id, count(*) as deliveries from outbox group by event_id) d on d.event_id = ev.id`,
};

/** What the write returns per event, and what a look-up after a lost connection finds. */
export interface WrittenEvent {
  id: string;
  seq: number;
  tx_id: number;
  user_offset: number | null;
  deliveries: number;
}

/** After a lost connection: which of these events committed (a batch commits whole or not at all). */
export const FIND_WRITTEN = {
  name: 'ordercast_batch_find_written',
  text: `
  select ev.id, ev.seq, ev.tx_id, ev.user_offset, (select count(*) from webhook_deliveries d where d.event_id = ev.id)::int as deliveries
  from order_events ev where ev.id = any($1::text[])`,
};

/**
 * The order as the batch leaves it: inserted if it is new, else moved from the version it
 * was read at. Its recent history is not sent: the statement takes it from the order's last
 * event (`latest`); a moved order sends only the columns the update sets.
 */
export function orderRowParameter(state: OrderState, decidedOn: number | null) {
  const columns = {
    id: state.id,
    project_id: state.projectId,
    status: state.status,
    version: state.version,
    updated_at: state.updatedAt,
    decided_on: decidedOn,
    ...timingColumns(state),
  };
  if (decidedOn !== null) return columns;
  return {
    ...columns,
    external_id: state.externalId,
    user_external_id: state.userExternalId,
    amount: state.amount,
    currency: state.currency,
    metadata: JSON.stringify(state.metadata),
    created_at: state.createdAt,
  };
}

export function eventRowParameter(ord: number, projectId: string, record: EventRecord, claim: IdempotencyClaim | undefined) {
  const { event } = record;
  return {
    ord,
    id: event.id,
    project_id: projectId,
    order_id: event.order.id,
    type: event.type,
    event_name: event.eventName,
    from_status: event.fromStatus,
    to_status: event.toStatus,
    reason: event.reason,
    version: event.version,
    user_external_id: event.order.userExternalId,
    snapshot: record.orderJson,
    trace_context: record.traceContext,
    created_at: event.at,
    quoted_event_name: record.quotedEventName,
    epoch: record.channelEpoch,
    idem_key: claim?.key ?? null,
    idem_hash: claim?.requestHash ?? null,
    status_code: record.statusCode,
    actor: record.actorJson,
  };
}
