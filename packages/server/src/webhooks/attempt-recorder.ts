import type { AttemptBatchResult, AttemptRecord, DeliveryQueuePort } from './delivery-queue.js';

/** The most attempts written in one transaction. */
const MAX_BATCH = 512;
/** The most turns of the event loop an outcome waits for others to join its batch. */
const MAX_WAIT_TURNS = 4;

/**
 * Records attempt outcomes in batches. Writing each outcome in a transaction of its
 * own cost more than sending it; instead, what finishes while one batch is being
 * written goes into the next, so under load a transaction carries many outcomes and
 * at low load it carries one, written at once. Until its batch commits an outcome
 * lives only in memory, and its delivery stays leased: after a crash it is sent
 * again (at least once), never counted as delivered without being stored. The
 * dispatcher keeps an attempt's slot until then, so what a crash can send twice is
 * still bounded by the concurrency.
 */
export class AttemptRecorder {
  private queue: Array<{ record: AttemptRecord; written: () => void }> = [];
  private writing: Promise<void> | undefined;
  private wakeWriter: (() => void) | undefined;

  constructor(
    private readonly deliveries: DeliveryQueuePort,
    private readonly workerId: string,
    /** Write as soon as this many outcomes wait; fewer wait for one more turn of the event loop while more keep arriving. */
    private readonly batchTarget: number,
    /** Called after each batch with the records it held and what writing them did. */
    private readonly onWritten: (records: AttemptRecord[], result: AttemptBatchResult) => void,
  ) {}

  /** Resolves once the record's batch is written (or refused: see `onWritten`). */
  add(record: AttemptRecord): Promise<void> {
    return new Promise((written) => {
      this.queue.push({ record, written });
      this.writing ??= this.drain();
      if (this.queue.length >= this.batchTarget) this.wakeWriter?.();
    });
  }

  /** Resolves once everything added so far is written (or refused). */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  get pendingCount(): number {
    return this.queue.length;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Outcomes arriving in the same turn of the event loop join the batch; while more
        // keep arriving (a busy queue), up to a few more turns, so a transaction carries
        // many. A lone outcome is written after one turn.
        for (let turns = 0; turns < MAX_WAIT_TURNS; turns++) {
          const before = this.queue.length;
          await new Promise<void>((resolve) => {
            this.wakeWriter = resolve;
            setImmediate(resolve);
          });
          this.wakeWriter = undefined;
          if (this.queue.length >= this.batchTarget || this.queue.length === before) break;
        }
        const taken = this.queue.length <= MAX_BATCH ? this.queue : this.queue.slice(0, MAX_BATCH);
        this.queue = this.queue.length <= MAX_BATCH ? [] : this.queue.slice(MAX_BATCH);
        const batch = taken.map((item) => item.record);
        let result: AttemptBatchResult;
        try {
          result = await this.deliveries.recordAttempts(this.workerId, batch);
        } catch (error) {
          result = { disabled: [], unrecorded: batch.map((record) => ({ record, error })) };
        }
        try {
          this.onWritten(batch, result);
        } finally {
          for (const item of taken) item.written();
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}
