import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { errorBody } from './error-body.js';
import { ERROR_STATUS } from './error-status.js';

/**
 * How much of a refused body is read and thrown away before the connection closes. A client
 * that is still sending when the socket closes sees a reset (EPIPE) instead of our 413; reading
 * the rest first lets it read the answer. Beyond this the connection is closed anyway.
 */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 10_000;

export function payloadTooLargeMessage(bodyLimit: number): string {
  return `The request body is larger than ${bodyLimit} bytes`;
}

/** Reads and discards what is left of a request body, up to DRAIN_LIMIT_BYTES or DRAIN_TIMEOUT_MS. */
export function drainRequestBody(raw: IncomingMessage): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  const declared = Number(raw.headers['content-length']);
  // Far too big to be worth reading: close, and let the client see what it sees.
  if (Number.isFinite(declared) && declared > DRAIN_LIMIT_BYTES) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', finish);
      raw.off('error', finish);
      raw.off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_LIMIT_BYTES) finish();
    };
    const timer = setTimeout(finish, DRAIN_TIMEOUT_MS);
    raw.on('data', onData);
    raw.once('end', finish);
    raw.once('error', finish);
    raw.once('close', finish);
    raw.resume();
  });
}

/**
 * `Expect: 100-continue` with a declared body over the limit is answered 413 at once, so the
 * client never sends it; any other such request gets its `100 Continue` and goes on as usual.
 */
export function refuseOversizeBeforeContinue(server: Server, bodyLimit: number): void {
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > bodyLimit) {
      const body = JSON.stringify(errorBody('payload_too_large', payloadTooLargeMessage(bodyLimit), { limitBytes: bodyLimit }));
      response.writeHead(ERROR_STATUS.payload_too_large, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
        connection: 'close',
      });
      response.end(body);
      return;
    }
    response.writeContinue();
    server.emit('request', request, response);
  });
}
