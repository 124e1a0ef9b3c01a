import type { IncomingHttpHeaders } from 'node:http';
import { clientAddress, type IsTrustedProxy } from '../lib/client-address.js';
import { RateLimiter } from '../lib/rate-limiter.js';

/**
 * Refuses floods of new connections: one bucket per client IP, checked before
 * anything else, and one per credential, checked only once the credential is
 * known to be valid. So neither one address nor one leaked key can exhaust the
 * server, and junk credentials cost an attacker their address's bucket without
 * adding buckets of their own. Behind a load balancer the address is the client's, read
 * from X-Forwarded-For only through the proxies ORDERCAST_TRUST_PROXY names.
 */
export class HandshakeLimiter {
  private readonly limiter: RateLimiter;

  constructor(
    perSecond: number,
    private readonly isTrustedProxy?: IsTrustedProxy,
  ) {
    this.limiter = new RateLimiter(perSecond, perSecond * 2);
  }

  /** The address a connection's bucket is kept for: the socket's peer, or the client behind trusted proxies. */
  clientAddress(socketAddress: string | undefined, headers: IncomingHttpHeaders): string | undefined {
    return clientAddress(socketAddress, headers, this.isTrustedProxy);
  }

  /** How many buckets are held: one per address and per valid credential seen lately (bounded). */
  get size(): number {
    return this.limiter.size;
  }

  allowIp(ip: string | undefined): boolean {
    return !this.limiter.enabled || this.limiter.take(`ip:${ip ?? 'unknown'}`).allowed;
  }

  /** `credential` names a checked identity (a key's id, or a project and user), never raw input. */
  allowCredential(credential: string): boolean {
    return !this.limiter.enabled || this.limiter.take(`credential:${credential}`).allowed;
  }
}
