import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

/**
 * Outbound SSRF defence, applied when the connection is made (not only when the
 * URL is saved): the name is resolved, every address is checked, and the socket
 * connects only to an address that passed. A name that resolves to a private
 * address, or changes its answer after the URL was saved (DNS rebinding), is refused.
 * The connector that applies it to undici's sockets is in guarded-connector.ts.
 */

/** Ranges a local-development setting may open: the machine itself and private networks. */
const PRIVATE_RANGES = new Set(['loopback', 'private', 'uniqueLocal', 'linkLocal', 'carrierGradeNat']);

/**
 * Cloud platform services: refused even when private targets are allowed. AWS, GCP,
 * Azure and OpenStack metadata (169.254.169.254, AWS's IPv6 fd00:ec2::254), Azure's
 * WireServer (168.63.129.16, a public-looking address reachable only from inside Azure)
 * and Alibaba Cloud's metadata (100.100.100.200).
 */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254', '168.63.129.16', '100.100.100.200']);

/**
 * The IPv4 address an IPv6 address carries, for the forms that embed one: mapped
 * (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d, deprecated), SIIT (::ffff:0:a.b.c.d),
 * NAT64 (64:ff9b::a.b.c.d and the local-use 64:ff9b:1::/48) and 6to4 (2002:aabb:ccdd::).
 * A stack or gateway on the way may turn each of them into a connection to that IPv4.
 */
export function embeddedIpv4(address: ipaddr.IPv6): { form: string; ipv4: string } | undefined {
  const p = address.parts;
  const low32 = `${p[6]! >> 8}.${p[6]! & 0xff}.${p[7]! >> 8}.${p[7]! & 0xff}`;
  const zeroUntil = (n: number) => p.slice(0, n).every((x) => x === 0);
  if (zeroUntil(5) && p[5] === 0xffff) return { form: 'ipv4Mapped', ipv4: low32 };
  if (zeroUntil(6) && (p[6] !== 0 || p[7]! > 1)) return { form: 'ipv4Compatible', ipv4: low32 };
  if (zeroUntil(4) && p[4] === 0xffff && p[5] === 0) return { form: 'rfc6145', ipv4: low32 };
  if (p[0] === 0x64 && p[1] === 0xff9b && (p[2] === 0 || p[2] === 1)) return { form: 'nat64', ipv4: low32 };
  if (p[0] === 0x2002) return { form: '6to4', ipv4: `${p[1]! >> 8}.${p[1]! & 0xff}.${p[2]! >> 8}.${p[2]! & 0xff}` };
  return undefined;
}

export class AddressNotAllowedError extends Error {
  readonly code = 'address_not_allowed';
  constructor(
    readonly address: string,
    readonly range: string,
    host?: string,
  ) {
    super(
      `${host && host !== address ? `${host} resolved to ${address}, which` : address} is a ${range} address: webhooks may only target public addresses (set ORDERCAST_WEBHOOK_ALLOW_PRIVATE=true for local development)`,
    );
    this.name = 'AddressNotAllowedError';
  }
}

/** The special-purpose range an address belongs to, or 'unicast' for an ordinary public address. */
export function addressRange(address: string): string {
  const unbracketed = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(unbracketed)) return 'invalid';
  return ipaddr.parse(unbracketed).range();
}

/** Why an address may not be connected to, or undefined when it may. */
export function refusalReason(address: string, allowPrivate: boolean): string | undefined {
  const unbracketed = address.replace(/^\[|\]$/g, '').toLowerCase();
  let canonical = unbracketed;
  if (ipaddr.isValid(unbracketed)) canonical = ipaddr.parse(unbracketed).toString();
  if (METADATA_ADDRESSES.has(canonical)) return 'cloud metadata';
  if (ipaddr.IPv6.isValid(unbracketed) && !ipaddr.IPv4.isValid(unbracketed)) {
    // Every IPv6 form that embeds an IPv4 address is refused, whatever it embeds: none is
    // a webhook receiver's ordinary address, and each can reach the embedded IPv4 host.
    const embedded = embeddedIpv4(ipaddr.IPv6.parse(unbracketed));
    if (embedded) return METADATA_ADDRESSES.has(embedded.ipv4) ? 'cloud metadata' : embedded.form;
  }
  const range = addressRange(unbracketed);
  if (range === 'unicast') return undefined;
  if (allowPrivate && PRIVATE_RANGES.has(range)) return undefined;
  return range;
}

export function assertAddressAllowed(address: string, allowPrivate: boolean, host?: string): void {
  const reason = refusalReason(address, allowPrivate);
  if (reason !== undefined) throw new AddressNotAllowedError(address.replace(/^\[|\]$/g, ''), reason, host);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `dns.lookup` replacement for net/tls.connect that drops the connection if any answer is not allowed. */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      for (const entry of list) {
        const reason = refusalReason(entry.address, allowPrivate);
        if (reason !== undefined) return callback(new AddressNotAllowedError(entry.address, reason, hostname) as NodeJS.ErrnoException, []);
      }
      if (list.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      if (options.all) return callback(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
