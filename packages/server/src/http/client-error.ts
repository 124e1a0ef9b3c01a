import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../domain/errors.js';
import { errorBody } from './error-body.js';

/** What Node's HTTP parser refuses before Fastify sees a request, in our error shape. */
function answerFor(error: NodeJS.ErrnoException): { status: number; body: string } {
  const [status, code, message] = ANSWERS[error.code ?? ''] ?? [400, 'validation_failed', 'The request is not valid HTTP/1.1'];
  return { status, body: JSON.stringify(errorBody(code, message)) };
}

const ANSWERS: Record<string, [number, ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'payload_too_large', 'The request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'validation_failed', 'The request did not arrive in time'],
};

const ANSWER_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', connection: 'close' };

/**
 * Answers a request Node's parser rejected (bad request line, bad header, bad chunking), then
 * closes the connection: the bytes after a parse error cannot be trusted to start a request, so a
 * keep-alive client must see `Connection: close` rather than a reset on its next request.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const inProgress = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (inProgress && !inProgress.writableFinished) {
    if (!inProgress.req.complete) {
      // The bad bytes are in the body of the request being handled: it will never complete,
      // so it is answered now, in its own response when that has not started.
      if (inProgress.headersSent) socket.destroy();
      else {
        const { status, body } = answerFor(error);
        inProgress.writeHead(status, { ...ANSWER_HEADERS, 'content-length': Buffer.byteLength(body) }).end(body);
      }
      return;
    }
    // A pipelined request before the bad one is still being answered: that answer goes first.
    const giveUp = setTimeout(() => socket.destroy(), 2_000).unref();
    inProgress.once('finish', () => {
      clearTimeout(giveUp);
      setImmediate(() => writeAnswer(error, socket));
    });
    return;
  }
  writeAnswer(error, socket);
}

function writeAnswer(error: NodeJS.ErrnoException, socket: Socket): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, body } = answerFor(error);
  const headers = Object.entries({ ...ANSWER_HEADERS, 'content-length': Buffer.byteLength(body) }).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers.join('')}\r\n${body}`);
  // A peer that never closes its side must not hold the socket.
  setTimeout(() => socket.destroy(), 2_000).unref();
}
