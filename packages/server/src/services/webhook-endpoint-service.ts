import { ORDER_STUCK } from '../domain/order-decisions.js';
import { hasExpectedTimes } from '../domain/order-timing.js';
import { OrdercastError } from '../domain/errors.js';
import type { Lifecycle } from '../domain/lifecycle.js';
import { ALL_EVENTS, type WebhookEndpoint } from '../domain/webhook.js';
import type { Store } from '../store/database.js';
import {
  deleteEndpoint,
  findEndpoint,
  findEndpointForUpdate,
  insertEndpoint,
  listEndpoints,
  updateEndpointSecrets,
  updateEndpointSettings,
  type EndpointRecord,
} from '../store/repositories/webhook-endpoints.js';
import { inTransaction } from '../store/transaction.js';
import { validateEndpointUrl } from './webhook-endpoint-url.js';
import { OPERATIONAL_EVENT_NAMES } from '../domain/operational-events.js';
import { eventCatalogue, type EventType } from '../domain/event-catalogue.js';
import { validateCustomHeaders } from '../domain/webhook-headers.js';
import { generateSecret } from '../lib/standard-webhooks.js';
import type { ProjectService } from './project-service.js';
import type { QuotaEnforcer } from './quota-enforcer.js';
import type { SecretBox } from '../store/secret-box.js';
import { newId } from '../lib/ids.js';

export interface EndpointInput {
  url?: string;
  description?: string;
  enabledEvents?: string[];
  disabled?: boolean;
  headers?: Record<string, string> | null;
  rateLimit?: number | null;
  maxInFlight?: number | null;
  metadata?: Record<string, unknown> | null;
}

export interface EndpointView extends WebhookEndpoint {
  object: 'webhook_endpoint';
}

export const MAX_ENDPOINTS_PER_PROJECT = 50;
/** How many rotated-out secrets may still be signing at once. */
const MAX_OLD_SECRETS = 10;
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 3600;
/** Deliveries per second: high enough for any receiver that wants a limit at all. */
export const MAX_RATE_LIMIT = 10_000;
export const MAX_ENDPOINT_METADATA_BYTES = 4096;

/** Every event name an endpoint of a project with this lifecycle can receive. */
export function lifecycleEventNames(lifecycle: Lifecycle): string[] {
  const timed = hasExpectedTimes(lifecycle) ? [ORDER_STUCK] : [];
  return [...new Set([lifecycle.createdEventName, ...Object.values(lifecycle.eventNames), ...timed, ...OPERATIONAL_EVENT_NAMES, ...LEGACY_EVENT_NAMES])];
}

/** Names endpoints could subscribe to before the operational events got theirs. */
const LEGACY_EVENT_NAMES = ['WEBHOOK_ENDPOINT_DISABLED'];

function checkRateLimit(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_RATE_LIMIT) {
    throw new OrdercastError(
      'invalid_rate_limit',
      `rateLimit must be a whole number of deliveries per second from 1 to ${MAX_RATE_LIMIT}, or null for no limit`,
      {
        field: 'rateLimit',
        min: 1,
        max: MAX_RATE_LIMIT,
      },
    );
  }
  return value;
}

/** An endpoint's lane may be narrower than the server's cap on attempts in flight, never wider. */
function checkMaxInFlight(value: unknown, serverCap: number): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > serverCap) {
    throw new OrdercastError(
      'invalid_max_in_flight',
      `maxInFlight must be a whole number of attempts from 1 to ${serverCap} (the server's ORDERCAST_WEBHOOK_CONCURRENCY), or null for the default`,
      { field: 'maxInFlight', min: 1, max: serverCap },
    );
  }
  return value;
}

function checkMetadata(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new OrdercastError('validation_failed', 'metadata must be a JSON object', { field: 'metadata' });
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_ENDPOINT_METADATA_BYTES) {
    throw new OrdercastError('validation_failed', `metadata may be at most ${MAX_ENDPOINT_METADATA_BYTES} bytes of JSON`, { field: 'metadata' });
  }
  return value as Record<string, unknown>;
}

export class WebhookEndpointService {
  constructor(
    private readonly store: Store,
    private readonly projects: ProjectService,
    private readonly options: {
      allowPrivate: boolean;
      rotationGraceMs: number;
      secrets: SecretBox;
      /** The most attempts in flight a dispatcher runs at once: no endpoint's lane is wider. */
      maxInFlightCap: number;
      /** Each project's webhook_endpoints quota; without it, MAX_ENDPOINTS_PER_PROJECT. */
      quotas?: QuotaEnforcer;
    },
  ) {}

