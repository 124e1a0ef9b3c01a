import { randomBytes } from 'node:crypto';
import { LogThrottle } from '../lib/log-throttle.js';
import type { Logger } from '../lib/logging.js';
import type { Metrics } from '../metrics.js';
import { countFinishedDelivery, sendAttempt } from './attempt-observation.js';
import type { AttemptBatchResult, AttemptRecord, DeliveryQueuePort } from './delivery-queue.js';
import type { DeliveryRow, LaneWidths } from '../store/repositories/webhook-deliveries.js';
import type { EndpointRecord } from '../store/repositories/webhook-endpoints.js';
import { AttemptRecorder } from './attempt-recorder.js';
import { EndpointFailureLog } from './failure-log.js';
import { SigningKeys } from './signing-keys.js';
import type { HttpSender } from './http-sender.js';
import { signatureHeaders } from '../lib/standard-webhooks.js';
import { decideAttemptOutcome, type RetryPolicy } from '../domain/attempt-outcome.js';
import { LaneOccupancy } from './lane-occupancy.js';
import { attemptOutcomeLabel, attemptRecord, type HealthSettings } from './attempt-record.js';

export interface DispatcherOptions {
  /** Attempts in flight at once in this process, over every endpoint. */
  concurrency: number;
  /** Attempts in flight at once to one endpoint, over every process, unless the endpoint sets its own. */
  endpointConcurrency: number;
  pollInterval: number;
  /** Per-attempt timeout; the lease outlives it so a live worker never loses its delivery. */
  timeout: number;
  disableAfter: number;
  /** The endpoint's secrets that sign at that moment, opened (WebhookEndpointService.signingSecrets). */
  signingSecrets(endpoint: EndpointRecord, nowIso: string): string[];
  /** The endpoint's custom headers, opened (WebhookEndpointService.customHeaders). */
  customHeaders?(endpoint: EndpointRecord): Record<string, string>;
  /** After this many failed attempts in a row the endpoint is failing: `endpoint.failing` is announced, and its lane narrows to one probe. */
  failingAfter?: number;
}

/**
 * How late a send may start after its slot before the slot is given up for a fresh one:
 * an interval, but not less than a timer's usual lateness, which at high rates is longer.
 */
function overdueAfter(intervalMs: number): number {
  return Math.max(intervalMs, 50);
}

/** A claimed delivery waiting for a free slot, with its endpoint as read at the claim. */
interface Claimed {
  row: DeliveryRow;
  endpoint: EndpointRecord | undefined;
  /** When the lease runs out (ms since the epoch, this process's clock). */
  leaseEnds: number;
}

/** The most deliveries one claim takes: claims are repeated while they find work. */
const MAX_CLAIM = 256;

/** Time kept in hand at the end of a lease, beyond the attempt's own timeout. */
const LEASE_MARGIN_MS = 500;

/**
 * Sends the outbox. Correctness comes from the database: every poll claims due
 * deliveries under a lease, so a crashed worker's deliveries are retried once its
 * lease runs out, and several processes share the queue. Wake-ups (events the log
 * follower reads, redeliveries, recorded outcomes) only make it faster.
 *
 * Each endpoint has a lane: a claim takes no more of its deliveries than the lane has
 * room for, over every process (claimDueDeliveries), so a hanging endpoint holds its own
 * lane and no other endpoint's slots. Claims run ahead of need, so a free slot starts its
 * next POST without waiting for a query. Outcomes are written in batches by the
 * AttemptRecorder, and an attempt holds its slot (and its lease) until its outcome is
 * stored. What an outcome means is decided in domain/attempt-outcome.ts; this class does
 * the I/O. A claimed delivery is sent only while enough of its lease is left for a whole
 * attempt; otherwise it is left for a later claim.
 */
