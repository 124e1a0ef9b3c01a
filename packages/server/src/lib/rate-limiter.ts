import { sha256Base64url } from './hashing.js';

/**
 * Token buckets, one per credential: `ratePerSecond` sustained, `burst` at once.
 * In memory and per process, like most API gateways' first line of defence.
 *
 * The buckets are a bounded LRU (fastify-rate-limit's LocalStore does the same):
 * however many distinct keys arrive, memory stays at `maxKeys` buckets, and each
 * costs the same whatever the key's length, because buckets are keyed by a hash
 * of it. A bucket pushed out is one nobody used for the longest time.
 */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until the next request would be allowed (when refused). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export const DEFAULT_MAX_KEYS = 100_000;

/** A short, fixed-size stand-in for a key: the first 16 bytes of its SHA-256. */
function keyDigest(key: string): string {
  return sha256Base64url(key).slice(0, 22);
}

export class RateLimiter {
  /** Least recently used first: a Map iterates in insertion order, and a use re-inserts. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {}

  get enabled(): boolean {
    return this.ratePerSecond > 0;
  }

  /** How many buckets are held (at most `maxKeys`). */
  get size(): number {
    return this.buckets.size;
  }

  take(key: string, now = Date.now()): RateDecision {
    const digest = keyDigest(key);
    let bucket = this.buckets.get(digest);
    if (bucket) {
      this.buckets.delete(digest);
    } else {
      bucket = { tokens: this.burst, updatedAt: now };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(digest, bucket);
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerSecond);
    bucket.updatedAt = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    return {
      allowed,
      limit: this.burst,
      remaining: Math.floor(bucket.tokens),
      resetSeconds: Math.ceil((this.burst - bucket.tokens) / this.ratePerSecond),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond)),
    };
  }
}
