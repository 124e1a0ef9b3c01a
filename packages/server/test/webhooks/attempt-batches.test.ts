import { beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src/core.js';
import type { AttemptRecord } from '../../src/webhooks/delivery-queue.js';
import type { DeliveryRow } from '../../src/store/repositories/webhook-deliveries.js';
import { testDialects } from '../helpers/databases.js';
import { useQueueCore } from '../helpers/queue-core.js';

const WORKER = 'wrk_batch_test';
const DAY = 86_400_000;

/**
 * The dispatcher writes the outcomes that finish together in one transaction. These
 * tests drive that write directly (claim, then record), on a real database.
 */
/** Lanes wide enough that every due delivery of a test is claimed at once. */
const WIDE_LANES = { defaultWidth: 1000, failingAfter: 5 };

describe.each(testDialects)('recording attempts in batches (%s)', (dialect) => {
  const coreOf = useQueueCore(dialect, 'batches');
  let core: Core;
  beforeAll(() => {
    core = coreOf();
  });

  /** A project with one endpoint and `count` orders, whose deliveries are claimed by WORKER. */
  async function claimed(count: number): Promise<{ projectId: string; endpointId: string; rows: DeliveryRow[] }> {
    const { project } = await core.projects.create({ name: 'batches', lifecycle: 'onramp' });
    const { endpoint } = await core.webhookEndpoints.create(project.id, { url: 'http://127.0.0.1:9/webhook' });
    for (let i = 0; i < count; i++) await core.orders.create(project.id, { externalId: `b-${i}` });
    const rows = (await core.deliveryQueue.claimDue(WORKER, 1000, 60_000, WIDE_LANES)).filter((row) => row.endpoint_id === endpoint.id);
    expect(rows).toHaveLength(count);
    return { projectId: project.id, endpointId: endpoint.id, rows };
  }

  function record(row: DeliveryRow, statusCode: number, attemptedAt: string): AttemptRecord {
    const succeeded = statusCode < 300;
    return {
      attempt: {
        deliveryId: row.id,
        endpointId: row.endpoint_id,
        url: 'http://127.0.0.1:9/webhook',
        attemptedAt,
        durationMs: 1,
        outcome: succeeded ? 'succeeded' : 'failed',
        statusCode,
        responseHeaders: { 'content-type': 'text/plain' },
        responseBody: succeeded ? 'ok' : 'boom',
        errorCode: null,
        error: null,
      },
      status: succeeded ? 'succeeded' : 'pending',
      nextAttemptAt: new Date(Date.parse(attemptedAt) + 60_000).toISOString(),
      disableAfterMs: 5 * DAY,
      failingAfter: 5,
    };
  }

  it('stores every attempt of a batch and moves each delivery on by its own outcome', async () => {
    const { projectId, rows } = await claimed(5);
    const at = new Date().toISOString();
    const codes = [200, 500, 204, 200, 503];
    const result = await core.deliveryQueue.recordAttempts(
      WORKER,
      rows.map((row, i) => record(row, codes[i]!, at)),
    );
    expect(result).toEqual({ disabled: [], unrecorded: [] });
    for (const [i, row] of rows.entries()) {
      const detail = await core.webhookDeliveries.get(projectId, row.id);
      expect(detail.attempts.map((a) => a.statusCode)).toEqual([codes[i]]);
      expect(detail).toMatchObject({ status: codes[i]! < 300 ? 'succeeded' : 'pending', attemptCount: 1, lastStatusCode: codes[i] });
      if (codes[i]! >= 300) expect(detail.lastError).toBe(`HTTP ${codes[i]}`);
    }
  });

  it('keeps the endpoint failure clock where the last run of outcomes left it', async () => {
    const { projectId, endpointId, rows } = await claimed(4);
    const t0 = new Date(Date.now() - 1000).toISOString();
    const t1 = new Date().toISOString();
    // A success, then failures: the clock starts at the first failure after the success.
    await core.deliveryQueue.recordAttempts(WORKER, [record(rows[0]!, 200, t0), record(rows[1]!, 500, t1), record(rows[2]!, 500, t1)]);
    expect((await core.webhookEndpoints.get(projectId, endpointId)).failingSince).toBe(t1);
    // A failure, then a success: healthy again.
    const again = (await core.deliveryQueue.claimDue(WORKER, 1000, 60_000, WIDE_LANES)).filter((row) => row.endpoint_id === endpointId);
    expect(again).toHaveLength(0);
    await core.deliveryQueue.recordAttempts(WORKER, [record(rows[3]!, 200, t1)]);
    expect((await core.webhookEndpoints.get(projectId, endpointId)).failingSince).toBeNull();
  });

  it('stores the records the database accepts when it refuses one of them', async () => {
    const { projectId, rows } = await claimed(3);
    const at = new Date().toISOString();
    const records = rows.map((row) => record(row, 200, at));
    // A NOT NULL column left empty: the whole batch fails, then each record is tried alone.
    records[1] = { ...records[1]!, attempt: { ...records[1]!.attempt, url: null as unknown as string } };
    const result = await core.deliveryQueue.recordAttempts(WORKER, records);
    expect(result.unrecorded.map((u) => u.record.attempt.deliveryId)).toEqual([rows[1]!.id]);
    for (const row of [rows[0]!, rows[2]!]) {
      const detail = await core.webhookDeliveries.get(projectId, row.id);
      expect(detail.status).toBe('succeeded');
      expect(detail.attempts).toHaveLength(1);
    }
    // The refused one is still pending and still leased: it is sent again once its lease runs out.
    const refused = await core.webhookDeliveries.get(projectId, rows[1]!.id);
    expect(refused).toMatchObject({ status: 'pending', attemptCount: 0, attempts: [] });
    expect((await core.deliveryQueue.claimDue('wrk_other', 1000, 60_000, WIDE_LANES)).map((row) => row.id)).not.toContain(rows[1]!.id);
  });
});
