import net from 'node:net';

export interface RawResponse {
  /** 0 when nothing that looks like an HTTP answer came back. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the connection before `timeoutMs`. */
  closedByServer: boolean;
  raw: string;
}

/**
 * Sends `bytes` as they are on a fresh TCP connection (nothing normalises the path or the
 * headers, unlike fetch) and reads until the server closes or `timeoutMs` passes. Only the
 * first response is parsed.
 */
export function rawRequest(baseUrl: string, bytes: string | Buffer, timeoutMs = 3_000): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(Buffer.concat(chunks).toString('latin1'), closedByServer));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('error', () => {
      closedByServer = true;
      finish();
    });
    socket.on('connect', () => socket.write(bytes));
  });
}

function parseResponse(raw: string, closedByServer: boolean): RawResponse {
  const headerEnd = raw.indexOf('\r\n\r\n');
  const head = headerEnd >= 0 ? raw.slice(0, headerEnd) : raw;
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = headerEnd >= 0 ? raw.slice(headerEnd + 4) : '';
  const length = Number(headers['content-length']);
  if (Number.isFinite(length) && headers['content-length'] !== undefined) body = body.slice(0, length);
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  return { status, headers, body, closedByServer, raw };
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    if (lineEnd < 0) return out;
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}
