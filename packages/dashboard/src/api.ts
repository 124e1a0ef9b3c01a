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
}

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
}

/**
 * The dashboard's only way to the server: the public REST API with the secret key.
 * `onCredentialRefused` lets the app send the user back to sign-in when the key stops working.
 */
export class Api {
  onCredentialRefused: ((error: ApiError) => void) | undefined;

  /** `origin` is empty in the page (same-origin requests); tests outside a browser pass the server's. */
  constructor(
    readonly secretKey: string,
    readonly origin = '',
  ) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.origin}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.secretKey}`,
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
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
      if (error.isCredentialProblem) this.onCredentialRefused?.(error);
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
