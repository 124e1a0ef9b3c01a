import { RateLimiter } from '../http/rate-limiter.js';

/**
 * Refuses floods of new connections: one bucket per client IP and one per
 * credential, so neither one address nor one leaked key can exhaust the server.
 */
export class HandshakeLimiter {
  private readonly limiter: RateLimiter;

  constructor(perSecond: number) {
    this.limiter = new RateLimiter(perSecond, perSecond * 2);
  }

  allowIp(ip: string | undefined): boolean {
    return !this.limiter.enabled || this.limiter.take(`ip:${ip ?? 'unknown'}`).allowed;
  }

  allowKey(key: string): boolean {
    return !this.limiter.enabled || this.limiter.take(`key:${key}`).allowed;
  }
}
