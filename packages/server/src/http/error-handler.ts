import { urlForLog } from './log-url.js';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { LogThrottle } from '../lib/log-throttle.js';
import { isOrdercastError, OrdercastError, type ErrorCode } from '../domain/errors.js';
import { isDatabaseUnavailable } from '../lib/database-errors.js';
import { errorBody } from './error-body.js';
import { ERROR_STATUS } from './error-status.js';
import { drainRequestBody, payloadTooLargeMessage } from './oversize-body.js';

export { errorBody, type ErrorBody } from './error-body.js';

/** Seconds a client is asked to wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 2;

/**
 * Errors from Fastify and its plugins that carry only an HTTP status (the static file
 * plugin's 403 for `..`, 404s, 405s, …): the status picks our code, so a 4xx stays a 4xx.
 */
const CODE_FOR_CLIENT_STATUS: Record<number, ErrorCode> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'route_not_found',
  405: 'route_not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** A schema's complaints as the one `validation_failed` error: each field named, the first in the message. */
export function validationFailed(validation: readonly FastifySchemaValidationError[], where: string): OrdercastError {
  const errors = validation.map((v) => {
    const field =
      (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.') ||
      (v.params as { missingProperty?: string; additionalProperty?: string })?.missingProperty ||
      (v.params as { additionalProperty?: string })?.additionalProperty ||
      where;
    const extra = (v.params as { additionalProperty?: string })?.additionalProperty;
    return { in: where, field, message: extra ? `unknown field "${extra}"` : (v.message ?? 'is invalid') };
  });
  const first = errors[0];
  return new OrdercastError(
    'validation_failed',
    first ? `${first.in === 'body' ? '' : `${first.in} `}${first.field}: ${first.message}` : 'The request is invalid',
    { errors },
  );
}

/** Turns Fastify's own errors (parsing, validation, limits) into ours. */
function fromFastifyError(error: FastifyError, bodyLimit: number): OrdercastError | undefined {
  if (error.validation) return validationFailed(error.validation, error.validationContext ?? 'request');
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new OrdercastError('invalid_json', `The request body is not valid JSON: ${error.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new OrdercastError('payload_too_large', payloadTooLargeMessage(bodyLimit), { limitBytes: bodyLimit });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new OrdercastError('unsupported_media_type', 'Send the request body as application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new OrdercastError('validation_failed', 'The Content-Length header does not match the body');
    default:
      break;
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return new OrdercastError('invalid_json', `The request body is not valid JSON: ${error.message}`);
  }
  const status = error.statusCode ?? (error as { status?: number }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new OrdercastError(CODE_FOR_CLIENT_STATUS[status] ?? 'validation_failed', error.message || 'The request cannot be served');
  }
  if (isDatabaseUnavailable(error)) {
    return new OrdercastError('database_unavailable', 'The database cannot be reached right now; retry shortly');
  }
  return undefined;
}

export type ErrorHandler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Installs the one error handler and returns it, for errors Fastify raises before routing (bad URLs). */
export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): ErrorHandler {
  // During an outage every request fails the same way: one line per interval says so.
  const outageLog = new LogThrottle(10_000);
  const handle: ErrorHandler = async (error, request, reply) => {
    const known = isOrdercastError(error) ? error : fromFastifyError(error, bodyLimit);
    if (known) {
      const status = ERROR_STATUS[known.code];
      if (known.code === 'database_unavailable') {
        const notLogged = outageLog.take(known.code);
        if (notLogged !== undefined) request.log.warn({ err: error, failuresNotLogged: notLogged }, 'database unavailable: answering 503');
      } else if (status >= 500) request.log.error({ err: error }, known.message);
      if (status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      // A quota names when a retry can succeed (domain/quotas.ts).
      if (known.code === 'quota_exceeded') reply.header('retry-after', String((known.details as { retryAfterSeconds: number }).retryAfterSeconds));
      // A client still sending a refused body must be able to read the refusal.
      if (known.code === 'payload_too_large') await drainRequestBody(request.raw);
      return reply
        .code(status)
        .header('cache-control', 'no-store')
        .send(errorBody(known.code, known.message, known.details));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .code(500)
      .header('cache-control', 'no-store')
      .send(errorBody('internal_error', `Something went wrong on our side; the request id is ${request.id}`));
  };
  app.setErrorHandler(handle);
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('route_not_found', `No route ${request.method} ${urlForLog(request.url.split('?')[0] ?? '')}: see /docs for the API`));
  });
  return handle;
}
