import { randomBytes } from 'node:crypto';
import type { Logger } from '../logging.js';
import type { Metrics } from '../metrics.js';
import { signingSecrets } from '../services/webhook-endpoint-service.js';
import type { WebhookDeliveryService } from '../services/webhook-delivery-service.js';
import type { DeliveryRow } from '../store/repositories/webhook-deliveries.js';
import type { EndpointRecord } from '../store/repositories/webhook-endpoints.js';
import type { HttpSender, SendResult } from './http-sender.js';
import { parseRetryAfter, type RetrySchedule } from './retry-schedule.js';
import { signatureHeaders } from './signing.js';

export interface DispatcherOptions {
  concurrency: number;
  pollInterval: number;
  /** Per-attempt timeout; the lease outlives it so a live worker never loses its delivery. */
  timeout: number;
  disableAfter: number;
}

/**
 * Sends the outbox. Correctness comes from the database: every poll claims due
 * deliveries under a lease, so a crashed worker's deliveries are retried once its
 * lease runs out, and several processes share the queue. Wake-ups (new events,
 * redeliveries) only make it faster.
 */
export class DeliveryDispatcher {
  readonly workerId = `wrk_${randomBytes(8).toString('hex')}`;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private polling = false;
  /** The poll under way, if any: `stop()` waits for it. */
  private currentPoll: Promise<void> | undefined;
  private pollAgain = false;
  private readonly leaseMs: number;

  constructor(
    private readonly deliveries: WebhookDeliveryService,
    private readonly sender: HttpSender,
    private readonly schedule: RetrySchedule,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
  ) {
    // Longer than any attempt can take, so a live worker never loses its delivery; short enough that a crashed one is retried soon.
    this.leaseMs = options.timeout * 2 + 1_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedulePoll(0);
  }

  /** Asks for a poll soon (coalesced): new events and re-queued deliveries call this. */
  wake(): void {
    if (!this.running) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.schedulePoll(0);
  }

  private schedulePoll(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      // A poll under way stays the one `stop()` waits for (a second one would return at once).
      if (this.polling) {
        this.timer = undefined;
        this.pollAgain = true;
        return;
      }
      this.currentPoll = this.poll();
    }, delay);
    this.timer.unref?.();
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    if (!this.running || this.polling) return;
    this.polling = true;
    this.pollAgain = false;
    let claimedFull = false;
    try {
      const free = this.options.concurrency - this.inFlight.size;
      if (free > 0) {
        const rows = await this.deliveries.claimDue(this.workerId, free, this.leaseMs);
        claimedFull = rows.length === free;
        for (const row of rows) this.track(this.deliver(row));
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'webhook dispatcher could not claim deliveries; retrying');
    } finally {
      this.polling = false;
    }
    if (!this.running) return;
    // More may be due right away: a full batch, or a wake-up that arrived mid-poll.
    this.schedulePoll(claimedFull || this.pollAgain ? 0 : this.options.pollInterval);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      // A finished delivery frees a slot and may release the next event of its order.
      this.wake();
    });
  }

  private async deliver(row: DeliveryRow): Promise<void> {
    try {
      const endpoint = await this.deliveries.findEndpoint(row.endpoint_id);
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
    const headers = signatureHeaders(signingSecrets(endpoint, attemptedAt.toISOString()), row.id, Math.floor(attemptedAt.getTime() / 1000), row.payload);
    const result = await this.sender.post(endpoint.url, { ...headers }, row.payload);
    const succeeded = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    this.metrics.webhookAttemptDuration.observe({ outcome: attemptOutcomeLabel(result, succeeded) }, result.durationMs / 1000);

    const attemptsMade = Number(row.schedule_step) + 1;
    let status: 'pending' | 'succeeded' | 'failed' = 'succeeded';
    let nextAttemptAt = new Date().toISOString();
    let disable: string | undefined;
    if (!succeeded) {
      if (result.statusCode === 410) {
        // 410 Gone: the receiver asks us to stop (Standard Webhooks).
        status = 'failed';
        disable = 'the endpoint answered 410 Gone';
      } else {
        const retryAfter =
          result.statusCode === 429 || result.statusCode === 503 ? parseRetryAfter(result.headers?.['retry-after']) : undefined;
        const delay = this.schedule.nextDelay(attemptsMade, retryAfter);
        if (delay === undefined) {
          status = 'failed';
        } else {
          status = 'pending';
          nextAttemptAt = new Date(Date.now() + delay).toISOString();
        }
      }
    }

    const disabledReason = await this.deliveries.recordAttempt(row, this.workerId, {
      attempt: {
        deliveryId: row.id,
        endpointId: endpoint.id,
        url: endpoint.url,
        attemptedAt: attemptedAt.toISOString(),
        durationMs: result.durationMs,
        outcome: succeeded ? 'succeeded' : 'failed',
        statusCode: result.statusCode,
        responseHeaders: result.headers,
        responseBody: result.body,
        errorCode: result.errorCode,
        error: result.error,
      },
      status,
      nextAttemptAt,
      disableEndpoint: disable,
      disableAfterMs: this.options.disableAfter,
    });
    if (status !== 'pending') this.metrics.webhookDeliveries.inc({ outcome: status });
    if (disabledReason !== undefined) {
      this.metrics.webhookEndpointsDisabled.inc();
      this.logger.warn({ endpointId: endpoint.id, projectId: endpoint.projectId, reason: disabledReason }, 'webhook endpoint disabled');
    }
    this.logger.debug(
      { deliveryId: row.id, endpointId: endpoint.id, statusCode: result.statusCode, error: result.errorCode, ms: Math.round(result.durationMs), next: status },
      'webhook attempt',
    );
  }

  /** Stops claiming and waits for attempts in flight; unfinished ones are retried after their lease. */
  async stop(graceMs = 5_000): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // A claim under way sends what it claims: wait for it, so those attempts are waited
    // for too. Otherwise the database could close before their results are recorded,
    // and the next process would send them again.
    await this.currentPoll;
    const all = Promise.allSettled([...this.inFlight]);
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, graceMs).unref?.())]);
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }
}

function attemptOutcomeLabel(result: SendResult, succeeded: boolean): string {
  if (succeeded) return 'success';
  if (result.statusCode !== null) return `http_${Math.floor(result.statusCode / 100)}xx`;
  return result.errorCode ?? 'network_error';
}