  /** What API clients see: everything but the secrets, with the custom headers opened. */
  view(record: EndpointRecord): EndpointView {
    const { secrets: _secrets, sealedHeaders: _headers, consecutiveFailures: _failures, healthySince: _since, nextSendAtMs: _slot, ...endpoint } = record;
    return { object: 'webhook_endpoint', ...endpoint, headers: this.customHeaders(record) };
  }

  /** The custom headers every delivery to the endpoint carries, opened. */
  customHeaders(record: EndpointRecord): Record<string, string> {
    return record.sealedHeaders === null ? {} : (JSON.parse(this.options.secrets.open(record.sealedHeaders)) as Record<string, string>);
  }

  /** Sealed, since custom headers often carry a receiver's credentials (an Authorization header). */
  private sealHeaders(headers: Record<string, string>): string | null {
    return Object.keys(headers).length === 0 ? null : this.options.secrets.seal(JSON.stringify(headers));
  }

  /** The event types the project's endpoints can receive, with schemas and examples. */
  async eventTypes(projectId: string): Promise<EventType[]> {
    const project = await this.projects.get(projectId);
    return eventCatalogue(project.lifecycle);
  }

  /**
   * The secrets that sign right now, opened: the current one and old ones still in
   * their grace period. Records carry their secrets sealed, as stored.
   */
  signingSecrets(record: EndpointRecord, now = new Date().toISOString()): string[] {
    return record.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => this.options.secrets.open(s.secret));
  }

  private async checkEvents(projectId: string, enabledEvents: string[] | undefined): Promise<string[]> {
    if (enabledEvents === undefined) return [ALL_EVENTS];
    if (!Array.isArray(enabledEvents) || enabledEvents.length === 0) {
      throw new OrdercastError('validation_failed', 'enabledEvents must list at least one event name, or ["*"] for every event', { field: 'enabledEvents' });
    }
    if (enabledEvents.includes(ALL_EVENTS)) return [ALL_EVENTS];
    const project = await this.projects.get(projectId);
    const known = lifecycleEventNames(project.lifecycle);
    const unknown = enabledEvents.filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      throw new OrdercastError(
        'unknown_event_name',
        `${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length === 1 ? 'is not an event' : 'are not events'} of the ${project.lifecycle.name} lifecycle; its events are ${known.join(', ')} (or "*" for all)`,
        { field: 'enabledEvents', unknown, eventNames: known },
      );
    }
    return [...new Set(enabledEvents)];
  }

  private checkDescription(description: unknown): string {
    if (description === undefined || description === null) return '';
    if (typeof description !== 'string' || description.length > 500) {
      throw new OrdercastError('validation_failed', 'description must be a string of at most 500 characters', { field: 'description' });
    }
    return description;
  }

  /** Creates an endpoint; the secret is returned here once and never again. */
  async create(projectId: string, input: EndpointInput): Promise<{ endpoint: EndpointView; secret: string }> {
    if (typeof input.url !== 'string') throw new OrdercastError('validation_failed', 'url is required', { field: 'url' });
    const url = validateEndpointUrl(input.url, this.options.allowPrivate);
    const enabledEvents = await this.checkEvents(projectId, input.enabledEvents);
    const now = new Date().toISOString();
    const secret = generateSecret();
    const record: EndpointRecord = {
      id: newId('we'),
      projectId,
      url,
      description: this.checkDescription(input.description),
      enabledEvents,
      disabled: input.disabled === true,
      disabledAt: input.disabled === true ? now : null,
      disabledReason: input.disabled === true ? 'disabled by the API' : null,
      failingSince: null,
      createdAt: now,
      updatedAt: now,
      secrets: [{ secret: this.options.secrets.seal(secret), expiresAt: null }],
      sealedHeaders: this.sealHeaders(validateCustomHeaders(input.headers)),
      rateLimit: checkRateLimit(input.rateLimit),
      maxInFlight: checkMaxInFlight(input.maxInFlight, this.options.maxInFlightCap),
      metadata: checkMetadata(input.metadata),
      consecutiveFailures: 0,
      healthySince: input.disabled === true ? null : now,
      nextSendAtMs: null,
    };
    const quotas = this.options.quotas ? await this.options.quotas.quotasOf(projectId) : undefined;
    await inTransaction(this.store.db, async (trx) => {
      const existing = (await listEndpoints(trx, projectId)).length;
      if (quotas) this.options.quotas!.admitEndpoint(projectId, quotas, existing);
      else if (existing >= MAX_ENDPOINTS_PER_PROJECT) {
        throw new OrdercastError('validation_failed', `A project may have at most ${MAX_ENDPOINTS_PER_PROJECT} webhook endpoints`);
      }
      await insertEndpoint(trx, record);
    });
    return { endpoint: this.view(record), secret };
  }

  async list(projectId: string): Promise<EndpointView[]> {
    return (await listEndpoints(this.store.db, projectId)).map((record) => this.view(record));
  }

  /** The endpoint with its secrets, for the services that sign. */
  async getRecord(projectId: string, id: string): Promise<EndpointRecord> {
    const record = await findEndpoint(this.store.db, projectId, id);
    if (!record) throw new OrdercastError('webhook_endpoint_not_found', `No webhook endpoint ${id}`, { endpointId: id });
    return record;
  }

  async get(projectId: string, id: string): Promise<EndpointView> {
    return this.view(await this.getRecord(projectId, id));
  }

  async update(projectId: string, id: string, input: EndpointInput): Promise<EndpointView> {
    const record = await this.getRecord(projectId, id);
    const now = new Date().toISOString();
    if (input.url !== undefined) record.url = validateEndpointUrl(input.url, this.options.allowPrivate);
    if (input.description !== undefined) record.description = this.checkDescription(input.description);
    if (input.enabledEvents !== undefined) record.enabledEvents = await this.checkEvents(projectId, input.enabledEvents);
    if (input.headers !== undefined) record.sealedHeaders = this.sealHeaders(validateCustomHeaders(input.headers));
    if (input.rateLimit !== undefined) record.rateLimit = checkRateLimit(input.rateLimit);
    if (input.maxInFlight !== undefined) record.maxInFlight = checkMaxInFlight(input.maxInFlight, this.options.maxInFlightCap);
    if (input.metadata !== undefined) record.metadata = checkMetadata(input.metadata);
    let reenabled = false;
    if (input.disabled === true && !record.disabled) {
      Object.assign(record, { disabled: true, disabledAt: now, disabledReason: 'disabled by the API' });
    } else if (input.disabled === false && record.disabled) {
      // Re-enabling starts the failure clock afresh.
      Object.assign(record, { disabled: false, disabledAt: null, disabledReason: null, failingSince: null });
      reenabled = true;
    }
    record.updatedAt = now;
    await updateEndpointSettings(this.store.db, record, reenabled);
    return this.view(record);
  }

  async remove(projectId: string, id: string): Promise<void> {
    await this.getRecord(projectId, id);
    await inTransaction(this.store.db, (trx) => deleteEndpoint(trx, id));
  }

  /**
   * Issues a new secret. The old one keeps signing beside it (two `v1,`
   * signatures) until the grace period ends, so receivers can switch without loss.
   */
  async rotateSecret(
    projectId: string,
    id: string,
    graceSeconds?: number,
  ): Promise<{ endpoint: EndpointView; secret: string; previousSecretExpiresAt: string }> {
    const graceMs = graceSeconds === undefined ? this.options.rotationGraceMs : graceSeconds * 1000;
    if (!Number.isFinite(graceMs) || graceMs < 0 || graceMs > MAX_ROTATION_GRACE_SECONDS * 1000) {
      throw new OrdercastError('validation_failed', `graceSeconds must be from 0 to ${MAX_ROTATION_GRACE_SECONDS}`, { field: 'graceSeconds' });
    }
    const secret = generateSecret();
    const now = new Date();
    const previousSecretExpiresAt = new Date(now.getTime() + graceMs).toISOString();
    const record = await inTransaction(this.store.db, async (trx) => {
      // Locked, so two rotations at once cannot lose one of the new secrets.
      const current = await findEndpointForUpdate(trx, this.store.dialect, projectId, id);
      if (!current) throw new OrdercastError('webhook_endpoint_not_found', `No webhook endpoint ${id}`, { endpointId: id });
      const nowIso = now.toISOString();
      const old = current.secrets
        .map((s) => (s.expiresAt === null || s.expiresAt > previousSecretExpiresAt ? { ...s, expiresAt: previousSecretExpiresAt } : s))
        .filter((s) => s.expiresAt !== null && s.expiresAt > nowIso)
        .slice(0, MAX_OLD_SECRETS);
      current.secrets = [{ secret: this.options.secrets.seal(secret), expiresAt: null }, ...old];
      current.updatedAt = nowIso;
      await updateEndpointSecrets(trx, current.id, current.secrets, nowIso);
      return current;
    });
    return { endpoint: this.view(record), secret, previousSecretExpiresAt };
  }
}
