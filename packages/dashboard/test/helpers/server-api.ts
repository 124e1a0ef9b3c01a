/**
 * The merchant backend's side of a dashboard test: calls the server's REST API with the
 * project's secret key (read when called, since tests sign in once the server is up) and
 * throws on anything but a 2xx, so set-up mistakes fail loudly.
 */
export function serverApi(baseUrl: () => string, secretKey: () => string) {
  return async function api<T = any>(method: string, urlPath: string, body?: unknown): Promise<T> {
    const response = await fetch(`${baseUrl()}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${secretKey()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${JSON.stringify(json)}`);
    return json as T;
  };
}