export class DeliveryDispatcher {
  readonly workerId = `wrk_${randomBytes(8).toString('hex')}`;
  private readonly inFlight = new Set<Promise<void>>();
  /** The deliveries of the attempts in flight, until their outcomes are written. */
  private readonly sending = new Set<string>();
  private ready: Claimed[] = [];
  /** Claimed deliveries of rate-limited endpoints waiting for their send slot. */
  private readonly delayed = new Map<NodeJS.Timeout, Claimed>();
  /** When this process last handed a delivery of each rate-limited endpoint to a slot (ms). */
  private readonly lastRateLimitedStart = new Map<string, number>();
  private readonly recorder: AttemptRecorder;
  private readonly signingKeys: SigningKeys;
  private readonly failureLog: EndpointFailureLog;
  private readonly claimFailureLog = new LogThrottle(10_000);
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private running = false;
  private polling = false;
  /** The poll under way, if any: `stop()` waits for it. */
  private currentPoll: Promise<void> | undefined;
  /** Whether a claim now might find work that the last one did not. */
  private moreDue = true;
  /**
   * A claim found nothing since the last wake-up or poll: beyond the lanes this process
   * fills, nothing is due. Claiming again just because a lane filled would only read past
   * that lane's backlog to find nothing; new work wakes the dispatcher anyway.
   */
  private nothingElseDue = false;
  /** The last claim found nothing: while idle, the next asks the due index first (anyDue), which only spares a claim. */
  private lastClaimFoundNothing = false;
  private readonly occupancy: LaneOccupancy;
  private readonly leaseMs: number;
  /** In flight plus claimed and waiting. */
  private readonly capacity: number;
  /** Claim again once fewer than this many wait for a slot. */
  private readonly lowWater: number;
  private readonly lanes: LaneWidths;
  private readonly health: HealthSettings;

  constructor(
    private readonly deliveries: DeliveryQueuePort,
    private readonly sender: HttpSender,
    private readonly retryPolicy: RetryPolicy,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
  ) {
    // A claimed delivery may wait up to one attempt's time for a slot (see fillSlots),
    // then take one attempt's time: the lease covers both, so a live worker never loses
    // its delivery, and is short enough that a crashed one's deliveries are retried soon.
    this.leaseMs = options.timeout * 2 + 1_000;
    this.capacity = options.concurrency * 2;
    this.lowWater = Math.ceil(options.concurrency / 2);
    this.lanes = { defaultWidth: options.endpointConcurrency, failingAfter: options.failingAfter ?? 5 };
    this.occupancy = new LaneOccupancy(this.lanes);
    this.health = { disableAfterMs: options.disableAfter, failingAfter: this.lanes.failingAfter };
    this.failureLog = new EndpointFailureLog(logger);
    this.signingKeys = new SigningKeys(options.signingSecrets);
    this.recorder = new AttemptRecorder(deliveries, this.workerId, Math.ceil(options.concurrency / 2), (records, result) => this.recorded(records, result));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.moreDue = true;
    this.pollSoon();
  }

  /** Says that deliveries may have become due (new events, re-queued ones): a claim follows soon. */
  wake(): void {
    if (!this.running) return;
    this.nothingElseDue = false;
    this.moreDue = true;
    this.pollIfWanted();
  }

  /** Polls now if more may be due and there is room for it; otherwise a finishing attempt or the timer polls. */
  private pollIfWanted(): void {
    if (this.moreDue && !this.polling && this.ready.length < this.lowWater && this.room() > 0) this.pollSoon();
  }

  /** Nothing sending, waiting or claimed: an empty claim then means nothing is due, not full lanes (where the probe would say yes). */
  private idle(): boolean {
    return this.inFlight.size === 0 && this.ready.length === 0 && this.delayed.size === 0;
  }

  private room(): number {
    return this.capacity - this.inFlight.size - this.ready.length - this.delayed.size;
  }

