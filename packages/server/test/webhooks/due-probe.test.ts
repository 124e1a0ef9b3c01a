import { beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src/core.js';
import { testDialects } from '../helpers/databases.js';
import { useQueueCore } from '../helpers/queue-core.js';

const WORKER = 'wrk_probe_test';
const WIDE_LANES = { defaultWidth: 1000, failingAfter: 5 };

/**
 * The dispatcher, once a claim found nothing, asks `anyDue` before claiming again: the
 * probe may say yes where a claim then finds nothing, but never no where a claim would
 * find a delivery. These tests hold it to that on a real database (the queue alone, no
 * dispatcher, so nothing else claims).
 */
describe.each(testDialects)('the due probe (%s)', (dialect) => {
  const coreOf = useQueueCore(dialect, 'due-probe');
  let core: Core;
  beforeAll(() => {
    core = coreOf();
  });

  it('says nothing is due for events of a project without endpoints, and something is once an outbox row is written', async () => {
    expect(await core.deliveryQueue.anyDue()).toBe(false);
    const { project: quiet } = await core.projects.create({ name: 'no endpoints', lifecycle: 'onramp' });
    await core.orders.create(quiet.id, { externalId: 'quiet-1' });
    expect(await core.deliveryQueue.anyDue()).toBe(false);

    const { project } = await core.projects.create({ name: 'probe', lifecycle: 'onramp' });
    await core.webhookEndpoints.create(project.id, { url: 'http://127.0.0.1:9/webhook' });
    await core.orders.create(project.id, { externalId: 'probe-1' });
    expect(await core.deliveryQueue.anyDue()).toBe(true);

    // Leased: not due for anyone else while the lease lives.
    const rows = await core.deliveryQueue.claimDue(WORKER, 1000, 60_000, WIDE_LANES);
    expect(rows).toHaveLength(1);
    expect(await core.deliveryQueue.anyDue()).toBe(false);
    expect(await core.deliveryQueue.claimDue('wrk_other', 1000, 60_000, WIDE_LANES)).toEqual([]);

    // Handed back: due again.
    await core.deliveryQueue.releaseClaims(WORKER, [rows[0]!.id]);
    expect(await core.deliveryQueue.anyDue()).toBe(true);
  });

  it('says a delivery is due again once its lease ran out (a crashed worker)', async () => {
    for (const row of await core.deliveryQueue.claimDue(WORKER, 1000, 60_000, WIDE_LANES)) {
      await core.deliveryQueue.giveUpWithoutAttempt(row.id, 'test: earlier deliveries out of the way');
    }
    const { project } = await core.projects.create({ name: 'crashed', lifecycle: 'onramp' });
    await core.webhookEndpoints.create(project.id, { url: 'http://127.0.0.1:9/webhook' });
    await core.orders.create(project.id, { externalId: 'crashed-1' });
    const [row] = await core.deliveryQueue.claimDue(WORKER, 1000, 50, WIDE_LANES);
    expect(row).toBeDefined();
    // Wait on the state (the lease's end), not a fixed time: the probe turns true, and a claim then finds it.
    await expect.poll(() => core.deliveryQueue.anyDue(), { timeout: 10_000, interval: 20 }).toBe(true);
    expect((await core.deliveryQueue.claimDue('wrk_other', 1000, 60_000, WIDE_LANES)).map((r) => r.id)).toEqual([row!.id]);
  });
});
