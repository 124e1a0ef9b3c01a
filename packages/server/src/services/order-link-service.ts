import type { Actor } from '../domain/actor.js';
import { OrdercastError } from '../domain/errors.js';
import { lifecyclePresets } from '../domain/lifecycle-presets.js';
import type { Locale } from '../domain/locales.js';
import type { Order } from '../domain/order.js';
import { displayOf, publicOrderView, type PublicOrderView } from '../domain/public-order-view.js';
import { sha256Hex } from '../lib/hashing.js';
import { newId, randomBase62 } from '../lib/ids.js';
import type { Store } from '../store/database.js';
import { findLapsedLinks, findOrderLinkByHash, insertOrderLink, revokeOrderLinks, type OrderLinkLookup } from '../store/repositories/order-links.js';
import { inTransaction } from '../store/transaction.js';
import type { AuditLog } from './audit-log.js';
import type { BrandingService } from './branding-service.js';
import type { OrderService } from './order-service.js';
import type { ProjectService } from './project-service.js';

export const LINK_TOKEN_PREFIX = 'olt_';
/** 43 base62 characters: 256 bits, as unguessable as a key. */
const TOKEN_CHARS = 43;
const TOKEN_SHAPE = /^olt_[0-9A-Za-z]{43}$/;

export const DEFAULT_LINK_SECONDS = 30 * 24 * 3600;
export const MAX_LINK_SECONDS = 365 * 24 * 3600;
export const MIN_LINK_SECONDS = 60;
/** Link ids per query when re-checking open streams: well under every driver's parameter limit. */
const LAPSE_CHECK_CHUNK = 500;

/** The order a live link shows, and until when. */
export interface ResolvedLink {
  linkId: string;
  projectId: string;
  orderId: string;
  expiresAt: string;
}

function notFound(): OrdercastError {
  // The same answer whatever was wrong (malformed, unknown, another project's, an expunged order's): it tells nothing.
  return new OrdercastError('not_found', 'Not found');
}

/**
 * Signed order links: an opaque token that shows one order of one project, read-only, until
 * it expires or is revoked. Only the token's SHA-256 is stored, like API keys: nothing about
 * it depends on the encryption key (which rotates), it survives restarts, and every node of a
 * cluster resolves it from the database.
 */
export class OrderLinkService {
  constructor(
    private readonly store: Store,
    private readonly orders: Pick<OrderService, 'get'>,
    private readonly projects: Pick<ProjectService, 'get'>,
    private readonly branding: BrandingService,
    private readonly audit: AuditLog,
  ) {}

  /** A new link to an order of the project; the token is returned once and never stored. */
  async create(projectId: string, orderId: string, expiresInSeconds: number, actor: Actor): Promise<{ token: string; expiresAt: string }> {
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < MIN_LINK_SECONDS || expiresInSeconds > MAX_LINK_SECONDS) {
      throw new OrdercastError('validation_failed', `expiresIn must be a whole number of seconds from ${MIN_LINK_SECONDS} to ${MAX_LINK_SECONDS} (a year)`, {
        errors: [{ in: 'body', field: 'expiresIn', message: 'out of range' }],
      });
    }
    await this.orders.get(projectId, orderId);
    const token = `${LINK_TOKEN_PREFIX}${randomBase62(TOKEN_CHARS)}`;
    const now = new Date();
    const expiresAt = new Date(now.getTime() + expiresInSeconds * 1000).toISOString();
    const linkId = newId('oln');
    await inTransaction(this.store.db, async (trx) => {
      await insertOrderLink(trx, {
        id: linkId,
        project_id: projectId,
        order_id: orderId,
        token_hash: sha256Hex(token),
        created_at: now.toISOString(),
        expires_at: expiresAt,
        revoked_at: null,
      });
      await this.audit.record({ projectId, actor, action: 'order_link.created', target: { type: 'order', id: orderId }, changes: { linkId, expiresAt } }, trx);
    });
    return { token, expiresAt };
  }

  /** Revokes every link of the order, on every node at once (they read the database). */
  async revokeAll(projectId: string, orderId: string, actor: Actor): Promise<number> {
    await this.orders.get(projectId, orderId);
    return inTransaction(this.store.db, async (trx) => {
      const revoked = await revokeOrderLinks(trx, projectId, orderId, new Date().toISOString());
      await this.audit.record({ projectId, actor, action: 'order_link.revoked', target: { type: 'order', id: orderId }, changes: { revoked } }, trx);
      return revoked;
    });
  }

  /** The live link behind a token; `not_found`, `order_link_expired` or `order_link_revoked` otherwise. */
  async resolve(token: string): Promise<ResolvedLink> {
    if (!TOKEN_SHAPE.test(token)) throw notFound();
    const row = await findOrderLinkByHash(this.store.db, sha256Hex(token));
    return this.live(row);
  }

  /** Of these links (by id), the ones that no longer hold, with why: one read for every open stream of a node. */
  async lapsedAmong(linkIds: readonly string[]): Promise<Map<string, 'order_link_revoked' | 'order_link_expired'>> {
    const lapsed = new Map<string, 'order_link_revoked' | 'order_link_expired'>();
    const now = new Date().toISOString();
    for (let i = 0; i < linkIds.length; i += LAPSE_CHECK_CHUNK) {
      for (const [id, code] of await findLapsedLinks(this.store.db, linkIds.slice(i, i + LAPSE_CHECK_CHUNK), now)) lapsed.set(id, code);
    }
    return lapsed;
  }

  /** What the buyer sees: the order's public view in the locale. */
  async view(link: ResolvedLink, locale: Locale): Promise<PublicOrderView> {
    const order = await this.orders.get(link.projectId, link.orderId).catch((error: unknown) => {
      if (error instanceof OrdercastError && error.code === 'order_not_found') throw notFound();
      throw error;
    });
    return (await this.viewer(link, locale))(order);
  }

  /** Turns orders of the link's project into public views: read once, so a stream does no database read per event. */
  async viewer(link: ResolvedLink, locale: Locale): Promise<(order: Order) => PublicOrderView> {
    const project = await this.projects.get(link.projectId);
    const branding = await this.branding.get(link.projectId);
    const display = displayOf(project.lifecycle, lifecyclePresets);
    return (order) => publicOrderView({ order, lifecycle: project.lifecycle, display, branding, projectName: project.name, locale });
  }

  private live(row: OrderLinkLookup | undefined): ResolvedLink {
    if (!row) throw notFound();
    if (row.revoked_at !== null) throw new OrdercastError('order_link_revoked', 'This link was revoked');
    // A disabled project's links stop like its keys, and start again when it is enabled.
    if (row.project_disabled_at !== null) throw new OrdercastError('order_link_revoked', 'This link does not work now');
    if (Date.parse(row.expires_at) <= Date.now()) throw new OrdercastError('order_link_expired', 'This link has expired');
    return { linkId: row.id, projectId: row.project_id, orderId: row.order_id, expiresAt: row.expires_at };
  }
}
