import type { KeyObject } from 'node:crypto';
import type { EndpointRecord } from '../store/repositories/webhook-endpoints.js';
import { secretKeyObject } from '../lib/standard-webhooks.js';

/** The most endpoints whose keys are kept; past it the cache starts again. */
const MAX_ENDPOINTS = 1_000;

/**
 * The HMAC keys an endpoint signs with, opened and decoded once per set of stored
 * secrets instead of for every attempt (opening a sealed secret decrypts it). The
 * set is known by the sealed secrets and their expiry times, as claimed with each
 * delivery, so a rotation is picked up with the next claim.
 */
export class SigningKeys {
  private readonly cache = new Map<string, { stored: string; keys: Array<{ expiresAt: string | null; key: KeyObject }> }>();

  constructor(
    /** The endpoint's secrets that sign at `nowIso`, opened (WebhookEndpointService.signingSecrets). */
    private readonly open: (endpoint: EndpointRecord, nowIso: string) => string[],
  ) {}

  /** The keys that sign at `nowIso`: the current secret, and old ones in their grace period. */
  signingAt(endpoint: EndpointRecord, nowIso: string): KeyObject[] {
    const stored = endpoint.secrets.map((s) => `${s.secret} ${s.expiresAt}`).join('\n');
    let entry = this.cache.get(endpoint.id);
    if (entry?.stored !== stored) {
      // Opened as of the start of time, every secret of the set is there, in its order.
      const opened = this.open(endpoint, '');
      if (opened.length !== endpoint.secrets.length) return this.open(endpoint, nowIso).map(secretKeyObject);
      entry = { stored, keys: endpoint.secrets.map((s, i) => ({ expiresAt: s.expiresAt, key: secretKeyObject(opened[i]!) })) };
      if (this.cache.size >= MAX_ENDPOINTS) this.cache.clear();
      this.cache.set(endpoint.id, entry);
    }
    const keys: KeyObject[] = [];
    for (const { expiresAt, key } of entry.keys) if (expiresAt === null || expiresAt > nowIso) keys.push(key);
    return keys;
  }
}