  /** Polls at the next turn of the event loop (a timer would add a millisecond or more). */
  private pollSoon(): void {
    if (this.immediate) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.startPoll();
    });
  }

  /** The periodic poll, which finds retries whose time has come and events no wake-up announced. */
  private schedulePoll(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.nothingElseDue = false;
      this.startPoll();
    }, delay);
    this.timer.unref?.();
  }

  private startPoll(): void {
    // A poll under way stays the one `stop()` waits for (a second one would return at once).
    if (this.polling) {
      this.moreDue = true;
      return;
    }
    this.currentPoll = this.poll();
  }

  private async poll(): Promise<void> {
    if (!this.running || this.polling) return;
    this.polling = true;
    this.moreDue = false;
    try {
      const limit = Math.min(this.room(), MAX_CLAIM);
      if (limit > 0) {
        const claimedAt = Date.now();
        // Idle after a claim that found nothing, most wake-ups (events of projects without endpoints) have nothing behind them.
        const gated = this.lastClaimFoundNothing && this.idle() && !(await this.deliveries.anyDue());
        const rows = gated ? [] : await this.deliveries.claimDue(this.workerId, limit, this.leaseMs, this.lanes);
        if (rows.length === limit) this.moreDue = true;
        if (rows.length === 0) this.nothingElseDue = true;
        this.lastClaimFoundNothing = rows.length === 0;
        if (rows.length > 0) {
          const endpoints = await this.deliveries.findEndpoints(rows.map((row) => row.endpoint_id));
          for (const row of rows) {
            // Its lease ran out while its outcome was still being written (a stalled disk): it
            // was sent, and its outcome is on the way. Sending it again would be a duplicate;
            // if the outcome is refused, the lease just taken runs out and it is retried.
            if (this.sending.has(row.id)) continue;
            await this.admit({ row, endpoint: endpoints.get(row.endpoint_id), leaseEnds: claimedAt + this.leaseMs });
          }
          // A lane this claim filled is passed over by the next claim, which may find other
          // endpoints' deliveries behind its backlog: claim again, unless nothing else was due.
          const waiting = [...this.ready, ...this.delayed.values()];
          if (!this.nothingElseDue && [...endpoints.values()].some((endpoint) => this.occupancy.full(endpoint, waiting))) this.moreDue = true;
        }
      } else {
        this.moreDue = true;
      }
    } catch (error) {
      // While the database is down every poll fails: one line per interval says so.
      const notLogged = this.claimFailureLog.take('claim');
      if (notLogged !== undefined) this.logger.warn({ err: error, failuresNotLogged: notLogged }, 'webhook dispatcher could not claim deliveries; retrying');
    } finally {
      this.polling = false;
    }
    if (!this.running) {
      await this.releaseWaiting();
      return;
    }
    this.fillSlots();
    this.pollIfWanted();
    this.schedulePoll(this.options.pollInterval);
  }

  /**
   * A claimed delivery is ready at once, unless its endpoint has a rate limit: then it
   * takes the endpoint's next send slot (shared through the database by every
   * dispatcher) and waits for it, or, when the slot lies beyond what its lease allows,
   * goes back to the queue due at the slot.
   */
  private async admit(claimed: Claimed, lead = 0): Promise<void> {
    const limit = claimed.endpoint && !claimed.endpoint.disabled ? claimed.endpoint.rateLimit : null;
    if (!limit) {
      this.ready.push(claimed);
      return;
    }
    const endpoint = claimed.endpoint!;
    const interval = 1000 / limit;
    const now = Date.now();
    // The latest a slot may be for the whole attempt to fit in the lease after it.
    const horizon = claimed.leaseEnds - this.options.timeout - LEASE_MARGIN_MS;
    // Known to be taken that far already (as read at the claim, or by this batch): back to
    // the queue without taking a slot, which would only be lost.
    if ((endpoint.nextSendAtMs ?? 0) > horizon) {
      await this.deliveries.postpone(this.workerId, claimed.row.id, new Date(endpoint.nextSendAtMs!).toISOString());
      return;
    }
    const slot = await this.deliveries.takeSendSlot(endpoint.id, now + lead, interval);
    endpoint.nextSendAtMs = slot + interval;
    const arrived = Date.now();
    // Taking the slot took so long (a busy database) that it has passed: take one that far ahead instead.
    if (arrived - slot > overdueAfter(interval) && arrived - now > lead) return this.admit(claimed, arrived - now);
    if (slot <= horizon) {
      this.waitForSlot(claimed, slot, interval);
    } else {
      await this.deliveries.postpone(this.workerId, claimed.row.id, new Date(slot).toISOString());
    }
  }

  /**
   * Waits, then hands the delivery to a free slot. Timers that fire late (a busy event
   * loop) would fire together: each also keeps the interval after the last start of its
   * endpoint in this process, so a stall delays sends instead of bunching them.
   */
  private waitForSlot(claimed: Claimed, slotAt: number, intervalMs: number, wakeAt = slotAt): void {
    const timer = setTimeout(
      () => {
        this.delayed.delete(timer);
        if (!this.running) return;
        const endpointId = claimed.endpoint!.id;
        const now = Date.now();
        // A slot missed by more than an interval (a stall) may now lie among slots other
        // processes took since, and sending on it could bunch with theirs: take a fresh one.
        // Measured from the slot itself, not from when it was known: taking it can take a while.
        if (now - slotAt > overdueAfter(intervalMs)) {
          this.admit(claimed).catch((error) =>
            this.logger.warn({ err: error }, 'webhook dispatcher could not take a send slot; the lease will run out and the delivery be retried'),
          );
          return;
        }
        const gap = (this.lastRateLimitedStart.get(endpointId) ?? 0) + intervalMs - now;
        if (gap > 0) return this.waitForSlot(claimed, slotAt, intervalMs, now + gap);
        this.lastRateLimitedStart.set(endpointId, now);
        if (this.lastRateLimitedStart.size > 10_000) this.lastRateLimitedStart.clear();
        // At the head: it has waited its turn already.
        this.ready.unshift(claimed);
        this.fillSlots();
      },
      Math.max(0, wakeAt - Date.now()),
    );
    this.delayed.set(timer, claimed);
  }

  /** Starts waiting deliveries while slots are free. */
  private fillSlots(): void {
    while (this.running && this.inFlight.size < this.options.concurrency && this.ready.length > 0) {
      const next = this.ready.shift()!;
      // Too little lease left for a whole attempt: another claim (after the lease) sends it.
      if (Date.now() + this.options.timeout + LEASE_MARGIN_MS > next.leaseEnds) continue;
      const id = next.row.id;
      this.sending.add(id);
      this.occupancy.started(next.row.endpoint_id);
      this.track(
        this.deliver(next).finally(() => {
          this.sending.delete(id);
          this.occupancy.finished(next.row.endpoint_id);
        }),
      );
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      this.fillSlots();
      this.pollIfWanted();
    });
  }

  private async deliver({ row, endpoint }: Claimed): Promise<void> {
    try {
      if (!endpoint || endpoint.disabled) {
        await this.deliveries.giveUpWithoutAttempt(row.id, endpoint ? `endpoint disabled: ${endpoint.disabledReason ?? ''}`.trim() : 'endpoint deleted');
        this.metrics.webhookDeliveries.inc({ outcome: 'failed' });
        return;
      }
      await this.attempt(row, endpoint);
    } catch (error) {
      // The lease runs out and another poll retries the delivery.
      this.logger.error({ err: error, deliveryId: row.id }, 'webhook delivery could not be recorded');
    }
  }

  private async attempt(row: DeliveryRow, endpoint: EndpointRecord): Promise<void> {
    const attemptedAt = new Date();
    const headers = signatureHeaders(
      this.signingKeys.signingAt(endpoint, attemptedAt.toISOString()),
      row.id,
      Math.floor(attemptedAt.getTime() / 1000),
      row.payload,
    );
    // Custom headers first: the signature headers (and the sender's own) always win.
    const custom = endpoint.sealedHeaders !== null && this.options.customHeaders ? this.options.customHeaders(endpoint) : undefined;
    const result = await sendAttempt(this.sender, row, endpoint, custom ? { ...custom, ...headers } : { ...headers });
    const now = Date.now();
    const decision = decideAttemptOutcome(
      { statusCode: result.statusCode, retryAfter: result.headers?.['retry-after'] },
      Number(row.schedule_step) + 1,
      this.retryPolicy,
      now,
      Math.random(),
    );
    this.metrics.webhookAttemptDuration.observe({ outcome: attemptOutcomeLabel(result, decision.status === 'succeeded') }, result.durationMs / 1000);
    countFinishedDelivery(this.metrics, row, endpoint, decision.status, now, this.lanes.failingAfter);
    if (decision.status !== 'succeeded') this.failureLog.failed(endpoint, result, decision.status);
    // Written with the others that finish about now; the slot stays taken until then.
    await this.recorder.add(attemptRecord(row, endpoint, attemptedAt, result, decision, now, this.health));
    if (!this.logger.isLevelEnabled('debug')) return; // the line's fields are not even built
    const fields = { deliveryId: row.id, endpointId: endpoint.id, statusCode: result.statusCode, error: result.errorCode, next: decision.status };
    this.logger.debug({ ...fields, ms: Math.round(result.durationMs) }, 'webhook attempt');
  }

  /** After a batch of outcomes is written: counts, logs, and a claim (a finished delivery may release the next event of its order). */
  private recorded(records: AttemptRecord[], result: AttemptBatchResult): void {
    const refused = new Set<AttemptRecord>();
    for (const { record, error } of result.unrecorded) {
      refused.add(record);
      // Its lease runs out and another poll retries the delivery.
      this.logger.error({ err: error, deliveryId: record.attempt.deliveryId }, 'webhook delivery could not be recorded');
    }
    let succeeded = 0;
    let failed = 0;
    for (const record of records) {
      if (refused.has(record)) continue;
      if (record.status === 'succeeded') succeeded++;
      else if (record.status === 'failed') failed++;
    }
    if (succeeded > 0) this.metrics.webhookDeliveries.inc({ outcome: 'succeeded' }, succeeded);
    if (failed > 0) this.metrics.webhookDeliveries.inc({ outcome: 'failed' }, failed);
    for (const { endpointId, projectId, reason } of result.disabled) {
      this.metrics.webhookEndpointsDisabled.inc();
      this.logger.warn({ endpointId, projectId, reason }, 'webhook endpoint disabled');
    }
    // Room in the lanes these attempts held (and a finished delivery may release the next of its order).
    if (!this.running) return;
    this.moreDue = true;
    this.pollIfWanted();
  }

  /** Claimed deliveries that were never started go back to the queue at once. */
  private async releaseWaiting(): Promise<void> {
    const waiting = this.ready;
    this.ready = [];
    for (const [timer, claimed] of this.delayed) {
      clearTimeout(timer);
      waiting.push(claimed);
    }
    this.delayed.clear();
    if (waiting.length === 0) return;
    try {
      const ids = waiting.map((claimed) => claimed.row.id);
      await this.deliveries.releaseClaims(this.workerId, ids);
    } catch (error) {
      // Their leases run out and another worker sends them.
      this.logger.warn({ err: error }, 'webhook dispatcher could not release its claims');
    }
  }

  /**
   * Stops claiming and waits for attempts in flight and for their outcomes to be
   * written; unfinished ones are retried after their lease.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    // A claim under way: wait for it, so what it claims is handed back. Otherwise the
    // database could close before that, and the deliveries would wait for their lease.
    await this.currentPoll;
    await this.releaseWaiting();
    const settled = (async () => {
      await Promise.allSettled([...this.inFlight]);
      await this.recorder.flushed();
    })();
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, graceMs).unref?.())]);
    // Outcomes still to come after the grace are not recorded: their leases run out and they are sent again.
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }
}
