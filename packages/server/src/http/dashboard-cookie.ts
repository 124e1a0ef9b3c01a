import type { FastifyRequest } from 'fastify';
import { OrdercastError } from '../domain/errors.js';
import { constantTimeEqual } from '../lib/constant-time.js';

/** The dashboard session's cookie: HttpOnly, SameSite=Strict, Path=/ (the page and the API), Secure outside plain-http loopback. */
export const SESSION_COOKIE = 'ordercast_session';
/** The header a dashboard page sends its session's CSRF token in, on every request that changes something. */
export const CSRF_HEADER = 'x-ordercast-csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method);
}

export function readSessionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** Plain http is acceptable only to a server on this machine (a browser keeps a Secure cookie only over https, or on localhost). */
function needsSecure(request: FastifyRequest): boolean {
  if (request.protocol === 'https') return true;
  const host = request.hostname.toLowerCase();
  const loopback = host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '::1';
  return !loopback;
}

export function sessionCookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}${needsSecure(request) ? '; Secure' : ''}`;
}

export function clearedSessionCookie(request: FastifyRequest): string {
  return sessionCookie(request, '', 0);
}

/** This server's own origin, as the browser sees it (the scheme and host after trusted proxies). */
function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`.toLowerCase();
}

/**
 * A cookie travels with any request the browser makes to this server; only requests
 * from the dashboard's own page may use it. An Origin naming another site is refused,
 * and a request that changes something must name its origin (browsers always do).
 */
export function refuseOtherOrigins(request: FastifyRequest): void {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    throw new OrdercastError(
      'forbidden',
      'The dashboard session cookie is accepted only from the dashboard page on this server (Sec-Fetch-Site is not same-origin)',
    );
  }
  if (origin === undefined) {
    if (!isSafeMethod(request.method))
      throw new OrdercastError('forbidden', 'A request that changes something with the dashboard session must carry an Origin header');
    return;
  }
  if (origin.toLowerCase() !== ownOrigin(request)) {
    throw new OrdercastError('forbidden', `The dashboard session cookie is not accepted from ${origin}: only from this server's own dashboard`);
  }
}

/** The per-session token a state-changing request must carry in CSRF_HEADER, compared in constant time. */
export function refuseMissingCsrf(request: FastifyRequest, expected: string): void {
  if (isSafeMethod(request.method)) return;
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || !constantTimeEqual(sent, expected)) {
    throw new OrdercastError('forbidden', `A request that changes something with the dashboard session needs the session's CSRF token in ${CSRF_HEADER}`);
  }
}
