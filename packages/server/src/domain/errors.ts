import type { ApiErrorCode } from '@ordercast/client/types';

/** The stable error codes, defined with the other public shapes in `@ordercast/client/types`. */
export type ErrorCode = ApiErrorCode;

/**
 * Every failure a user can see is an OrdercastError with a stable `code`.
 * The HTTP layer maps codes to status codes in one place (http/error-status.ts).
 */
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
