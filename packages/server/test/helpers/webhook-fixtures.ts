import { afterAll, beforeAll } from 'vitest';
import type { TestDialect } from './databases.js';
import { startTestServer, type TestServer } from './test-server.js';
import { startReceiver, type WebhookReceiver } from './webhook-receiver.js';

export interface WebhookFixtures {
  /** One in-process server for the whole block, started with the block's settings. */
  readonly server: TestServer;
  /** A receiver that is closed with the block. */
  receiver(...args: Parameters<typeof startReceiver>): Promise<WebhookReceiver>;
}

/**
 * The setup the webhook test files share, registered in the calling `describe` block:
 * a server with `env` started before its tests, and the receivers its tests open,
 * closed after them together with the server.
 */
export function webhookFixtures(dialect: TestDialect, env: Record<string, string>): WebhookFixtures {
  let server: TestServer | undefined;
  const receivers: WebhookReceiver[] = [];
  beforeAll(async () => {
    server = await startTestServer(dialect, env);
  });
  afterAll(async () => {
    for (const receiver of receivers) await receiver.close();
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('the webhook test server is not started yet: use it inside a test');
      return server;
    },
    async receiver(...args) {
      const receiver = await startReceiver(...args);
      receivers.push(receiver);
      return receiver;
    },
  };
}
