import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedProject } from '../src/services/project-service.js';
import { waitFor } from './helpers/realtime.js';
import { CLI } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

/**
 * Every fenced block of the README with a language runs here, as written, against a real
 * server, on the Node that runs the suite (CI: 20 and 24). The only changes are the
 * placeholders a reader replaces too: keys, ids, tokens and the host. A block this file
 * does not know fails the first test, so a new snippet gets a runner or a stated reason.
 * Blocks without a language (sample output) are not code.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const run = promisify(execFile);

interface Block {
  lang: string;
  code: string;
}

const blocks: Block[] = [...readme.matchAll(/^```(\w+)[^\n]*\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] as string, code: m[2] as string }));

/** Which block is which: a line only it has. */
const KINDS = {
  quickstart: 'npm install && npm start',
  container: 'docker run -d --name ordercast',
  testCommand: /^npm test\n$/,
  curlApi: 'Idempotency-Key: checkout-42',
  buyerLink: '$ORDER/links',
  cli: 'npx ordercast projects create',
  lifecycleJson: '"name": "parcel"',
  postgres: 'DATABASE_URL=postgres://user:pass@db.example.com',
  curlWebhookProduct: '/api/v2/event-types',
  curlWebhooks: '/api/v2/webhook-endpoints',
  verifyWebhook: "from 'standardwebhooks'",
  listen: /^npx ordercast listen [^\n]*\n$/,
  socketIo: "from 'socket.io-client'",
  centrifuge: "from 'centrifuge'",
  trackOrder: "from '@ordercast/client/track'",
  statusElement: '<ordercast-order-status',
  development: 'npm run typecheck',
} as const;

/** Not run here, each for a reason. */
const NOT_RUN: Partial<Record<keyof typeof KINDS, string>> = {
  quickstart: 'installs and starts a server in the foreground: every server test starts `ordercast serve`',
  container:
    'needs a container engine: .ci/image.sh builds the image, starts it and runs these steps (CLI, API, dashboard, SIGTERM); .ci/deploy-check.mjs validates deploy/compose.yaml',
  testCommand: 'it is this suite',
  postgres: 'a placeholder host; the PostgreSQL suite (ORDERCAST_TEST_DATABASE_URL) serves on PostgreSQL',
  listen: 'runs until stopped: webhooks/listen.test.ts runs `ordercast listen --forward-to`',
  development: "the repository's own tooling, which CI runs",
  statusElement:
    'a placeholder link token and host: packages/client/test/order-status-element.browser.test.ts puts the element in a plain HTML page with a link the server made',
  curlWebhookProduct:
    'placeholder ids (we_…, ord_…) to fill in: webhooks/event-catalogue.test.ts, webhooks/endpoint-settings.test.ts and order-expunge.test.ts make each of these calls',
};

function kindOf(block: Block): keyof typeof KINDS | undefined {
  for (const [kind, marker] of Object.entries(KINDS)) {
    if (typeof marker === 'string' ? block.code.includes(marker) : marker.test(block.code)) return kind as keyof typeof KINDS;
  }
  return undefined;
}

function block(kind: keyof typeof KINDS): string {
  const found = blocks.filter((b) => kindOf(b) === kind);
  expect(found, `README blocks of kind ${kind}`).toHaveLength(1);
  return (found[0] as Block).code;
}

/** A JavaScript snippet as an ES module of its own, with `prelude` after its imports. */
function moduleOf(snippet: string, prelude = ''): string {
  const lines = snippet.split('\n');
  const imports = lines.filter((line) => line.startsWith('import '));
  return [...imports, prelude, ...lines.filter((line) => !line.startsWith('import '))].join('\n');
}

interface Running {
  output(): string;
  exited: Promise<number | null>;
  stop(): void;
}

