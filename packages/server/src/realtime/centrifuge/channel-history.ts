import type { OrderEvent } from '../../domain/order.js';
import type { HubListener } from '../../events/channel-hub.js';
import { ErrorCodes, type ProtocolError } from './codes.js';
import type { ChannelOwner, ChannelPosition, UserChannels } from './user-channels.js';

/**
 * One channel's stream as history and recovery read it: a user channel (offsets are
 * the user's gap-free channel offsets) or an order channel (offsets are versions).
 */
export interface HistoryStream {
  position(): Promise<ChannelPosition>;
  /** Events after `from` (or before it when `reverse`, newest first), by offset. */
  read(query: { from?: number; reverse?: boolean; limit: number }): Promise<OrderEvent[]>;
  offsetOf(event: OrderEvent): number;
  publication(event: OrderEvent): Publication;
  /** Its live events, from the hub; returns what stops them. */
  watch(listener: HubListener): () => void;
}

/** A user's channel as a stream: methods on a prototype, so an idle connection keeps one small object, not four closures. */
class UserChannelStream implements HistoryStream {
  constructor(
    private readonly channels: UserChannels,
    private readonly owner: ChannelOwner,
  ) {}

  position(): Promise<ChannelPosition> {
    return this.channels.position(this.owner);
  }

  read(query: { from?: number; reverse?: boolean; limit: number }): Promise<OrderEvent[]> {
    return this.channels.read(this.owner, query);
  }

  offsetOf(event: OrderEvent): number {
    return event.userOffset ?? 0;
  }

  /** A function, not a method: the session is handed it as is (publication-frames.ts). */
  readonly publication = publicationOf;

  watch(listener: HubListener): () => void {
    return this.channels.watch(this.owner, listener);
  }
}

export function userChannelStream(channels: UserChannels, owner: ChannelOwner): HistoryStream {
  return new UserChannelStream(channels, owner);
}

/** What reference 003's `client.on('publication', ctx => …)` gets in `ctx.data`. */
export interface PublicationData {
  order_id: string;
  status: string;
  version: number;
  event: string;
  /** When the change was committed (ISO-8601), so a client can tell how fresh it is. */
  updated_at: string;
}

export interface Publication {
  data: PublicationData;
  offset: number;
}

export function publicationOf(event: OrderEvent): Publication {
  return { data: publicationData(event), offset: event.userOffset as number };
}

/** The same data on an `order:<id>` channel, where the offset is the order's version. */
export function orderPublicationOf(event: OrderEvent): Publication {
  return { data: publicationData(event), offset: event.version };
}

function publicationData(event: OrderEvent): PublicationData {
  return { order_id: event.orderId, status: event.toStatus, version: event.version, event: event.eventName, updated_at: event.createdAt };
}

export interface HistoryResult {
  publications: Publication[];
  epoch: string;
  offset: number;
}

function badRequest(message: string): { error: ProtocolError } {
  return { error: { code: ErrorCodes.badRequest, message } };
}

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/**
 * A `history` command's answer, as the Go library gives it: `limit` 0 gives only the
 * position, -1 everything (capped at `cap`); `since` reads after an offset, or before
 * it with `reverse`; a different epoch is error 112. The log keeps everything, so
 * nothing ever ages out.
 */
export async function answerHistory(
  stream: HistoryStream,
  params: Record<string, unknown>,
  cap: number,
): Promise<{ result: HistoryResult } | { error: ProtocolError }> {
  const { limit = 0, since, reverse = false } = params as { limit?: unknown; since?: unknown; reverse?: unknown };
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < -1)
    return badRequest('limit must be -1 (all), 0 (position only) or a positive whole number');
  if (typeof reverse !== 'boolean') return badRequest('reverse must be true or false');
  let from: number | undefined;
  const position = await stream.position();
  if (since !== undefined && since !== null) {
    if (typeof since !== 'object') return badRequest('since must be { offset, epoch }');
    const { offset = 0, epoch = '' } = since as { offset?: unknown; epoch?: unknown };
    if (!isOffset(offset)) return badRequest('since.offset must be a whole number of 0 or more');
    if (typeof epoch !== 'string') return badRequest('since.epoch must be a string');
    if (epoch !== '' && epoch !== position.epoch) {
      return { error: { code: ErrorCodes.unrecoverablePosition, message: 'unrecoverable position: the channel history was reset (epoch changed)' } };
    }
    if (reverse && offset === 0) return badRequest('reverse history needs since.offset greater than 0 (or no since)');
    from = offset;
  }
  const count = limit === -1 ? cap : Math.min(limit, cap);
  if (count === 0) return { result: { publications: [], epoch: position.epoch, offset: position.offset } };
  const events = await stream.read({ from, reverse, limit: count });
  const top = Math.max(position.offset, ...events.map((e) => stream.offsetOf(e)));
  return { result: { publications: events.map((e) => stream.publication(e)), epoch: position.epoch, offset: top } };
}

/**
 * The subscribe result of a channel, and where its live delivery starts. With `recover`,
 * recovery as Go's isStreamRecovered: same epoch, and the log holds every publication
 * after the client's offset, up to `cap` of them. On success the result carries the
 * client's own offset and the missed publications (the client advances as it processes
 * them); otherwise the current top, nothing else.
 */
export async function openChannelStream(
  stream: HistoryStream,
  request: { recover?: unknown; offset?: unknown; epoch?: unknown } | undefined,
  cap: number,
): Promise<{ result: Record<string, unknown>; startAt: number }> {
  const current = await stream.position();
  const positioned = { recoverable: true, positioned: true, epoch: current.epoch, offset: current.offset };
  if (!request || typeof request !== 'object' || request.recover !== true) return { startAt: current.offset, result: positioned };
  const failed = { startAt: current.offset, result: { ...positioned, was_recovering: true, recovered: false } };
  const offset = isOffset(request.offset) ? request.offset : 0;
  const epoch = typeof request.epoch === 'string' ? request.epoch : '';
  if ((epoch !== '' && epoch !== current.epoch) || offset > current.offset) return failed;
  const events = await stream.read({ from: offset, limit: cap + 1 });
  if (events.length > cap || (events.length > 0 && stream.offsetOf(events[0]!) !== offset + 1)) return failed;
  const publications = events.map((e) => stream.publication(e));
  return {
    startAt: events.length > 0 ? stream.offsetOf(events[events.length - 1]!) : offset,
    result: { ...positioned, offset, was_recovering: true, recovered: true, ...(publications.length > 0 ? { publications } : {}) },
  };
}
