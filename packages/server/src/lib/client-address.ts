import type { IncomingHttpHeaders } from 'node:http';
import ipaddr from 'ipaddr.js';

/**
 * Which peers are proxies whose `X-Forwarded-For` is believed, as Fastify's `trustProxy`
 * (a hop count, or addresses and ranges) but never "every peer": a header any client can
 * write would then pick the address that rate limits and logs see.
 */
export type TrustProxy = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'ranges'; ranges: string[] };

/** `(address, hop)`: whether the peer at that hop (0 is the socket's peer) is a trusted proxy. Fastify's `trustProxy` function. */
export type IsTrustedProxy = (address: string, hop: number) => boolean;

/** Names proxy-addr (Fastify's) also accepts, for the usual places a load balancer lives. */
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

export class TrustProxyError extends Error {}

/** Reads `2` (hops), `10.0.0.0/8, 192.168.1.7` or `loopback` (ranges), or `off`/`0`/empty (none). */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const text = (raw ?? '').trim();
  if (text === '' || /^(off|false|no|0)$/i.test(text)) return { kind: 'none' };
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 32) throw new TrustProxyError(`a hop count must be from 1 to 32 (got ${text})`);
    return { kind: 'hops', hops };
  }
  if (/^(true|yes|on|all|\*)$/i.test(text)) {
    throw new TrustProxyError(
      `"${text}" would trust an X-Forwarded-For that any client can write: give the number of proxies in front of the server (1 for one load balancer) or their addresses`,
    );
  }
  const ranges = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  for (const range of ranges) {
    if (NAMED_RANGES[range.toLowerCase()]) continue;
    if (!isRange(range))
      throw new TrustProxyError(`"${range}" is not a hop count, an address, a CIDR range (10.0.0.0/8) or one of loopback, linklocal, uniquelocal`);
  }
  return { kind: 'ranges', ranges };
}

function isRange(text: string): boolean {
  return text.includes('/') ? safely(() => ipaddr.parseCIDR(text)) !== undefined : ipaddr.isValid(text);
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, as dual-stack sockets report IPv4 peers) as the IPv4 it is. */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const parsed = safely(() => ipaddr.parse(text.replace(/^\[|\]$/g, '')));
  if (parsed?.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
}

/** The trust test for Fastify and the WebSocket gateways, or undefined when no proxy is trusted. */
export function trustedProxyTest(trust: TrustProxy): IsTrustedProxy | undefined {
  if (trust.kind === 'none') return undefined;
  if (trust.kind === 'hops') return (_address, hop) => hop < trust.hops;
  const cidrs = trust.ranges
    .flatMap((range) => NAMED_RANGES[range.toLowerCase()] ?? [range])
    .map((range) => {
      if (range.includes('/')) return ipaddr.parseCIDR(range);
      const address = parseAddress(range) as ipaddr.IPv4 | ipaddr.IPv6;
      return [address, address.kind() === 'ipv4' ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number];
    })
    .map(([address, bits]) => {
      const mapped = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96;
      return mapped ? ([(address as ipaddr.IPv6).toIPv4Address(), bits - 96] as const) : ([address, bits] as const);
    });
  return (text) => {
    const address = parseAddress(text);
    if (!address) return false;
    return cidrs.some(([range, bits]) => range.kind() === address.kind() && address.match(range as never, bits));
  };
}

/**
 * The client's address: walks from the socket's peer back through `X-Forwarded-For`
 * while each hop is a trusted proxy, and stops at the first that is not (proxy-addr's
 * rule, so Fastify's `request.ip` and the WebSocket gateways agree). Without trust, the
 * header is ignored: a client cannot pick its own address.
 */
export function clientAddress(socketAddress: string | undefined, headers: IncomingHttpHeaders, isTrusted: IsTrustedProxy | undefined): string | undefined {
  if (!isTrusted || socketAddress === undefined) return socketAddress;
  const header = headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .reverse();
  const hops = [socketAddress, ...forwarded];
  for (let hop = 0; hop < hops.length - 1; hop++) {
    if (!isTrusted(hops[hop]!, hop)) return hops[hop];
  }
  return hops[hops.length - 1];
}
