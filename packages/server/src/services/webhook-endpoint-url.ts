import net from 'node:net';
import { OrdercastError } from '../domain/errors.js';
import { refusalReason } from '../lib/ssrf-guard.js';

export const MAX_URL_LENGTH = 2048;

const PUBLIC_ONLY = 'webhooks may only target public addresses (ORDERCAST_WEBHOOK_ALLOW_PRIVATE=true allows private ones, for local development)';

function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Checks an endpoint URL when it is saved, so obvious mistakes are reported at
 * once. The SSRF guard still checks the address actually connected to on every attempt.
 */
export function validateEndpointUrl(input: string, allowPrivate: boolean): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new OrdercastError('invalid_webhook_url', `"${input.slice(0, 200)}" is not a URL: use https://your-server.example/webhooks`, { field: 'url' });
  }
  if (input.length > MAX_URL_LENGTH) {
    throw new OrdercastError('invalid_webhook_url', `The URL is longer than ${MAX_URL_LENGTH} characters`, { field: 'url' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OrdercastError('invalid_webhook_url', `Webhook URLs must use https:// (got ${url.protocol}//)`, { field: 'url', protocol: url.protocol });
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // `localhost` names the machine itself (RFC 6761), over http:// or https:// alike: refused
  // like 127.0.0.1, not accepted and then failing at connect time for the whole retry schedule.
  if (!allowPrivate && isLocalhostName(host)) {
    throw new OrdercastError('webhook_url_not_allowed', `${host} is a loopback address: ${PUBLIC_ONLY}`, { field: 'url', address: host, range: 'loopback' });
  }
  if (url.protocol === 'http:' && !allowPrivate) {
    throw new OrdercastError('invalid_webhook_url', 'Webhook URLs must use https://; plain http:// is only allowed with ORDERCAST_WEBHOOK_ALLOW_PRIVATE=true', {
      field: 'url',
      protocol: url.protocol,
    });
  }
  if (url.username || url.password) {
    throw new OrdercastError('invalid_webhook_url', 'Webhook URLs cannot carry a user name or password; verify the signature instead', { field: 'url' });
  }
  if (url.hash) throw new OrdercastError('invalid_webhook_url', 'Webhook URLs cannot have a #fragment', { field: 'url' });
  if (net.isIP(host)) {
    const reason = refusalReason(host, allowPrivate);
    if (reason !== undefined) {
      throw new OrdercastError('webhook_url_not_allowed', `${host} is a ${reason} address: ${PUBLIC_ONLY}`, {
        field: 'url',
        address: host,
        range: reason,
      });
    }
  }
  // Names are not resolved here: what they resolve to can change, so the guard checks at connect time.
  return url.toString();
}
