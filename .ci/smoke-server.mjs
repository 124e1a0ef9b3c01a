// What a user checks first on a server that has just started, from the outside:
// /healthz answers, an order written with the secret key reads back, and /dashboard
// serves its page and the script that page loads. Used by .ci/packages.sh (the npm
// tarballs installed on their own) and .ci/image.sh (the container image).
//
//   node .ci/smoke-server.mjs http://127.0.0.1:8080 sk_…
const [baseUrl, secretKey] = process.argv.slice(2);
if (!baseUrl || !secretKey) {
  console.error('usage: node .ci/smoke-server.mjs <base url> <secret key>');
  process.exit(2);
}

async function waitForHealth(deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok) return res.json();
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${baseUrl}/healthz did not answer within ${deadlineMs / 1000} s (last: ${last})`);
}

async function call(method, path, body) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${secretKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
  console.log(`ok  ${message}`);
}

try {
  const started = Date.now();
  const health = await waitForHealth(90_000);
  check(health.status === 'ok', `/healthz says ok (after ${((Date.now() - started) / 1000).toFixed(1)} s)`);

  const externalId = `smoke-${Date.now()}`;
  const created = await call('POST', '/api/v2/orders', { externalId, userExternalId: 'user-1', amount: '25.00', currency: 'EUR' });
  check(typeof created.id === 'string' && created.version === 1, `POST /api/v2/orders created ${created.id} at version 1`);
  const moved = await call('POST', `/api/v2/orders/${created.id}/status`, { status: 'PROCESSING' });
  check(moved.status === 'PROCESSING' && moved.version === 2, 'POST …/status moved it to PROCESSING, version 2');
  const read = await call('GET', `/api/v2/orders/${created.id}`);
  check(read.externalId === externalId && read.status === 'PROCESSING' && read.version === 2, 'GET /api/v2/orders/{id} reads it back');

  const page = await fetch(`${baseUrl}/dashboard/`);
  const html = await page.text();
  check(page.ok && page.headers.get('content-type')?.startsWith('text/html'), `/dashboard/ serves HTML (HTTP ${page.status})`);
  const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
  check(Boolean(script), `/dashboard/ loads a script (${script})`);
  const asset = await fetch(new URL(script, `${baseUrl}/dashboard/`));
  const assetBody = await asset.text();
  check(asset.ok && assetBody.length > 1000, `the dashboard's script is served (HTTP ${asset.status}, ${assetBody.length} bytes)`);
} catch (error) {
  console.error(`FAILED: ${error.message}`);
  process.exit(1);
}
