import type { Socket } from 'socket.io';
import { isOrdercastError, OrdercastError, type ErrorCode } from '../../domain/errors.js';
import type { Logger } from '../../lib/logging.js';

export interface ErrorReply {
  code: ErrorCode;
  message: string;
}

type Ack = (reply: unknown) => void;

/**
 * Answers a client request with its outcome: through the ack when the client gave one,
 * else, for an error, with a `subscribe:error` event. Never throws: an error that is not
 * one of ours is logged and answered as `internal_error`.
 */
export function answer(socket: Socket, logger: Logger, event: string, ack: unknown, outcome: Promise<unknown>): void {
  const reply = typeof ack === 'function' ? (ack as Ack) : undefined;
  outcome.then(
    (result) => reply?.(result),
    (error: unknown) => {
      const body = errorReply(error, logger);
      if (reply) reply(body);
      else socket.emit('subscribe:error', { event, ...body });
    },
  );
}

function errorReply(error: unknown, logger: Logger): ErrorReply {
  if (isOrdercastError(error)) return { code: error.code, message: error.message };
  logger.error({ err: error }, 'socket.io: request failed');
  return { code: 'internal_error', message: 'Something went wrong on our side; retry shortly' };
}

/** The events this gateway answers; anything else gets an `unknown_event` error. */
export const CLIENT_EVENTS = ['subscribe:order', 'unsubscribe:order', 'subscribe:project', 'unsubscribe:project'] as const;

const MAX_ORDER_ID_LENGTH = 100;

/** The payload of `subscribe:order` and `unsubscribe:order`, or a `validation_failed` error that says what is wrong. */
export function parseOrderRequest(payload: unknown, event: string): { orderId: string; sinceVersion?: number } {
  const body = (typeof payload === 'object' && payload !== null ? payload : {}) as { orderId?: unknown; sinceVersion?: unknown };
  if (typeof body.orderId !== 'string' || body.orderId === '' || body.orderId.length > MAX_ORDER_ID_LENGTH) {
    throw new OrdercastError('validation_failed', `${event} needs { orderId: "<order id>" } (a string of 1 to ${MAX_ORDER_ID_LENGTH} characters)`, {
      field: 'orderId',
    });
  }
  const since = body.sinceVersion;
  if (since !== undefined && since !== null && (typeof since !== 'number' || !Number.isInteger(since) || since < 0)) {
    throw new OrdercastError('validation_failed', 'sinceVersion must be a whole number of 0 or more (the last version you received)', {
      field: 'sinceVersion',
    });
  }
  return { orderId: body.orderId, sinceVersion: typeof since === 'number' ? since : undefined };
}
