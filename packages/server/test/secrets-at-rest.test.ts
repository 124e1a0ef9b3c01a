import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../src/core.js';
import { loadConfig } from '../src/config.js';
import { createPostgresSchema, testDialects } from './helpers/databases.js';
import { waitFor } from './helpers/realtime.js';
import { runCli } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const silent = pino({ level: 'silent' });

function newKey(): string {
  return randomBytes(32).toString('base64');
}

/** What a merchant backend does with the token secret: sign its own user token. */
async function merchantToken(secret: string, projectId: string, user: string, seconds = 600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ pid: projectId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user)
    .setIssuedAt(now)
    .setExpirationTime(now + seconds)
    .sign(new TextEncoder().encode(secret));
}

/** Every form in which a secret could sit in the database: as shown, and without its prefix. */
function forms(secret: string): string[] {
  return [secret, secret.replace(/^(whsec_|tks_)/, '')];
}

describe.each(testDialects)('secrets at rest (%s)', (dialect) => {
  const encryptionKey = newKey();
  let server: TestServer;
  beforeAll(async () => {
    // SQLite uses the key file it creates; PostgreSQL needs the variable.
    server = await startTestServer(dialect, {
      ORDERCAST_WEBHOOK_DISPATCH: 'false',
      ...(dialect === 'postgres' ? { ORDERCAST_ENCRYPTION_KEY: encryptionKey } : {}),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('stores no token secret and no webhook signing secret in plain text', async () => {
    const project = await server.createProject();
    const key = project.secretKey;
    // Custom headers often carry the receiver's credentials: they are stored encrypted too.
    const receiverToken = `erp-${randomBytes(24).toString('hex')}`;
    const endpoint = await server.request('POST', '/api/v2/webhook-endpoints', {
      key,
      body: { url: 'https://receiver.example.com/hook', headers: { Authorization: `Bearer ${receiverToken}`, 'X-Api-Key': `${receiverToken}-2` } },
    });
    expect(endpoint.status).toBe(201);
    const rotated = await server.request('POST', `/api/v2/webhook-endpoints/${endpoint.body.id}/rotate-secret`, { key, body: { graceSeconds: 3600 } });
    expect(rotated.status).toBe(200);
    const { tokenSecret: newTokenSecret } = await server.app.projects.rotateTokenSecret(project.project.id, 3600);
    const secrets = [project.tokenSecret, newTokenSecret, endpoint.body.secret as string, rotated.body.secret as string, receiverToken];
    for (const secret of secrets) expect(secret.length).toBeGreaterThan(20);

    let raw: string;
    if (dialect === 'sqlite') {
      // Every byte of the database files: the main file and its write-ahead log.
      const files = readdirSync(server.dataDir).filter((f) => f.startsWith('ordercast.db'));
      expect(files).toContain('ordercast.db');
      raw = files.map((f) => readFileSync(path.join(server.dataDir, f)).toString('latin1')).join('\n');
      const keyFile = path.join(server.dataDir, 'encryption.key');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    } else {
      const client = new pg.Client({ connectionString: server.databaseUrl });
      await client.connect();
      try {
        const rows = [...(await client.query('select * from projects')).rows, ...(await client.query('select * from webhook_endpoints')).rows];
        raw = JSON.stringify(rows);
        expect(rows.length).toBeGreaterThanOrEqual(2);
      } finally {
        await client.end();
      }
    }
    for (const secret of secrets) for (const form of forms(secret)) expect(raw.includes(form), `${form.slice(0, 8)}… is stored in plain text`).toBe(false);
    expect(raw).toContain('enc:v1:');

    // And they still work: the merchant signs tokens with either token secret during the grace.
    for (const secret of [project.tokenSecret, newTokenSecret]) {
      const token = await merchantToken(secret, project.project.id, 'u1');
      expect((await server.request('GET', '/api/v2/orders', { key: token })).status).toBe(200);
    }
  });

  it('rotates the token secret with overlap: old tokens work until the grace ends, then get token_expired', async () => {
    const project = await server.createProject();
    const oldToken = (await server.request('POST', '/api/v2/tokens', { key: project.secretKey, body: { userExternalId: 'u1', expiresIn: 600 } })).body.token;
    const databaseFlags = dialect === 'sqlite' ? ['--data-dir', server.dataDir] : ['--database-url', server.databaseUrl as string];
    // From the CLI: another process than the server.
    const result = runCli(['projects', 'rotate-key', '--project', project.project.id, '--kind', 'token', '--grace', '3', '--json', ...databaseFlags], {
      ...(dialect === 'postgres' ? { ORDERCAST_ENCRYPTION_KEY: encryptionKey } : {}),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rotated = JSON.parse(result.stdout);
    expect(rotated).toMatchObject({ projectId: project.project.id, kind: 'token' });
    expect(rotated.tokenSecret).toMatch(/^tks_/);
    expect(rotated.tokenSecret).not.toBe(project.tokenSecret);

    expect((await server.request('GET', '/api/v2/orders', { key: oldToken })).status).toBe(200);
    const newToken = await merchantToken(rotated.tokenSecret, project.project.id, 'u1');
    // The server sees the rotation within its 5 s cache.
    await waitFor(async () => (await server.request('GET', '/api/v2/orders', { key: newToken })).status === 200, 'the new secret to be accepted', 8_000);
    // Tokens the server issues from now on are signed with the new secret.
    const issued = (await server.request('POST', '/api/v2/tokens', { key: project.secretKey, body: { userExternalId: 'u2' } })).body.token;
    await expect(jwtVerify(issued, new TextEncoder().encode(rotated.tokenSecret))).resolves.toBeTruthy();
    await waitFor(async () => (await server.request('GET', '/api/v2/orders', { key: oldToken })).status === 401, 'the old token to lapse', 10_000);
    const refused = await server.request('GET', '/api/v2/orders', { key: oldToken });
    expect(refused.body.error.code).toBe('token_expired');
    expect(refused.body.error.message).toMatch(/rotated out/);
    expect((await server.request('GET', '/api/v2/orders', { key: newToken })).status).toBe(200);
    expect((await server.request('GET', '/api/v2/orders', { key: issued })).status).toBe(200);
  });

  it('says the truth about how keys and secrets are stored when creating a project', () => {
    const databaseFlags = dialect === 'sqlite' ? ['--data-dir', server.dataDir] : ['--database-url', server.databaseUrl as string];
    const result = runCli(['projects', 'create', '--name', 'Honest', '--lifecycle', 'onramp', ...databaseFlags], {
      ...(dialect === 'postgres' ? { ORDERCAST_ENCRYPTION_KEY: encryptionKey } : {}),
    });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('only their hashes are stored');
    expect(result.stdout).toContain('the keys are stored only as hashes, and the token secret encrypted');
  });
});

describe('the encryption key (sqlite)', () => {
  let dir: string;
  const cores: Core[] = [];
  const open = async (env: Record<string, string>) => {
    const core = await createCore(loadConfig({ dataDir: dir }, env), { logger: silent });
    cores.push(core);
    return core;
  };
  const closeAll = async () => {
    for (const core of cores.splice(0)) await core.close();
  };
  // A database of its own for each test.
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-keys-'));
  });
  afterEach(async () => {
    await closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const storedTokenSecret = async (core: Core, projectId: string) =>
    (await core.store.db.selectFrom('projects').select('token_secret').where('id', '=', projectId).executeTakeFirstOrThrow()).token_secret;

  it('encrypts secrets stored before encryption existed at the next start', async () => {
    const first = await open({ ORDERCAST_ENCRYPTION_KEY: newKey() });
    const { project } = await first.projects.create({ name: 'Old', lifecycle: 'onramp' });
    const endpoint = await first.webhookEndpoints.create(project.id, { url: 'https://receiver.example.com/hook' });
    // What a database written by an earlier version holds: the secrets as they are.
    const plainTokenSecret = `tks_${'p'.repeat(48)}`;
    await first.store.db.updateTable('projects').set({ token_secret: plainTokenSecret }).where('id', '=', project.id).execute();
    await first.store.db
      .updateTable('webhook_endpoints')
      .set({ secrets: JSON.stringify([{ secret: endpoint.secret, expiresAt: null }]) })
      .where('id', '=', endpoint.endpoint.id)
      .execute();
    const key = newKey();
    await closeAll();

    const second = await open({ ORDERCAST_ENCRYPTION_KEY: key });
    expect(await storedTokenSecret(second, project.id)).toMatch(/^enc:v1:/);
    const storedEndpoint = await second.store.db
      .selectFrom('webhook_endpoints')
      .select('secrets')
      .where('id', '=', endpoint.endpoint.id)
      .executeTakeFirstOrThrow();
    expect(storedEndpoint.secrets).not.toContain(endpoint.secret.slice(6));
    // The same secrets, now read through the cipher.
    const principal = await second.auth.verifyUserToken(await merchantToken(plainTokenSecret, project.id, 'u1'));
    expect(principal).toMatchObject({ projectId: project.id, userExternalId: 'u1' });
    expect(second.webhookEndpoints.signingSecrets(await second.webhookEndpoints.getRecord(project.id, endpoint.endpoint.id))).toEqual([endpoint.secret]);
  });

  it('changes the key with ORDERCAST_ENCRYPTION_KEY_PREVIOUS, and refuses to start with a key that opens nothing', async () => {
    const keyA = newKey();
    const keyB = Buffer.from(newKey(), 'base64').toString('hex');
    const first = await open({ ORDERCAST_ENCRYPTION_KEY: keyA });
    const created = await first.projects.create({ name: 'Keys', lifecycle: 'onramp' });
    const endpoint = await first.webhookEndpoints.create(created.project.id, {
      url: 'https://receiver.example.com/hook',
      headers: { Authorization: 'Bearer receiver-credential' },
    });
    const sealedWithA = await storedTokenSecret(first, created.project.id);
    await closeAll();

    const second = await open({ ORDERCAST_ENCRYPTION_KEY: keyB, ORDERCAST_ENCRYPTION_KEY_PREVIOUS: keyA });
    const sealedWithB = await storedTokenSecret(second, created.project.id);
    expect(sealedWithB.split(':')[2]).not.toBe(sealedWithA.split(':')[2]);
    expect(second.secrets.currentKeyId).toBe(sealedWithB.split(':')[2]);
    await closeAll();

    // The previous key can go once the secrets were re-encrypted.
    const third = await open({ ORDERCAST_ENCRYPTION_KEY: keyB });
    await expect(third.auth.verifyUserToken(await merchantToken(created.tokenSecret, created.project.id, 'u1'))).resolves.toMatchObject({
      userExternalId: 'u1',
    });
    expect(third.webhookEndpoints.signingSecrets(await third.webhookEndpoints.getRecord(created.project.id, endpoint.endpoint.id))).toEqual([endpoint.secret]);
    // The custom headers were re-encrypted with the new key too.
    expect(third.webhookEndpoints.customHeaders(await third.webhookEndpoints.getRecord(created.project.id, endpoint.endpoint.id))).toEqual({
      Authorization: 'Bearer receiver-credential',
    });
    await closeAll();

    await expect(open({ ORDERCAST_ENCRYPTION_KEY: newKey() })).rejects.toThrow(/neither ORDERCAST_ENCRYPTION_KEY nor ORDERCAST_ENCRYPTION_KEY_PREVIOUS/);
  });

  it('refuses to start on a stored secret that was altered (GCM authenticates it)', async () => {
    const key = newKey();
    const first = await open({ ORDERCAST_ENCRYPTION_KEY: key });
    const { project } = await first.projects.create({ name: 'Tamper', lifecycle: 'onramp' });
    const sealed = await storedTokenSecret(first, project.id);
    const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-1);
    await first.store.db.updateTable('projects').set({ token_secret: flipped }).where('id', '=', project.id).execute();
    await closeAll();
    await expect(open({ ORDERCAST_ENCRYPTION_KEY: key })).rejects.toThrow(/does not decrypt: it was altered or truncated/);
  });

  it('explains a malformed key', async () => {
    await expect(open({ ORDERCAST_ENCRYPTION_KEY: 'not-a-key' })).rejects.toThrow(
      /ORDERCAST_ENCRYPTION_KEY must be 32 random bytes, written as 64 hex digits or as base64/,
    );
    await expect(open({ ORDERCAST_ENCRYPTION_KEY: randomBytes(16).toString('base64') })).rejects.toThrow(/32 random bytes/);
  });
});

describe.skipIf(!testDialects.includes('postgres'))('the encryption key (postgres)', () => {
  it('without ORDERCAST_ENCRYPTION_KEY warns loudly at every start, and encrypts everything once the key is set', async () => {
    const schema = await createPostgresSchema();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ordercast-pgkey-'));
    try {
      const plain = await createCore(loadConfig({ dataDir, databaseUrl: schema.url }, {}), { logger });
      const created = await plain.projects.create({ name: 'No key', lifecycle: 'onramp' });
      const stored = await plain.store.db.selectFrom('projects').select('token_secret').executeTakeFirstOrThrow();
      await plain.close();
      expect(lines.join('\n')).toMatch(/SECURITY WARNING: ORDERCAST_ENCRYPTION_KEY is not set.*PLAIN TEXT/);
      // No key is made up on PostgreSQL: nothing was written to the data directory.
      expect(readdirSync(dataDir)).toEqual([]);
      expect(stored.token_secret).toBe(created.tokenSecret);

      lines.length = 0;
      const sealed = await createCore(loadConfig({ dataDir, databaseUrl: schema.url }, { ORDERCAST_ENCRYPTION_KEY: newKey() }), { logger });
      try {
        const after = await sealed.store.db.selectFrom('projects').select('token_secret').executeTakeFirstOrThrow();
        expect(after.token_secret).toMatch(/^enc:v1:/);
        expect(lines.join('\n')).not.toContain('SECURITY WARNING');
        await expect(sealed.auth.verifyUserToken(await merchantToken(created.tokenSecret, created.project.id, 'u1'))).resolves.toMatchObject({
          userExternalId: 'u1',
        });
      } finally {
        await sealed.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await schema.drop();
    }
  });
});
