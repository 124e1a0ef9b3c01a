import type { Socket } from 'socket.io';
import { isOrdercastError, type ErrorCode } from '../../domain/errors.js';
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
