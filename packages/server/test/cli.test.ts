import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServerProcess } from './helpers/server-process.js';

describe('ordercast CLI', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-cli-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dataDir]);

  it('creates a project with --json and lists it', () => {
    const created = cli('projects', 'create', '--name', 'Shop', '--lifecycle', 'store', '--json');
    expect(created.code).toBe(0);
    const project = JSON.parse(created.stdout);
    expect(project.id).toMatch(/^prj_/);
    expect(project.secretKey).toMatch(/^sk_[0-9A-Za-z]{40}$/);
    expect(project.publishableKey).toMatch(/^pk_[0-9A-Za-z]{40}$/);
    expect(project.lifecycle.name).toBe('store');
    const listed = cli('projects', 'list', '--json');
    expect(JSON.parse(listed.stdout).map((p: any) => p.id)).toContain(project.id);
  });

  it('creates, moves and shows orders; refuses a bad transition with its code and exit 1', () => {
    const project = JSON.parse(cli('projects', 'create', '--name', 'Ops', '--lifecycle', 'store', '--json').stdout);
    const order = JSON.parse(cli('orders', 'create', '--project', project.id, '--user', 'u1', '--amount', '9.99', '--currency', 'usd', '--json').stdout);
    expect(order).toMatchObject({ status: 'new', version: 1, amount: '9.99', currency: 'USD' });
    const paid = JSON.parse(cli('orders', 'transition', order.id, 'paid', '--project', project.id, '--reason', 'card ok', '--json').stdout);
    expect(paid).toMatchObject({ status: 'paid', version: 2 });
    const shown = cli('orders', 'get', order.id, '--project', project.id);
    expect(shown.stdout).toContain(`${order.id}  paid  v2`);
    expect(shown.stdout).toContain('(card ok)');
    const bad = cli('orders', 'transition', order.id, 'new', '--project', project.id);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error (invalid_transition): Cannot move an order from paid to new');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('accepts a custom lifecycle file and explains every problem of an invalid one', () => {
    const good = path.join(dataDir, 'parcel.json');
    writeFileSync(
      good,
      JSON.stringify({
        name: 'parcel',
        statuses: ['created', 'shipped', 'delivered'],
        initial: ['created'],
        final: ['delivered'],
        transitions: { created: ['shipped'], shipped: ['delivered'] },
      }),
    );
    const ok = cli('projects', 'create', '--name', 'Parcels', '--lifecycle', good, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).lifecycle.eventNames.shipped).toBe('order_shipped');

    const badFile = path.join(dataDir, 'bad.json');
    writeFileSync(badFile, JSON.stringify({ statuses: ['a', 'b', 'c'], initial: ['a'], final: ['b'], transitions: { a: ['b'], b: ['a'] } }));
    const bad = cli('projects', 'create', '--name', 'Bad', '--lifecycle', badFile);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error (invalid_lifecycle)');
    expect(bad.stderr).toContain('"b" is final and cannot have transitions');
    expect(bad.stderr).toContain('status "c" is unreachable from the initial statuses');

    const missing = cli('projects', 'create', '--name', 'X', '--lifecycle', 'no-such-preset');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Unknown lifecycle "no-such-preset": use onramp or store, or the path of a JSON file');
  });

  it('rotates a key and reports configuration errors with exit 2', () => {
    const project = JSON.parse(cli('projects', 'create', '--name', 'Rot', '--lifecycle', 'store', '--json').stdout);
    const rotated = JSON.parse(cli('projects', 'rotate-key', '--project', project.id, '--kind', 'secret', '--grace', '60', '--json').stdout);
    expect(rotated.key).toMatch(/^sk_/);
    expect(rotated.key).not.toBe(project.secretKey);
    const badPort = runCli(['serve', '--port', 'eighty', '--data-dir', dataDir]);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('configuration error: port must be a whole number from 0 to 65535 (got "eighty")');
  });

  it('serve shares the database with the CLI, and SIGTERM finishes an in-flight long-poll before exiting 0', async () => {
    const project = JSON.parse(cli('projects', 'create', '--name', 'Live', '--lifecycle', 'store', '--json').stdout);
    const server = await startServerProcess(['--data-dir', dataDir, '--no-demo']);
    try {
      const order = JSON.parse(cli('orders', 'create', '--project', project.id, '--json').stdout);
      const headers = { authorization: `Bearer ${project.secretKey}` };
      // A write by the CLI (another process) is seen by the server's long-poll.
      const waiting = fetch(`${server.baseUrl}/api/v2/orders/${order.id}?waitForChange=20`, { headers: { ...headers, 'if-none-match': '"v1"' } });
      await new Promise((r) => setTimeout(r, 200));
      cli('orders', 'transition', order.id, 'paid', '--project', project.id);
      const changed = await waiting;
      expect(changed.status).toBe(200);
      expect(((await changed.json()) as any).status).toBe('paid');

      const inFlight = fetch(`${server.baseUrl}/api/v2/orders/${order.id}?waitForChange=20`, { headers: { ...headers, 'if-none-match': '"v2"' } });
      await new Promise((r) => setTimeout(r, 300));
      const exitCode = server.stop('SIGTERM');
      const answered = await inFlight;
      expect(answered.status).toBe(304);
      const code = await exitCode;
      expect(code).toBe(0);
      expect(server.output()).toContain('shutting down');
    } finally {
      await server.stop('SIGKILL');
    }
  });
});
