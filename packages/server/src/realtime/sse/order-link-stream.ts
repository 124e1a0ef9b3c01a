import { OrdercastError } from '../../domain/errors.js';
import type { Locale } from '../../domain/locales.js';
import type { PublicOrderView } from '../../domain/public-order-view.js';
import type { Order } from '../../domain/order.js';
import type { Logger } from '../../lib/logging.js';
import type { ChannelHub } from '../../events/channel-hub.js';
import type { EventLogReader } from '../../services/event-log-reader.js';
import type { OrderLinkService, ResolvedLink } from '../../services/order-link-service.js';
import { SseWriters, type Cleanup, type SseWriter, type StreamReply } from './sse-writer.js';
import { orderLog, parseCounter, streamLog, type StreamOutcome } from './sse-streams.js';
import type { ConnectionQuota } from '../connection-quota.js';

/** The event of every update on a link's stream: `data` is a PublicOrderView. */
export const PUBLIC_UPDATE_EVENT = 'order.update';
/** Sent just before the stream closes because the link expired or was revoked: `data` is `{code}`. */
export const LAPSED_EVENT = 'lapsed';

export interface OrderLinkStreamsDeps {
  links: Pick<OrderLinkService, 'resolve' | 'viewer' | 'lapsedAmong'>;
  orders: { get(projectId: string, orderId: string): Promise<Order> };
  reader: EventLogReader;
  hub: ChannelHub;
  logger: Logger;
  heartbeatMs: number;
  maxBufferedBytes: number;
  /** How often the node re-reads the links of its open streams (one query for all), so a revocation made on any node ends them. */
  recheckMs: number;
  /** Streams one link may hold open at once on this node: a link posted in public cannot take a project's connections. */
  maxStreamsPerLink: number;
  shutdownSignal: AbortSignal;
  /** The project's open_connections quota, shared with the other gateways; none: no quota. */
  connectionQuota?: ConnectionQuota;
}

/** setTimeout's longest delay; a link that lapses later is caught by the periodic re-check. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * `/o/{token}/events`: one order's versions as a buyer sees them, live. Subscribes on the
 * hub first and reads the log second, like every stream (realtime/sse/sse-streams.ts); each
 * event's snapshot becomes a PublicOrderView without a database read. Ends with `lapsed`
 * when the link expires or is revoked, and after the order's final version.
 */
export class OrderLinkStreams {
  private readonly writers: SseWriters;
  /** The open streams of each link, by link id, each with what ends it. */
  private readonly byLink = new Map<string, Set<(code: string) => void>>();
  private readonly recheck: NodeJS.Timeout;
  private checking = false;

  constructor(private readonly deps: OrderLinkStreamsDeps) {
    this.recheck = setInterval(() => void this.checkLinks(), deps.recheckMs);
    this.recheck.unref();
    this.writers = new SseWriters(deps.shutdownSignal, 1000);
    deps.shutdownSignal.addEventListener('abort', () => clearInterval(this.recheck), { once: true });
  }

  get open(): number {
    return this.writers.size;
  }

  async stream(token: string, locale: Locale, lastEventId: string | undefined, reply: StreamReply): Promise<StreamOutcome> {
    const after = parseCounter(lastEventId, 'the last order version you received');
    const link = await this.deps.links.resolve(token);
    if ((this.byLink.get(link.linkId)?.size ?? 0) >= this.deps.maxStreamsPerLink) {
      throw new OrdercastError('limit_exceeded', `This link has ${this.deps.maxStreamsPerLink} streams open already: close one, or poll status.json`, {
        limit: this.deps.maxStreamsPerLink,
      });
    }
    const view = await this.deps.links.viewer(link, locale);
    const cleanups: Cleanup[] = [];
    const projectSlot = await this.deps.connectionQuota?.openConnection(link.projectId);
    if (projectSlot) cleanups.push(projectSlot);
    const read = () =>
      this.deps.orders.get(link.projectId, link.orderId).catch((error: unknown) => {
        if (error instanceof OrdercastError && error.code === 'order_not_found') throw new OrdercastError('not_found', 'Not found');
        throw error;
      });
    return streamLog(this.deps.hub, cleanups, {
      ...orderLog(this.deps.reader, link.orderId, after, read),
      open: () => this.openWriter(link, reply, cleanups),
      send: (writer, event) => {
        if (event.projectId !== link.projectId) return;
        writer.send(event.version, PUBLIC_UPDATE_EVENT, view(event.order) satisfies PublicOrderView);
        if (event.order.final) writer.end();
      },
      failed: (writer, error) => {
        this.deps.logger.warn({ err: error }, 'order link stream: reading the log failed; closing (the page resumes by Last-Event-ID)');
        writer?.end();
      },
    });
  }

  private openWriter(link: ResolvedLink, reply: StreamReply, cleanups: Cleanup[]): SseWriter {
    const { heartbeatMs, maxBufferedBytes } = this.deps;
    return this.writers.start(reply, { heartbeatMs, maxBufferedBytes }, cleanups, (writer) => {
      const lapse = (code: string) => {
        writer.send(undefined, LAPSED_EVENT, { code });
        writer.end();
      };
      const untilExpiry = Date.parse(link.expiresAt) - Date.now();
      if (untilExpiry < MAX_TIMER_MS) {
        const expiry = setTimeout(() => lapse('order_link_expired'), Math.max(0, untilExpiry));
        expiry.unref();
        cleanups.push(() => clearTimeout(expiry));
      }
      let streams = this.byLink.get(link.linkId);
      if (!streams) this.byLink.set(link.linkId, (streams = new Set()));
      const held = streams;
      held.add(lapse);
      cleanups.push(() => {
        held.delete(lapse);
        if (held.size === 0 && this.byLink.get(link.linkId) === held) this.byLink.delete(link.linkId);
      });
    });
  }

  /** One read for every link with an open stream here: those revoked (on any node), expired or expunged end with `lapsed`. */
  private async checkLinks(): Promise<void> {
    if (this.checking || this.byLink.size === 0) return;
    this.checking = true;
    try {
      const lapsed = await this.deps.links.lapsedAmong([...this.byLink.keys()]);
      for (const [linkId, code] of lapsed) for (const end of [...(this.byLink.get(linkId) ?? [])]) end(code);
    } catch (error) {
      // The database is away: streams stay open and the next round checks again.
      this.deps.logger.warn({ err: error }, 'order link streams: re-checking links failed; trying again at the next interval');
    } finally {
      this.checking = false;
    }
  }
}
