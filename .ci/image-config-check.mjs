// Checks the built image's configuration, read from `podman image inspect --format json` on
// stdin: what docs/deploy.md promises operators.   … | node .ci/image-config-check.mjs <version> <source URL>
import { readFileSync } from 'node:fs';

const [version, sourceUrl] = process.argv.slice(2);
const [image] = JSON.parse(readFileSync(0, 'utf8'));
const config = image.Config;
const env = Object.fromEntries(config.Env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
const labels = config.Labels ?? {};
// podman keeps a docker-format image's HEALTHCHECK beside Config, not in it.
const healthcheck = image.Healthcheck ?? config.Healthcheck;

const checks = [
  ['runs as a non-root user', config.User && !['root', '0', '0:0'].includes(config.User), config.User],
  ['keeps its data in the /data volume', Object.hasOwn(config.Volumes ?? {}, '/data') && env.ORDERCAST_DATA_DIR === '/data', env.ORDERCAST_DATA_DIR],
  ['listens on every interface', env.ORDERCAST_HOST === '0.0.0.0', env.ORDERCAST_HOST],
  [
    'exposes the API port and the metrics port',
    Object.hasOwn(config.ExposedPorts ?? {}, '8080/tcp') && Object.hasOwn(config.ExposedPorts ?? {}, '9464/tcp'),
    Object.keys(config.ExposedPorts ?? {}).join(' '),
  ],
  ['leaves /metrics on the loopback unless configured', env.ORDERCAST_METRICS_HOST === undefined, env.ORDERCAST_METRICS_HOST ?? 'unset'],
  ['has a HEALTHCHECK that needs no curl', healthcheck?.Test?.[0] === 'CMD' && healthcheck.Test[1] === 'node', healthcheck?.Test?.slice(0, 2).join(' ')],
  ['ENTRYPOINT is the ordercast CLI', JSON.stringify(config.Entrypoint) === '["ordercast"]', JSON.stringify(config.Entrypoint)],
  ['CMD is serve', JSON.stringify(config.Cmd) === '["serve"]', JSON.stringify(config.Cmd)],
  ['stops with SIGTERM', (config.StopSignal ?? 'SIGTERM') === 'SIGTERM', config.StopSignal],
  ['OCI label: source', labels['org.opencontainers.image.source'] === sourceUrl, labels['org.opencontainers.image.source']],
  ['OCI label: version', labels['org.opencontainers.image.version'] === version, labels['org.opencontainers.image.version']],
  ['OCI label: licences', labels['org.opencontainers.image.licenses'] === 'Apache-2.0', labels['org.opencontainers.image.licenses']],
];
let failed = false;
for (const [what, ok, value] of checks) {
  console.log(`${ok ? 'ok ' : 'FAILED'}  ${what} (${value})`);
  failed ||= !ok;
}
process.exit(failed ? 1 : 0);
