import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * Scripts, styles and requests only from this origin, nothing inline: a key kept in
 * sessionStorage is only as safe as the scripts that can read it.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** Vite names built assets `name-<hash>.ext` under assets/: only such names are served, so no path can escape the folder. */
const ASSET_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.[a-z0-9]+$/;

function notBuilt(reply: FastifyReply, dir: string): FastifyReply {
  return reply
    .code(503)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .send(
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>Ordercast dashboard not built</title>` +
        `<h1>The dashboard is not built</h1><p>No built dashboard in <code>${escapeHtml(dir)}</code>. ` +
        `Run <code>npm run build</code> at the repository root (<code>npm install</code> does it too), then reload. The API works meanwhile.</p></html>`,
    );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Serves the built dashboard at /dashboard: hashed assets cached for good, and
 * index.html (for every other path under /dashboard, which the page routes itself)
 * revalidated every time so a new build shows at the next load.
 */
export async function dashboardRoutes(app: FastifyInstance, opts: { dir: string }): Promise<void> {
  const dir = opts.dir;

  async function sendIndex(reply: FastifyReply): Promise<FastifyReply> {
    let html: Buffer;
    try {
      html = await readFile(path.join(dir, 'index.html'));
    } catch {
      return notBuilt(reply, dir);
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(html);
  }

  app.get('/dashboard', { schema: { hide: true } }, (_request, reply) => sendIndex(reply));
  app.get<{ Params: { '*': string } }>('/dashboard/*', { schema: { hide: true } }, async (request, reply) => {
    const rest = request.params['*'];
    if (!rest.startsWith('assets/')) return sendIndex(reply);
    const name = rest.slice('assets/'.length);
    const type = CONTENT_TYPES[path.extname(name)];
    let body: Buffer | undefined;
    if (ASSET_NAME.test(name) && type) body = await readFile(path.join(dir, 'assets', name)).catch(() => undefined);
    if (!body) {
      return reply.code(404).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(`No dashboard asset ${rest}: reload the page`);
    }
    return reply
      .type(type as string)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(body);
  });
}
