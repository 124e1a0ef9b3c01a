import type { ApiErrorBody } from '@ordercast/client/types';

/** An error answer of the API, or a network failure (`status` 0, `code` "network_error"). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** The key itself was refused: wrong, rotated past its grace, or not a secret key. */
  get isCredentialProblem(): boolean {
    return this.status === 401 || (this.status === 403 && this.code === 'forbidden');
  }

  /** A dashboard session was refused: signed out, revoked or expired (a 403 is only its role, or a page from elsewhere). */
  get isSessionProblem(): boolean {
    return this.status === 401;
  }
}

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
}

/**
 * The dashboard's only way to the server: the public REST API, with the secret key, or
 * with a dashboard session (its HttpOnly cookie goes by itself; the page adds the
 * session's CSRF token to every request that changes something).
 * `onCredentialRefused` lets the app send the user back to sign-in when the credential stops working.
 */
export class Api {
  onCredentialRefused: ((error: ApiError) => void) | undefined;

  /** `origin` is empty in the page (same-origin requests); tests outside a browser pass the server's. */
  constructor(
    readonly secretKey: string,
    readonly origin = '',
    /** Set for a dashboard session (then `secretKey` is empty). */
    readonly csrfToken?: string,
  ) {}

  /** An Api signed in by a dashboard session's cookie. */
  static withSession(csrfToken: string, origin = ''): Api {
    return new Api('', origin, csrfToken);
  }

  get isSession(): boolean {
    return this.csrfToken !== undefined;
  }

  /** Whether this error means the credential itself no longer works. */
  refusesCredential(error: ApiError): boolean {
    return this.isSession ? error.isSessionProblem : error.isCredentialProblem;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.origin}${path}`, {
        method,
        headers: {
          ...(this.csrfToken === undefined ? { authorization: `Bearer ${this.secretKey}` } : {}),
          ...(this.csrfToken !== undefined && method !== 'GET' && method !== 'HEAD' ? { 'x-ordercast-csrf': this.csrfToken } : {}),
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        credentials: 'same-origin',
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
        cache: 'no-store',
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiError(0, 'network_error', 'The server is not answering');
    }
    const text = await response.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const body = json as ApiErrorBody | undefined;
      const error = new ApiError(
        response.status,
        body?.error?.code ?? 'http_error',
        body?.error?.message ?? `The server answered ${response.status}`,
        body?.error?.details,
      );
      if (this.refusesCredential(error)) this.onCredentialRefused?.(error);
      throw error;
    }
    return json as T;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { signal });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }
}

/** Builds `path?a=b&…`, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}
