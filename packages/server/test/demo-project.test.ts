import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresSchema, databaseUrlForTests } from './helpers/databases.js';
import { waitFor } from './helpers/realtime.js';
import { runCli, startServerProcess } from './helpers/server-process.js';
import { serveOnATerminal } from './helpers/terminal.js';

/**
 * The demo project's keys are shown once, so they go to a person at a terminal and
 * nowhere else: not into a JSON log, not on PostgreSQL, not with NODE_ENV=production.
 * `script` (util-linux, in every Debian) gives the server a real pseudo-terminal.
 */
const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-demo-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the demo project', () => {
  it('is made on a terminal with SQLite: its keys and a sign-in link are printed once, and the key works', async () => {
    const dir = dataDir();
    const output = await serveOnATerminal({ ORDERCAST_DATA_DIR: dir });
    expect(output).toContain('A demo project was created (lifecycle "onramp")');
    const secretKey = /secret key\s+(sk_\w+)/.exec(output)?.[1];
    expect(secretKey).toMatch(/^sk_\w{40}$/);
    expect(output).toMatch(new RegExp(`Dashboard: http://127\\.0\\.0\\.1:\\d+/dashboard#key=${secretKey}`));
    const listed = JSON.parse(runCli(['projects', 'list', '--data-dir', dir, '--json']).stdout);
    expect(listed.map((p: { name: string }) => p.name)).toEqual(['Demo shop']);
  });

  it('is not made when the output is a log (JSON lines): no key anywhere, and the Dashboard URL is a log line', async () => {
    const dir = dataDir();
    const server = await startServerProcess(['--data-dir', dir], { ORDERCAST_LOG_FORMAT: 'json' });
    try {
      await waitFor(() => server.output().includes('"dashboardUrl"'), 'the dashboard log line');
      const lines = server
        .output()
        .split('\n')
        .filter((line) => line.trim() !== '');
      // Every line is JSON: nothing printed into the stream a log collector parses.
      const records = lines.map((line) => JSON.parse(line));
      expect(server.output()).not.toMatch(/sk_|pk_|tks_|#key=/);
      expect(records.find((r) => r.dashboardUrl).dashboardUrl).toBe(`${server.baseUrl}/dashboard`);
      expect(records.find((r) => r.demoProject)).toMatchObject({ demoProject: 'its keys are printed only to a terminal, never into a log' });
      expect(JSON.parse(runCli(['projects', 'list', '--data-dir', dir, '--json']).stdout)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('is not made with NODE_ENV=production, even on a terminal', async () => {
    const dir = dataDir();
    const output = await serveOnATerminal({ ORDERCAST_DATA_DIR: dir, NODE_ENV: 'production' }, /no demo project/);
    expect(output).not.toMatch(/sk_|#key=/);
    expect(output).toContain('no demo project (NODE_ENV=production)');
    expect(output).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard(?!#)/);
    expect(JSON.parse(runCli(['projects', 'list', '--data-dir', dir, '--json']).stdout)).toEqual([]);
  });

  it.skipIf(!databaseUrlForTests())('is not made on PostgreSQL, even on a terminal', async () => {
    const schema = await createPostgresSchema();
    const output = await serveOnATerminal({ ORDERCAST_DATA_DIR: dataDir(), ORDERCAST_DATABASE_URL: schema.url }, /no demo project/);
    expect(output).not.toMatch(/sk_|#key=/);
    expect(output).toContain('no demo project (never on PostgreSQL)');
    expect(JSON.parse(runCli(['projects', 'list', '--database-url', schema.url, '--json']).stdout)).toEqual([]);
    await schema.drop();
  });
});
