import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { storeLifecycle } from '../src/domain/lifecycle-presets.js';
import { LogFollower } from '../src/events/log-follower.js';
import { MemoryBroker } from '../src/events/memory-broker.js';
import { orderShard, RedisBroker } from '../src/events/redis-broker.js';
import { openStore } from '../src/store/database.js';
import type { LogReading } from '../src/store/log-reading.js';
import { migrateToLatest } from '../src/store/migrations.js';
import { redisUrlForTests } from './helpers/processes.js';
import { waitFor } from './helpers/realtime.js';

// Hints that arrive together (the messages of one Redis packet, the appends of one
// commit batch) cost one read of the log on the node that hears them, and one Redis
// message per project on the node that sends them.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the log follower', () => {
  it('reads the log once for hints that arrive together, and hands over every event they announce', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-hints-'));
    const store = openStore({ dataDir: dir });
    cleanups.push(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await migrateToLatest(store.db, store.dialect);
    await store.db
      .insertInto('projects')
      .values({ id: 'prj_a', name: 'a', lifecycle: '{}', token_secret: 's', created_at: new Date().toISOString() })
      .execute();
    let reads = 0;
    const counted: LogReading = {
      after: (position, limit, projectId) => {
        reads++;
        return store.log.after(position, limit, projectId);
      },
      head: (projectId) => store.log.head(projectId),
    };
    const broker = new MemoryBroker();
    const follower = new LogFollower(counted, broker, { pollMs: 0 });
    await follower.start();
    cleanups.push(() => follower.stop());
    const seen: string[] = [];
    follower.subscribe((event) => seen.push(event.orderId));

    const ids = ['ord_1', 'ord_2', 'ord_3', 'ord_4', 'ord_5'];
    const newOrder = { externalId: null, userExternalId: null, amount: null, currency: null, metadata: {}, status: undefined };
    await Promise.all(
      ids.map((id) =>
        store.orderLog.append({ kind: 'create', projectId: 'prj_a', lifecycle: storeLifecycle, order: newOrder }, { orderId: id, eventId: `evt_${id}` }),
      ),
    );
    // As another node's messages arrive: one after another in the same turn.
    for (const orderId of ids) broker.publish({ projectId: 'prj_a', orderId });
    await waitFor(() => seen.length === ids.length, 'every event at the follower');
    expect(seen).toEqual(ids);
    expect(reads).toBe(1);

    // A hint on its own still reads at once.
    await store.orderLog.append({ kind: 'create', projectId: 'prj_a', lifecycle: storeLifecycle, order: newOrder }, { orderId: 'ord_6', eventId: 'evt_ord_6' });
    broker.publish({ projectId: 'prj_a', orderId: 'ord_6' });
    await waitFor(() => seen.length === 6, 'the sixth event');
    expect(reads).toBe(2);
  });
});

const redisUrl = redisUrlForTests();

describe.skipIf(!redisUrl)('the Redis broker', () => {
  it('sends the hints of one turn as one message per project and one per order to its shard; a lone hint as one message on both', async () => {
    const prefix = `ordercast:test:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const broker = new RedisBroker(redisUrl!, prefix);
    cleanups.push(() => broker.close());
    const listener = new Redis(redisUrl!);
    cleanups.push(() => void listener.disconnect());
    const received: Array<{ channel: string; message: any }> = [];
    let probed = false;
    listener.on('pmessage', (_pattern: string, channel: string, message: string) => {
      if (channel.endsWith(':p:prj_probe')) probed = true;
      else received.push({ channel, message: JSON.parse(message) });
    });
    await listener.psubscribe(`${prefix}:*`);
    await waitFor(() => broker.isConnected, 'the broker to connect');
    // The broker publishes only once its publishing connection is ready too (hints meanwhile
    // are dropped: followers also read on a timer), and that may come after `isConnected`.
    await waitFor(() => {
      if (!probed) broker.publish({ projectId: 'prj_probe' });
      return probed;
    }, 'a first message through Redis');

    const orders = ['ord_a', 'ord_b', 'ord_c'];
    for (const orderId of orders) broker.publish({ projectId: 'prj_1', orderId });
    broker.publish({ projectId: 'prj_2', orderId: 'ord_d' });
    await waitFor(() => received.length === 6, 'six messages');
    const on = (channel: string) => received.filter((r) => r.channel === channel).map((r) => r.message.hint);
    expect(on(`${prefix}:p:prj_1`)).toEqual([{ projectId: 'prj_1' }]);
    expect(on(`${prefix}:p:prj_2`)).toEqual([{ projectId: 'prj_2', orderId: 'ord_d' }]);
    for (const orderId of [...orders, 'ord_d']) expect(on(`${prefix}:o:${orderShard(orderId)}`)).toContainEqual(expect.objectContaining({ orderId }));
  });
});
