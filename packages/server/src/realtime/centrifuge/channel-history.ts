import type { OrderEvent } from '../../domain/order.js';
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
}

export function userChannelStream(channels: UserChannels, owner: ChannelOwner): HistoryStream {
  return {
    position: () => channels.position(owner),
    read: (query) => channels.read(owner, query),
    offsetOf: (event) => event.userOffset ?? 0,
    publication: publicationOf,
  };
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

function badRequest(message: string): ProtocolError {
  return { code: ErrorCodes.badRequest, message };
}

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/**
 * `history` as the Go library answers it: `limit` 0 gives only the position,
 * -1 everything (capped at `cap`); `since` reads after an offset, or before it
 * with `reverse`; a different epoch is error 112. The log keeps everything, so
 * nothing ever ages out.
 */
export async function readHistory(stream: HistoryStream, params: Record<string, unknown>, cap: number): Promise<HistoryResult> {
  const { limit = 0, since, reverse = false } = params as { limit?: unknown; since?: unknown; reverse?: unknown };
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < -1)
    throw badRequest('limit must be -1 (all), 0 (position only) or a positive whole number');
  if (typeof reverse !== 'boolean') throw badRequest('reverse must be true or false');
  let from: number | undefined;
  const position = await stream.position();
  if (since !== undefined && since !== null) {
    if (typeof since !== 'object') throw badRequest('since must be { offset, epoch }');
    const { offset = 0, epoch = '' } = since as { offset?: unknown; epoch?: unknown };
    if (!isOffset(offset)) throw badRequest('since.offset must be a whole number of 0 or more');
    if (typeof epoch !== 'string') throw badRequest('since.epoch must be a string');
    if (epoch !== '' && epoch !== position.epoch) {
      throw {
        code: ErrorCodes.unrecoverablePosition,
        message: 'unrecoverable position: the channel history was reset (epoch changed)',
      } satisfies ProtocolError;
    }
    if (reverse && offset === 0) throw badRequest('reverse history needs since.offset greater than 0 (or no since)');
    from = offset;
  }
  const count = limit === -1 ? cap : Math.min(limit, cap);
  if (count === 0) return { publications: [], epoch: position.epoch, offset: position.offset };
  const events = await stream.read({ from, reverse, limit: count });
  const top = Math.max(position.offset, ...events.map((e) => stream.offsetOf(e)));
  return { publications: events.map((e) => stream.publication(e)), epoch: position.epoch, offset: top };
}

/** A `history` command's answer: the result, or the protocol error `readHistory` refused it with (a bad `since`, another epoch). */
export async function answerHistory(
  stream: HistoryStream,
  params: Record<string, unknown>,
  cap: number,
): Promise<{ result: HistoryResult } | { error: ProtocolError }> {
  try {
    return { result: await readHistory(stream, params, cap) };
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && typeof (error as ProtocolError).code === 'number')
      return { error: error as ProtocolError };
    throw error;
  }
}

export interface RecoveryResult {
  recovered: boolean;
  publications: Publication[];
  /** The position the live stream continues from. */
  position: ChannelPosition;
  /** The offset to announce in the subscribe result. */
  announcedOffset: number;
}

/**
 * Recovery on reconnect (Go's isStreamRecovered): same epoch, and the log holds
 * every publication after the client's offset, up to `cap` of them. On success
 * the result carries the client's own offset and the missed publications; the
 * client advances as it processes them. Otherwise the current top, nothing else.
 */
export async function recoverChannel(stream: HistoryStream, request: { offset?: unknown; epoch?: unknown }, cap: number): Promise<RecoveryResult> {
  const current = await stream.position();
  const offset = isOffset(request.offset) ? request.offset : 0;
  const epoch = typeof request.epoch === 'string' ? request.epoch : '';
  const failed = { recovered: false, publications: [], position: current, announcedOffset: current.offset };
  if ((epoch !== '' && epoch !== current.epoch) || offset > current.offset) return failed;
  const events = await stream.read({ from: offset, limit: cap + 1 });
  if (events.length > cap) return failed;
  if (events.length > 0 && stream.offsetOf(events[0]!) !== offset + 1) return failed;
  const last = events.length > 0 ? stream.offsetOf(events[events.length - 1]!) : offset;
  return {
    recovered: true,
    publications: events.map((e) => stream.publication(e)),
    position: { offset: last, epoch: current.epoch },
    announcedOffset: offset,
  };
}

/**
 * The subscribe result of a channel, recovering from the client's offset when it
 * asks to (Go's isStreamRecovered: see recoverChannel), and where its live
 * delivery starts.
 */
export async function openChannelStream(
  stream: HistoryStream,
  request: { recover?: unknown; offset?: unknown; epoch?: unknown } | undefined,
  cap: number,
): Promise<{ result: Record<string, unknown>; startAt: number }> {
  if (request && typeof request === 'object' && request.recover === true) {
    const recovery = await recoverChannel(stream, request, cap);
    return {
      startAt: recovery.position.offset,
      result: {
        recoverable: true,
        positioned: true,
        epoch: recovery.position.epoch,
        offset: recovery.announcedOffset,
        was_recovering: true,
        recovered: recovery.recovered,
        ...(recovery.publications.length > 0 ? { publications: recovery.publications } : {}),
      },
    };
  }
  const position = await stream.position();
  return { startAt: position.offset, result: { recoverable: true, positioned: true, epoch: position.epoch, offset: position.offset } };
}