/** Runs a module from the repository root, so its imports resolve as they do for a reader with the packages installed. */
function runModule(source: string, env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { cwd: repoRoot, env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { output: () => output, exited, stop: () => child.kill() };
}

describe('README snippets', () => {
  let server: TestServer;
  let onramp: CreatedProject;
  let host: string;
  const running: Running[] = [];

  beforeAll(async () => {
    server = await startTestServer('sqlite', { ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'true' });
    onramp = await server.createProject('onramp');
    host = new URL(server.baseUrl).host;
  });
  afterAll(async () => {
    for (const r of running) r.stop();
    await server?.close();
  });

  const api = (method: string, urlPath: string, body?: unknown) => server.request(method, urlPath, { key: onramp.secretKey, body });
  const newOrder = async (user = 'user-7') => (await api('POST', '/api/v2/orders', { userExternalId: user })).body;
  const userToken = async () => (await api('POST', '/api/v2/tokens', { userExternalId: 'user-7' })).body.token as string;
  const localhost = (code: string) => code.replaceAll('localhost:8080', host);

  it('every block with a language is run below or says why not', () => {
    expect(blocks.length).toBeGreaterThan(10);
    for (const b of blocks) {
      const kind = kindOf(b);
      expect(kind, `a README block this test does not know:\n${b.code}`).toBeDefined();
    }
    for (const kind of Object.keys(KINDS)) block(kind as keyof typeof KINDS);
  });

  it('the curl walkthrough of the API, with SK and BASE set as it says', async () => {
    const script = block('curlApi')
      .replace(/^SK=sk_\.\.\..*$/m, `SK=${onramp.secretKey}`)
      .replace(/^BASE=.*$/m, `BASE=${server.baseUrl}`)
      .replaceAll('ord_...', '$ORDER')
      // The long-poll waits 25 s for a change nobody makes here; 1 s shows the same 304.
      .replace('waitForChange=25', 'waitForChange=1');
    // curl as written, plus a check of every answer's status; the created order's id becomes $ORDER.
    const wrapper = `set -e
curl() {
  local out
  out=$(command curl -w ' HTTP:%{http_code}' "$@")
  echo "$out"
  case "$out" in *' HTTP:2'??|*' HTTP:304') ;; *) echo "FAILED: curl $*" >&2; return 1;; esac
  if [ -z "\${ORDER:-}" ]; then ORDER=$(printf '%s' "$out" | grep -o '"id":"ord_[A-Za-z0-9]*"' | head -n 1 | cut -d'"' -f4); fi
}
`;
    const { stdout } = await run('bash', ['-c', wrapper + script], { timeout: 20_000 });
    expect(stdout).toContain('"externalId":"checkout-42"');
    expect(stdout).toContain('"status":"PROCESSING"');
    expect(stdout).toContain(' HTTP:304');
    expect(stdout).toMatch(/"token":"[\w-]+\.[\w-]+\.[\w-]+"/);
  });

  it('the order-link block: the URL it answers opens the buyer page', async () => {
    const order = await newOrder();
    const { stdout } = await run('bash', ['-c', `set -e\n${block('buyerLink')}`], {
      timeout: 20_000,
      env: { ...process.env, SK: onramp.secretKey, BASE: server.baseUrl, ORDER: order.id },
    });
    const link = JSON.parse(stdout);
    expect(link).toMatchObject({ object: 'order_link', orderId: order.id });
    const page = await fetch(link.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Awaiting payment');
  });

  it('the command-line block, with the custom lifecycle file of the JSON block', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-readme-'));
    try {
      writeFileSync(path.join(dir, 'my-lifecycle.json'), block('lifecycleJson'));
      const ids: Record<string, string> = {};
      const lines = block('cli')
        .split('\n')
        .map((line) => line.replace(/\s+#.*$/, '').trim())
        .filter((line) => line.startsWith('npx ordercast '))
        // serve and listen run until stopped; the server and listen tests run them.
        .filter((line) => !/^npx ordercast (serve|listen)\b/.test(line));
      expect(lines.length).toBeGreaterThan(10);
      for (const line of lines) {
        const args = line
          .replace(/^npx ordercast /, '')
          .replace(/prj_…/g, () => ids.prj ?? 'prj_')
          .replace(/ord_…/g, () => ids.ord ?? 'ord_')
          .replace(/we_…/g, () => ids.we ?? 'we_')
          .match(/"[^"]*"|\S+/g)!
          .map((arg) => arg.replace(/^"(.*)"$/, '$1'));
        const { stdout } = await run(process.execPath, [CLI, ...args, '--data-dir', dir], {
          cwd: dir,
          env: { ...process.env, ORDERCAST_WEBHOOK_ALLOW_PRIVATE: 'false' },
          timeout: 30_000,
        });
        // The first project (the store lifecycle), order and endpoint fill the placeholders after them.
        if (line.includes('projects create') && line.includes('--json') && !ids.prj) ids.prj = JSON.parse(stdout).id;
        if (line.includes('orders create') && !ids.ord) ids.ord = /ord_\w+/.exec(stdout)![0];
        if (line.includes('endpoints create') && !ids.we) ids.we = /we_\w+/.exec(stdout)![0];
        if (line.includes('--lifecycle ./my-lifecycle.json')) expect(stdout).toContain('lifecycle parcel');
        if (line.includes('orders transition')) expect(stdout).toContain('paid');
        if (line.includes('orders list')) expect(stdout).toContain(ids.ord);
        if (line.includes('endpoints delete')) expect(stdout).toContain(`deleted ${ids.we}`);
      }
      expect(Object.keys(ids).sort()).toEqual(['ord', 'prj', 'we']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the webhook endpoint registration', async () => {
    const script = block('curlWebhooks');
    const { stdout } = await run('bash', ['-c', `set -e; SK=${onramp.secretKey}; BASE=${server.baseUrl}\n${script}`], { timeout: 20_000 });
    const created = JSON.parse(stdout);
    expect(created).toMatchObject({ url: 'https://merchant.example.com/ordercast-webhook', enabledEvents: ['ORDER_COMPLETED', 'ORDER_FAILED'] });
    expect(created.secret).toMatch(/^whsec_/);
  });

  it('the webhook verification, on a delivery the server really sent', async () => {
    const receiver: WebhookReceiver = await startReceiver();
    try {
      const endpoint = (await api('POST', '/api/v2/webhook-endpoints', { url: receiver.url, enabledEvents: ['ORDER_COMPLETED'] })).body;
      const order = await newOrder('webhook-user');
      for (const status of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']) await api('POST', `/api/v2/orders/${order.id}/status`, { status });
      const [delivery] = await receiver.waitForCount(1);
      const prelude = `
const rawBody = ${JSON.stringify(delivery!.body)};
const headers = ${JSON.stringify(delivery!.headers)};
const handleOrderCompleted = async (order) => console.log('completed', order.id, order.status);`;
      const snippet = runModule(moduleOf(block('verifyWebhook'), prelude), { ORDERCAST_WEBHOOK_SECRET: endpoint.secret });
      running.push(snippet);
      expect(await snippet.exited, snippet.output()).toBe(0);
      expect(snippet.output()).toContain(`completed ${order.id} COMPLETED`);
    } finally {
      await receiver.close();
    }
  });

  it('the Socket.IO snippet: the acknowledgement, then each update', async () => {
    const order = await newOrder();
    const code = localhost(block('socketIo')).replaceAll("'sk_…'", `'${onramp.secretKey}'`).replaceAll("'ord_…'", `'${order.id}'`);
    const snippet = runModule(moduleOf(code));
    running.push(snippet);
    await waitFor(() => snippet.output().includes(`id: '${order.id}'`), `the acknowledgement in:\n${snippet.output()}`);
    await api('POST', `/api/v2/orders/${order.id}/status`, { status: 'PROCESSING' });
    await waitFor(() => snippet.output().includes('PROCESSING 2'), `the update in:\n${snippet.output()}`);
    snippet.stop();
  });

  it('the Centrifuge snippet: the history from offset 0, then publications', async () => {
    const order = await newOrder();
    const code = localhost(block('centrifuge'))
      .replaceAll("'<user token>'", `'${await userToken()}'`)
      .replaceAll("'prj_…'", `'${onramp.project.id}'`);
    const snippet = runModule(moduleOf(code));
    running.push(snippet);
    await waitFor(() => snippet.output().includes(order.id), `the history in:\n${snippet.output()}`);
    const afterHistory = snippet.output().length;
    await api('POST', `/api/v2/orders/${order.id}/status`, { status: 'PROCESSING' });
    const live = () => snippet.output().slice(afterHistory);
    await waitFor(() => live().includes(order.id) && live().includes("status: 'PROCESSING'"), `the publication in:\n${snippet.output()}`);
    snippet.stop();
  });

  it('the client SDK snippet follows an order to its final status and ends', async () => {
    const order = await newOrder();
    const prelude = `
const orderId = '${order.id}';
const publishableKey = '${onramp.publishableKey}';
const token = '${await userToken()}';
const render = (status) => console.log('status', status);`;
    const snippet = runModule(moduleOf(localhost(block('trackOrder')), prelude));
    running.push(snippet);
    await waitFor(() => snippet.output().includes('status AWAITING_PAYMENT_FROM_USER'), `the first status in:\n${snippet.output()}`);
    for (const status of ['PROCESSING', 'PENDING_DELIVERY', 'COMPLETED']) await api('POST', `/api/v2/orders/${order.id}/status`, { status });
    expect(await snippet.exited, snippet.output()).toBe(0);
    expect(snippet.output()).toContain('status COMPLETED');
  });

  it('says why each block it does not run is not run', () => {
    for (const [kind, reason] of Object.entries(NOT_RUN)) {
      expect(reason, kind).toBeTruthy();
      block(kind as keyof typeof KINDS);
    }
  });
});
