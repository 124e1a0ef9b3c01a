import { LogThrottle } from '../lib/log-throttle.js';
import type { Logger } from '../lib/logging.js';
import type { EndpointRecord } from '../store/repositories/webhook-endpoints.js';
import type { SendResult } from './http-sender.js';

/** One warning per endpoint per this long, however many of its deliveries fail. */
const ENDPOINT_WARNING_INTERVAL_MS = 60_000;

/**
 * Failed webhook attempts in the server log, so an operator sees a failing receiver without
 * asking the API: a warning per endpoint, rate-limited, saying how many were held back.
 */
export class EndpointFailureLog {
  private readonly throttle = new LogThrottle(ENDPOINT_WARNING_INTERVAL_MS);

  constructor(private readonly logger: Logger) {}

  failed(endpoint: EndpointRecord, result: SendResult, next: 'pending' | 'failed'): void {
    const suppressed = this.throttle.take(endpoint.id);
    if (suppressed === undefined) return;
    this.logger.warn(
      {
        endpointId: endpoint.id,
        projectId: endpoint.projectId,
        url: withoutSecrets(endpoint.url),
        statusCode: result.statusCode,
        error: result.errorCode ?? undefined,
        next: next === 'pending' ? 'retry' : 'given up',
        failuresNotLogged: suppressed,
      },
      'webhook delivery failed',
    );
  }
}

/** Receivers sometimes put a token in the URL: the log gets the origin and path only. */
function withoutSecrets(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparseable url)';
  }
}
