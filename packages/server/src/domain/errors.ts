/**
 * Every failure a user can see is an OrdercastError with a stable `code`.
 * The HTTP layer maps codes to status codes in one place (http/error-status.ts).
 */
export type ErrorCode =
  | 'invalid_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'validation_failed'
  | 'invalid_lifecycle'
  | 'unknown_status'
  | 'invalid_initial_status'
  | 'invalid_transition'
  | 'version_conflict'
  | 'order_not_found'
  | 'project_not_found'
  | 'external_id_taken'
  | 'invalid_cursor'
  | 'unauthorized'
  | 'invalid_token'
  | 'token_expired'
  | 'forbidden'
  | 'idempotency_key_reused'
  | 'idempotency_key_in_use'
  | 'rate_limited'
  | 'limit_exceeded'
  | 'unknown_event'
  | 'route_not_found'
  | 'invalid_webhook_url'
  | 'webhook_url_not_allowed'
  | 'unknown_event_name'
  | 'webhook_endpoint_not_found'
  | 'webhook_delivery_not_found'
  | 'webhook_endpoint_disabled'
  | 'service_unavailable'
  | 'internal_error';

export class OrdercastError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'OrdercastError';
    this.code = code;
    this.details = details;
  }
}

export function isOrdercastError(value: unknown): value is OrdercastError {
  return value instanceof OrdercastError;
}
