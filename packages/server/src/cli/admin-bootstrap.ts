import type { App } from '../app.js';

/**
 * At a deployment's first start, with no admin key yet, one is made and printed once to
 * the person at the terminal, like the demo project's keys. When the output is a log
 * (JSON lines, as off a terminal and in a container), no key is made: a key printed there
 * would live on in every place the log is shipped to, and a line that is not JSON breaks
 * the collector. The log says how to make one instead: `ordercast admin create-key`
 * (in a container: `podman exec … ordercast admin create-key`).
 */
export async function announceFirstAdminKey(app: App, toTerminal: boolean): Promise<void> {
  if (!toTerminal) {
    if ((await app.adminKeys.list()).length === 0) {
      app.logger.warn(
        { adminKeys: 0 },
        'no admin key yet: `ordercast admin create-key` makes one and prints it once (in a container: `podman exec <container> ordercast admin create-key`); the admin API (/api/v2/admin/) needs it',
      );
    }
    return;
  }
  const created = await app.adminKeys.bootstrap();
  if (!created) return;
  app.logger.warn(
    { adminKeyId: created.id, prefix: created.prefix },
    'first start: created an admin key for /api/v2/admin/ and printed it once on stdout; roll it with `ordercast admin rotate-key` if the console is shared',
  );
  process.stdout.write(
    [
      '',
      '  Admin key (shown once; only its hash is stored):',
      `    ${created.key}`,
      '  It provisions projects and keys over /api/v2/admin/ (docs/operations.md, "The admin API").',
      '  Store it in your secrets manager now. Lost: `ordercast admin create-key` makes another.',
      '',
      '',
    ].join('\n'),
  );
}
