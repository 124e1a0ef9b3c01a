import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../domain/errors.js';
import { errorBody } from './error-body.js';

/** What Node's HTTP parser refuses before Fastify sees a request, in our error shape. */
function answerFor(error: NodeJS.ErrnoException): { status: number; code: ErrorCode; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'payload_too_large', message: 'The request headers are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'validation_failed', message: 'The request did not arrive in time' };
    default:
      return { status: 400, code: 'validation_failed', message: 'The request is not valid HTTP/1.1' };
  }
}

/**
 * Answers a request Node's parser rejected (bad request line, bad header, bad chunking), then
 * closes the connection: the bytes after a parse error cannot be trusted to start a request, so a
 * keep-alive client must see `Connection: close` rather than a reset on its next request.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // A response already under way on this socket cannot be followed by another one.
  const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, code, message } = answerFor(error);
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
  // A peer that never closes its side must not hold the socket.
  setTimeout(() => socket.destroy(), 2_000).unref();
}
