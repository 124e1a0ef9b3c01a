import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/realtime.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';

/**
 * The polling snippet our users run today (reference document 000), unchanged but
 * for host, key and order id, against a real `ordercast serve` process.
 */
describe('reference document 000: the polling snippet', () => {
  let dataDir: string;
  let server: ServerProcess;
  let secretKey: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-ref000-'));
    const created = runCli(['projects', 'create', '--name', 'Onramp', '--lifecycle', 'onramp', '--json', '--data-dir', dataDir]);
    expect(created.code).toBe(0);
    secretKey = JSON.parse(created.stdout).secretKey;
    server = await startServerProcess(['--data-dir', dataDir, '--no-demo']);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('polls until the order completes and prints the final status', async () => {
    const api = (method: string, p: string, body?: unknown) =>
      fetch(`${server.baseUrl}${p}`, {
        method,
        headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then((r) => r.json() as Promise<any>);
    const order = await api('POST', '/api/v2/orders', { status: 'PROCESSING', amount: '100', currency: 'USD' });

    const snippet = readFileSync(new URL('./fixtures/reference-000-poll.js', import.meta.url), 'utf8')
      .replace('https://OZZOBiT.com', server.baseUrl)
      .replace('YOUR_SECRET_API_KEY', secretKey)
      .replace("'order-id-123'", `'${order.id}'`);
    const child = spawn(process.execPath, ['--input-type=module', '-e', snippet]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

    // Once the first poll has seen PROCESSING, finish the order.
    await waitFor(() => stdout.includes('Attempt 1: Status = PROCESSING'), 'the first poll', 10_000);
    await api('POST', `/api/v2/orders/${order.id}/status`, { status: 'PENDING_DELIVERY' });
    await api('POST', `/api/v2/orders/${order.id}/status`, { status: 'COMPLETED' });

    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('Attempt 1: Status = PROCESSING');
    expect(lines).toContain('Attempt 2: Status = COMPLETED');
    expect(lines.at(-1)).toBe('Final status: COMPLETED');
  });
});
