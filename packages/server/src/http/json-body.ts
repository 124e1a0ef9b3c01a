import type { FastifyInstance } from 'fastify';
import { OrdercastError } from '../domain/errors.js';

/**
 * Deepest nesting of arrays and objects a JSON body may have. Every part of the server that walks
 * a body recursively (validation, hashing, serialisation) stays far from the stack limit.
 */
export const MAX_JSON_DEPTH = 64;

/** How deep `text` nests, counted without parsing; stops counting once past `limit`. */
export function jsonNestingDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/**
 * Bodies are JSON only: `application/json` with a depth limit checked before
 * parsing. Fastify's `text/plain` parser is removed, so a text body is a 415 as documented,
 * not a string that fails validation.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonNestingDepth(body as string) > MAX_JSON_DEPTH) {
      done(new OrdercastError('validation_failed', `The request body nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`), undefined);
      return;
    }
    parse(request, body as string, done);
  });
}
