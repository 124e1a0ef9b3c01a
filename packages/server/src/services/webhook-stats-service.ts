import type { EndpointState } from '../domain/webhook.js';
import type { Store } from '../store/database.js';
import { attemptStatsSince, givenUpSince, type AttemptWindowStats } from '../store/repositories/webhook-stats.js';
import type { WebhookEndpointService } from './webhook-endpoint-service.js';

export interface EndpointStats {
  object: 'webhook_endpoint_stats';
  endpointId: string;
  state: EndpointState;
  /** When the endpoint entered its current state. */
  stateSince: string | null;
  /** Failed attempts in a row, now. */
  consecutiveFailures: number;
  /** Windows ending now: the last hour, day and week. */
  windows: Record<'hour' | 'day' | 'week', WindowStats>;
}

export interface WindowStats {
  since: string;
  /** Attempts answered 2xx: each is a delivery that succeeded. */
  succeeded: number;
  /** Failed attempts: a delivery retried three times counts three. */
  failed: number;
  /** Deliveries created in the window that were given up (retries ran out, 410, or the endpoint was disabled). */
  givenUp: number;
  latencyMs: { p50: number | null; p99: number | null };
}

const WINDOWS = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 } as const;

/** An endpoint's health: its state, and what its attempts did lately. */
export class WebhookStatsService {
  constructor(
    private readonly store: Store,
    private readonly endpoints: WebhookEndpointService,
  ) {}

  async stats(projectId: string, endpointId: string, now = Date.now()): Promise<EndpointStats> {
    const record = await this.endpoints.getRecord(projectId, endpointId);
    const state: EndpointState = record.disabled ? 'disabled' : record.failingSince !== null ? 'failing' : 'enabled';
    const stateSince = state === 'disabled' ? record.disabledAt : state === 'failing' ? record.failingSince : (record.healthySince ?? record.createdAt);
    const windows = {} as EndpointStats['windows'];
    for (const [name, length] of Object.entries(WINDOWS) as Array<[keyof typeof WINDOWS, number]>) {
      const since = new Date(now - length).toISOString();
      const s: AttemptWindowStats = await attemptStatsSince(this.store.db, endpointId, since);
      windows[name] = {
        since,
        succeeded: s.succeeded,
        failed: s.failed,
        givenUp: await givenUpSince(this.store.db, endpointId, since),
        latencyMs: { p50: s.p50, p99: s.p99 },
      };
    }
    return { object: 'webhook_endpoint_stats', endpointId, state, stateSince, consecutiveFailures: record.consecutiveFailures, windows };
  }
}
