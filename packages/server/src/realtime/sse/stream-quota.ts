import { OrdercastError } from '../../domain/errors.js';
import type { Principal } from '../../services/auth-service.js';

/**
 * Open SSE streams per credential: per API key, and per user for user tokens (a user
 * minting new tokens does not get more streams). A stream that closes gives its slot back.
 */
export class StreamQuota {
  private readonly open = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Takes a slot or throws `limit_exceeded`; returns the function that gives it back (once). */
  take(principal: Principal): () => void {
    const key =
      principal.kind === 'user'
        ? `user:${principal.projectId}:${principal.userExternalId}`
        : principal.kind === 'dashboard'
          ? `session:${principal.sessionId}`
          : `key:${principal.keyId}`;
    const count = this.open.get(key) ?? 0;
    if (count >= this.limit) {
      throw new OrdercastError('limit_exceeded', `At most ${this.limit} open streams per credential: close streams you no longer read`, { limit: this.limit });
    }
    this.open.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left <= 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }

  /** Credentials holding at least one stream (for leak checks). */
  get holders(): number {
    return this.open.size;
  }
}
