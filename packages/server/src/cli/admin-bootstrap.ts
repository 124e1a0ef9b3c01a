import type { App } from '../app.js';

/**
 * At a deployment's first start, with no admin key yet, one is made and printed once, to
 * the console (stdout), where the operator of a container finds it in its logs. The
 * structured log says only that it was made, and by its prefix: log pipelines keep lines
 * longer and in more places than a console. Lost, it is replaced with
 * `ordercast admin create-key` (in the container: `podman exec … ordercast admin create-key`).
 */
export async function announceFirstAdminKey(app: App): Promise<void> {
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
