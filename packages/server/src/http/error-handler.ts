import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isOrdercastError, OrdercastError, type ErrorCode } from '../domain/errors.js';
import { ERROR_STATUS } from './error-status.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Turns Fastify's own errors (parsing, validation, limits) into ours. */
function fromFastifyError(error: FastifyError, bodyLimit: number): OrdercastError | undefined {
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const errors = error.validation.map((v) => {
      const field = (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.') || (v.params as { missingProperty?: string; additionalProperty?: string })?.missingProperty || (v.params as { additionalProperty?: string })?.additionalProperty || where;
      const extra = (v.params as { additionalProperty?: string })?.additionalProperty;
      return { in: where, field, message: extra ? `unknown field "${extra}"` : (v.message ?? 'is invalid') };
    });
    const first = errors[0];
    return new OrdercastError('validation_failed', first ? `${first.in === 'body' ? '' : `${first.in} `}${first.field}: ${first.message}` : 'The request is invalid', { errors });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new OrdercastError('invalid_json', `The request body is not valid JSON: ${error.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new OrdercastError('payload_too_large', `The request body is larger than ${bodyLimit} bytes`, { limitBytes: bodyLimit });
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
  return undefined;
}

export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = isOrdercastError(error) ? error : fromFastifyError(error, bodyLimit);
    if (known) {
      const status = ERROR_STATUS[known.code];
      if (status >= 500) request.log.error({ err: error }, known.message);
      return reply.code(status).header('cache-control', 'no-store').send(errorBody(known.code, known.message, known.details));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .code(500)
      .header('cache-control', 'no-store')
      .send(errorBody('internal_error', `Something went wrong on our side; the request id is ${request.id}`));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}: see /docs for the API`));
  });
}
