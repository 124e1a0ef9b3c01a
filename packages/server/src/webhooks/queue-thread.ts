import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Store } from '../store/database.js';
import type { DeliveryRow, LaneWidths } from '../store/repositories/webhook-deliveries.js';
import type { EndpointRecord } from '../store/repositories/webhook-endpoints.js';
import type { AttemptBatchResult, AttemptRecord, DeliveryQueue, DeliveryQueuePort, DisabledEndpoint } from './delivery-queue.js';

/** What the worker thread opens. */
export interface QueueThreadSettings {
  file: string;
  synchronous: 'NORMAL' | 'FULL';
}

type Method = Exclude<keyof DeliveryQueuePort, 'close'>;
/** A call to the worker: a DeliveryQueue method and its arguments, or `close`. */
export type QueueCall = { id: number } & ({ [M in Method]: { method: M; args: Parameters<DeliveryQueue[M]> } }[Method] | { method: 'close'; args: [] });
export type QueueReply = { id: number; result?: unknown; error?: Error };

const WORKER_SCRIPT = fileURLToPath(new URL('./queue-thread-worker.js', import.meta.url));

/**
 * The dispatcher's queue on SQLite, run in a worker thread: claiming, recording
 * outcomes and endpoint health (SQLite's work, and the checkpointed pages it leaves)
 * take no time of the thread that signs and POSTs, and that serves the API. Each
 * call is a message; the DeliveryQueue in the worker does the same work, in the same
 * transactions, as it would on the main thread, so leases and at-least-once hold as
 * they did. If the worker dies, its calls fail (their deliveries are retried once
 * their leases run out) and the next call starts a new one.
 */
export class ThreadedDeliveryQueue implements DeliveryQueuePort {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly settings: QueueThreadSettings) {
    // Started now, so its modules are loaded by the dispatcher's first claim.
    this.start();
  }

  /**
   * A threaded queue for a server on an SQLite file; undefined on PostgreSQL (its
   * work is already in the database server), for an in-memory database (another
   * connection would see another database), and when running from the TypeScript
   * sources, where the worker has no JavaScript to load.
   */
  static forStore(store: Store, synchronous: QueueThreadSettings['synchronous']): ThreadedDeliveryQueue | undefined {
    if (store.dialect !== 'sqlite' || path.basename(store.location) === ':memory:' || !existsSync(WORKER_SCRIPT)) return undefined;
    return new ThreadedDeliveryQueue({ file: store.location, synchronous });
  }

  async claimDue(workerId: string, limit: number, leaseMs: number, lanes: LaneWidths): Promise<DeliveryRow[]> {
    const { rows, endpoints } = await this.call<{ rows: DeliveryRow[]; endpoints: Map<string, EndpointRecord> }>('claimDue', [workerId, limit, leaseMs, lanes]);
    // Read in the same round trip, for the findEndpoints the dispatcher makes next.
    this.claimedEndpoints = { asked: new Set(rows.map((row) => row.endpoint_id)), found: endpoints };
    return rows;
  }

  /** The endpoints of the last claim's rows, as read with them. */
  private claimedEndpoints: { asked: Set<string>; found: Map<string, EndpointRecord> } | undefined;

  findEndpoints(ids: Iterable<string>): Promise<Map<string, EndpointRecord>> {
    const wanted = [...new Set(ids)];
    const claimed = this.claimedEndpoints;
    this.claimedEndpoints = undefined;
    if (claimed && wanted.every((id) => claimed.asked.has(id))) return Promise.resolve(claimed.found);
    return this.call('findEndpoints', [wanted]);
  }

  releaseClaims(workerId: string, deliveryIds: readonly string[]): Promise<void> {
    return this.call('releaseClaims', [workerId, deliveryIds]);
  }

  takeSendSlot(endpointId: string, nowMs: number, intervalMs: number): Promise<number> {
    return this.call('takeSendSlot', [endpointId, nowMs, intervalMs]);
  }

  postpone(workerId: string, deliveryId: string, at: string): Promise<void> {
    return this.call('postpone', [workerId, deliveryId, at]);
  }

  giveUpWithoutAttempt(deliveryId: string, reason: string): Promise<void> {
    return this.call('giveUpWithoutAttempt', [deliveryId, reason]);
  }

  async recordAttempts(workerId: string, records: readonly AttemptRecord[]): Promise<AttemptBatchResult> {
    const result = await this.call<{ disabled: DisabledEndpoint[]; unrecorded: Array<{ index: number; error: Error }> }>('recordAttempts', [workerId, records]);
    return { disabled: result.disabled, unrecorded: result.unrecorded.map(({ index, error }) => ({ record: records[index]!, error })) };
  }

  /** Closes the worker's connection and ends it; calls made later fail. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    try {
      await this.call('close', []);
    } catch {
      // Ending it below is all that is left to do.
    }
    this.worker = undefined;
    await worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SCRIPT, { workerData: this.settings });
    worker.unref();
    worker.on('message', (reply: QueueReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.error) waiting.reject(reply.error);
      else waiting.resolve(reply.result);
    });
    const lost = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the webhook queue thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private call<T>(method: QueueCall['method'], args: unknown[]): Promise<T> {
    if (this.closed && method !== 'close') return Promise.reject(new Error('the webhook queue thread is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      // Held while an answer is awaited: a call in flight keeps the process alive.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });
  }
}
