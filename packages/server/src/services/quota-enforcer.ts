import type { OrdercastError } from '../domain/errors.js';
import { quotaExceeded, QUOTA_MAXIMUMS, type QuotaName, type Quotas } from '../domain/quotas.js';
import type { ProjectQuotaService } from './project-quotas.js';

/** Gives back what was taken; calling it again does nothing. */
export type Release = () => void;

/**
 * Retry-After for quotas that free only when the project closes or deletes something, or an
 * operator raises them: a connection slot frees as soon as any of the project's connections
 * closes, so its retry comes sooner than an endpoint's or a metadata size's.
 */
const CONNECTION_RETRY_SECONDS = 5;
const STANDING_RETRY_SECONDS = 60;
/** Projects whose write buckets are held at once (a bounded LRU, like lib/rate-limiter.ts). */
const MAX_BUCKETS = 100_000;

interface WriteBucket {
  tokens: number;
  updatedAt: number;
  /** Writes admitted in the second `second` and in the one before it, for the metrics. */
  second: number;
  admitted: number;
  admittedBefore: number;
}

/** What one project uses now on this node, for the metrics. */
export interface QuotaUsage {
  /** Writes admitted in the last whole second. */
  writesLastSecond: number;
  openConnections: number;
}

/**
 * Holds each project to its quotas at the points where it takes something: a write
 * (before anything is written, so an acknowledged write is never dropped), a connection or
 * stream, a webhook endpoint, an order's metadata. In memory and per node, like the rate
 * limit: N nodes behind a balancer admit up to N times a project's write rate and open
 * connections. Each check reads the project's quotas from the cache of ProjectQuotaService,
 * never from the database per request.
 *
 * The write quota is a token bucket per project that holds one second's worth of writes. A
 * batch takes one token per item; a batch larger than a whole second's worth is admitted
 * when the bucket is full and leaves it in debt, so the project's writes still average its
 * quota and no batch size is refused for ever.
 */
export class QuotaEnforcer {
  private readonly buckets = new Map<string, WriteBucket>();
  private readonly open = new Map<string, number>();
  /** Refusals by project and quota since the start, for the metrics. */
  readonly refusals = new Map<string, Map<QuotaName, number>>();

  constructor(private readonly quotas: ProjectQuotaService) {}

  /** A project's effective quotas (cached; synchronous when the cache holds them). */
  quotasOf(projectId: string): Quotas | Promise<Quotas> {
    return this.quotas.effective(projectId);
  }

  /** Takes `count` writes from the project's bucket, or throws `quota_exceeded` (writes_per_second) having taken nothing. */
  admitWrites(projectId: string, quotas: Quotas, count: number, now = Date.now()): void {
    const limit = quotas.writes_per_second;
    const bucket = this.bucketOf(projectId, limit, now);
    bucket.tokens = Math.min(limit, bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit);
    bucket.updatedAt = now;
    const needed = Math.min(count, limit);
    if (bucket.tokens < needed) {
      const retryAfterSeconds = Math.max(1, Math.ceil((needed - bucket.tokens) / limit));
      throw this.refuse(projectId, quotaExceeded('writes_per_second', limit, retryAfterSeconds, { requested: count }));
    }
    bucket.tokens -= count;
    const second = Math.floor(now / 1000);
    if (second !== bucket.second) {
      bucket.admittedBefore = second === bucket.second + 1 ? bucket.admitted : 0;
      bucket.admitted = 0;
      bucket.second = second;
    }
    bucket.admitted += count;
  }

  /** Throws `quota_exceeded` (metadata_bytes) when an order's metadata is larger than the project may store. */
  admitMetadata(projectId: string, quotas: Quotas, metadata: unknown): void {
    const limit = quotas.metadata_bytes;
    // The domain already refuses anything over the server's own limit: at the default there is nothing more to measure.
    if (limit >= QUOTA_MAXIMUMS.metadata_bytes || metadata === undefined || metadata === null) return;
    const bytes = Buffer.byteLength(JSON.stringify(metadata));
    if (bytes > limit) throw this.refuse(projectId, quotaExceeded('metadata_bytes', limit, STANDING_RETRY_SECONDS, { bytes }));
  }

  /** Throws `quota_exceeded` (webhook_endpoints) when the project already has as many endpoints as it may. */
  admitEndpoint(projectId: string, quotas: Quotas, existing: number): void {
    const limit = quotas.webhook_endpoints;
    if (existing >= limit) throw this.refuse(projectId, quotaExceeded('webhook_endpoints', limit, STANDING_RETRY_SECONDS, { endpoints: existing }));
  }

  /**
   * Takes one of the project's connection slots (a Socket.IO or Centrifuge connection, an SSE
   * stream) or throws `quota_exceeded` (open_connections), at once when the project's quotas are cached and as a
   * rejection otherwise. The slot is the caller's to release when the connection ends.
   */
  openConnection(projectId: string): Release | Promise<Release> {
    const quotas = this.quotasOf(projectId);
    // A cached project's slot is taken at once, with no promise, as the write path's quotas are.
    if (quotas instanceof Promise) return quotas.then((loaded) => this.takeConnection(projectId, loaded.open_connections));
    return this.takeConnection(projectId, quotas.open_connections);
  }

  private takeConnection(projectId: string, limit: number): Release {
    const count = this.open.get(projectId) ?? 0;
    if (count >= limit) {
      throw this.refuse(projectId, quotaExceeded('open_connections', limit, CONNECTION_RETRY_SECONDS, { open: count }));
    }
    this.open.set(projectId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(projectId) ?? 1) - 1;
      if (left <= 0) this.open.delete(projectId);
      else this.open.set(projectId, left);
    };
  }

  /** What the project uses on this node now. */
  usage(projectId: string, now = Date.now()): QuotaUsage {
    const bucket = this.buckets.get(projectId);
    const second = Math.floor(now / 1000);
    let writesLastSecond = 0;
    if (bucket?.second === second) writesLastSecond = bucket.admittedBefore;
    else if (bucket && bucket.second === second - 1) writesLastSecond = bucket.admitted;
    return { writesLastSecond, openConnections: this.open.get(projectId) ?? 0 };
  }

  /** Projects holding connection slots on this node (for leak checks in tests). */
  get connectionHolders(): number {
    return this.open.size;
  }

  private bucketOf(projectId: string, limit: number, now: number): WriteBucket {
    let bucket = this.buckets.get(projectId);
    if (bucket) {
      // Least recently used first: a use moves the bucket to the end.
      this.buckets.delete(projectId);
    } else {
      bucket = { tokens: limit, updatedAt: now, second: Math.floor(now / 1000), admitted: 0, admittedBefore: 0 };
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(projectId, bucket);
    return bucket;
  }

  /** Counts the refusal (for the metrics) and hands it back to be thrown. */
  private refuse(projectId: string, error: OrdercastError): OrdercastError {
    const quota = (error.details as { quota: QuotaName }).quota;
    let byQuota = this.refusals.get(projectId);
    if (!byQuota) {
      byQuota = new Map();
      this.refusals.set(projectId, byQuota);
    }
    byQuota.set(quota, (byQuota.get(quota) ?? 0) + 1);
    return error;
  }
}
