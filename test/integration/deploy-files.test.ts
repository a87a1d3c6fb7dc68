import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../infra/paths.js';
import { freePort } from '../../infra/services/ports.js';
import { cachedToolPath, HELM, KUBECONFORM, TEMPORAL_SERVER, type GoTool } from '../../infra/services/tools.js';
import { hashApiKey, parseApiKeys } from '../../worker/api-keys.js';
import { WORKER_NODE_FLAGS } from '../../worker/node-flags.js';
import { runCli } from '../support/cli-process.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { spawnWorker } from '../support/worker-process.js';

/**
 * The deploy files (infra/deploy), checked offline: the Helm chart linted and rendered by Helm, the manifests
 * validated strictly by kubeconform against the Kubernetes schemas kept in the repo, the compose file against the
 * Compose specification's schema (python jsonschema), and what each must say about roles, secrets, probes, drain
 * and the image.
 */
const DEPLOY = path.join(projectRoot, 'infra', 'deploy');
const CHART = path.join(DEPLOY, 'helm', 'fabrica');
const SCHEMAS = path.join(DEPLOY, 'schemas');
const PRODUCTION_VALUES = path.join(projectRoot, 'test', 'fixtures', 'deploy', 'values-production.yaml');
const VENV = process.env.FABRICA_PYTHON_VENV ?? path.join(homedir(), '.cache', 'fabrica', 'venv');
const CHECK = path.join(projectRoot, 'test', 'support', 'deploy_check.py');

/** Runs a program to its end, collecting its output. */
function run(cmd: string, args: string[], cwd = projectRoot): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, HELM_CACHE_HOME: tmp('helm-cache') } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}

/** A built tool, or a failure that says how to build it. */
function tool(t: GoTool): string {
  const bin = cachedToolPath(t);
  if (!existsSync(bin)) throw new Error(`${t.name} ${t.version} is not built at ${bin}: run \`npx fabrica tools\``);
  return bin;
}

function python(): string {
  const bin = path.join(VENV, 'bin', 'python');
  if (!existsSync(bin)) throw new Error(`no Python virtualenv at ${VENV}: run .ci/run (it creates it)`);
  return bin;
}

let dir: string;
function tmp(name: string): string {
  return path.join(dir, name);
}
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fabrica-deploy-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every YAML document of a file, through the venv's PyYAML. */
async function yamlDocs(file: string): Promise<Obj[]> {
  const { code, out } = await run(python(), [CHECK, 'to-json', file]);
  if (code !== 0) throw new Error(`reading ${file} failed:\n${out}`);
  return JSON.parse(out) as Obj[];
}

/** `helm template` of the chart with extra arguments; the rendered file's path. */
async function render(name: string, args: string[] = []): Promise<{ file: string; docs: Obj[] }> {
  const { code, out } = await run(tool(HELM), ['template', 'rel', CHART, '--namespace', 'fabrica', ...args]);
  if (code !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${out}`);
  const file = tmp(`${name}.yaml`);
  writeFileSync(file, out);
  return { file, docs: await yamlDocs(file) };
}

/** kubeconform -strict against the repo's schemas only (no download): its JSON report. */
async function kubeconform(file: string) {
  const { code, out } = await run(tool(KUBECONFORM), [
    '-strict',
    '-summary',
    '-output',
    'json',
    '-schema-location',
    path.join(SCHEMAS, 'kubernetes', '{{ .ResourceKind }}{{ .KindSuffix }}.json'),
    file,
  ]);
  const report = JSON.parse(out) as {
    resources?: { kind: string; status: string; msg: string }[];
    summary: { valid: number; invalid: number; errors: number; skipped: number };
  };
  return { code, report, out };
}

const byKind = (docs: Obj[], kind: string) => docs.filter((d) => d.kind === kind);
const named = (docs: Obj[], kind: string, name: string): Obj => {
  const found = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return found;
};
const container = (deployment: Obj): Obj => deployment.spec.template.spec.containers[0] as Obj;
const envOf = (deployment: Obj): Record<string, Obj> =>
  Object.fromEntries((container(deployment).env as Obj[]).map((e) => [e.name as string, e]));
const secretItems = (deployment: Obj): string[] =>
  (
    ((deployment.spec.template.spec.volumes as Obj[]).find((v) => v.name === 'secrets')?.secret.items ?? []) as Obj[]
  ).map((i) => i.key as string);

describe('Helm chart', () => {
  let defaults: { file: string; docs: Obj[] };
  let production: { file: string; docs: Obj[] };

  beforeAll(async () => {
    defaults = await render('defaults');
    production = await render('production', ['-f', PRODUCTION_VALUES]);
  });

  it('passes helm lint with the default values and with the production values', async () => {
    for (const args of [[], ['-f', PRODUCTION_VALUES]]) {
      const { code, out } = await run(tool(HELM), ['lint', '--strict', CHART, ...args]);
      expect({ code, out }).toMatchObject({ code: 0, out: expect.stringContaining('0 chart(s) failed') });
    }
  });

  it('renders only manifests valid against the Kubernetes schemas (kubeconform -strict)', async () => {
    for (const { file, docs } of [defaults, production]) {
      const { code, report, out } = await kubeconform(file);
      expect({ code, out }).toMatchObject({ code: 0 });
      expect(report.summary).toEqual({ valid: docs.length, invalid: 0, errors: 0, skipped: 0 });
    }
  });

  it('has the check reject a broken manifest: an unknown field, a wrong type', async () => {
    const broken = structuredClone(named(defaults.docs, 'Deployment', 'rel-fabrica-worker-cloud'));
    container(broken).livenessprobe = container(broken).livenessProbe; // a typo strict mode must catch
    const wrongType = structuredClone(named(defaults.docs, 'HorizontalPodAutoscaler', 'rel-fabrica-worker-cloud'));
    wrongType.spec.maxReplicas = 'six';
    for (const [name, doc, said] of [
      ['unknown-field', broken, 'livenessprobe'],
      ['wrong-type', wrongType, 'maxReplicas'],
    ] as const) {
      const file = tmp(`${name}.json`);
      writeFileSync(file, JSON.stringify(doc));
      const { code, report } = await kubeconform(file);
      expect(code).toBe(1);
      expect(report.summary.invalid).toBe(1);
      expect(report.resources?.[0]?.msg).toContain(said);
    }
  });

  it('runs one worker Deployment per role, each with its role, autoscaler and disruption budget', () => {
    for (const { docs } of [defaults, production]) {
      const workers = byKind(docs, 'Deployment').filter((d) => d.metadata.name !== 'rel-fabrica-api');
      expect(workers.map((d) => envOf(d).FABRICA_WORKER_ROLE?.value as string).sort()).toEqual(['cloud', 'edge']);
      for (const w of workers) {
        const name = w.metadata.name as string;
        const labels = w.spec.template.metadata.labels as Obj;
        expect(w.spec.selector.matchLabels).toEqual(labels);
        const hpa = named(docs, 'HorizontalPodAutoscaler', name);
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
        expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
        // The autoscaler owns the replica count: a Deployment's own would fight it at every upgrade.
        expect(w.spec.replicas).toBeUndefined();
        expect(named(docs, 'PodDisruptionBudget', name).spec.selector.matchLabels).toEqual(labels);
      }
    }
    expect(named(production.docs, 'HorizontalPodAutoscaler', 'rel-fabrica-worker-cloud').spec).toMatchObject({
      minReplicas: 4,
      maxReplicas: 12,
    });
  });

  it('hands each role only its own database: the edge no DATABASE_URL, the cloud no INVENTORY_DATABASE_URL', () => {
    const { docs } = production;
    const cloud = named(docs, 'Deployment', 'rel-fabrica-worker-cloud');
    const edge = named(docs, 'Deployment', 'rel-fabrica-worker-edge');
    const api = named(docs, 'Deployment', 'rel-fabrica-api');
    const mentions = (d: Obj, setting: string) =>
      Object.keys(envOf(d)).some((n) => n === setting || n === `${setting}_FILE`) || secretItems(d).includes(setting);
    expect(envOf(cloud).DATABASE_URL_FILE?.value).toBe('/etc/fabrica/secrets/DATABASE_URL');
    expect(secretItems(cloud)).toContain('DATABASE_URL');
    expect(mentions(cloud, 'INVENTORY_DATABASE_URL')).toBe(false);
    expect(envOf(edge).INVENTORY_DATABASE_URL_FILE?.value).toBe('/etc/fabrica/secrets/INVENTORY_DATABASE_URL');
    expect(mentions(edge, 'DATABASE_URL')).toBe(false);
    // The records database is on the plant's network: the edge extracts it, the cloud never connects to it.
    expect(envOf(edge).RECORDS_DATABASE_URL_FILE?.value).toBe('/etc/fabrica/secrets/RECORDS_DATABASE_URL');
    expect(mentions(cloud, 'RECORDS_DATABASE_URL')).toBe(false);
    expect(mentions(api, 'INVENTORY_DATABASE_URL')).toBe(false);
    expect(secretItems(api).sort()).toEqual([
      'DATABASE_URL',
      'FABRICA_API_KEYS',
      'FABRICA_SESSION_SECRET',
      'TEMPORAL_API_KEY',
    ]);
    // No secret lands in the ConfigMap, whose settings every process gets.
    const config = byKind(docs, 'ConfigMap')[0]!.data as Obj;
    expect(Object.keys(config).filter((k) => /DATABASE_URL|API_KEY|SECRET/.test(k))).toEqual([]);
    expect(config).toMatchObject({ FABRICA_WORKER_BUILD_ID: '2026.12.1' });
    for (const d of [cloud, edge, api]) expect(envOf(d).TEMPORAL_TLS?.value).toBe('true');
    // Every *_FILE setting points at a file the pod's secret volume holds.
    for (const d of [cloud, edge, api])
      for (const [name, e] of Object.entries(envOf(d)))
        if (name.endsWith('_FILE') && (e.value as string).startsWith('/etc/fabrica/secrets/'))
          expect(secretItems(d)).toContain(path.basename(e.value as string));
  });

  it('gives the API replicas one session secret: the one given, else one generated for the release', () => {
    const secretOf = (docs: Obj[]) => byKind(docs, 'Secret')[0]!.stringData as Obj;
    expect(secretOf(production.docs).FABRICA_SESSION_SECRET).toBe('0123456789abcdef0123456789abcdef');
    expect(secretOf(defaults.docs).FABRICA_SESSION_SECRET).toMatch(/^[A-Za-z0-9]{48}$/);
    const api = named(defaults.docs, 'Deployment', 'rel-fabrica-api');
    expect(api.spec.replicas).toBeGreaterThan(1);
    expect(secretItems(api)).toEqual(['FABRICA_SESSION_SECRET']);
    expect(envOf(api).FABRICA_SESSION_SECRET_FILE?.value).toBe('/etc/fabrica/secrets/FABRICA_SESSION_SECRET');
  });

  it('probes the API on /health/live and /health/ready and the workers on their health port', () => {
    for (const { docs } of [defaults, production]) {
      const api = container(named(docs, 'Deployment', 'rel-fabrica-api'));
      expect(api.livenessProbe.httpGet).toEqual({ path: '/api/v1/health/live', port: 'http' });
      expect(api.readinessProbe.httpGet).toEqual({ path: '/api/v1/health/ready', port: 'http' });
      for (const w of byKind(docs, 'Deployment').filter((d) => d.metadata.name !== 'rel-fabrica-api')) {
        const c = container(w);
        const healthPort = (c.ports as Obj[]).find((p) => p.name === 'health')!.containerPort as number;
        expect(String(healthPort)).toBe(envOf(w).FABRICA_WORKER_HEALTH_PORT!.value);
        expect(c.livenessProbe.httpGet).toEqual({ path: '/live', port: 'health' });
        expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'health' });
        // The pod outlives the drain: the grace, then the worker's 10 s force time.
        const grace = Number(envOf(w).FABRICA_WORKER_SHUTDOWN_GRACE_SECONDS!.value);
        expect(w.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(grace + 10);
      }
    }
    const cloud = named(production.docs, 'Deployment', 'rel-fabrica-worker-cloud');
    expect(envOf(cloud).FABRICA_WORKER_SHUTDOWN_GRACE_SECONDS!.value).toBe('120');
  });

  it('runs every pod as non-root, without a service account token', () => {
    for (const { docs } of [defaults, production]) {
      const pods = [...byKind(docs, 'Deployment'), ...byKind(docs, 'Job')].map((d) => d.spec.template.spec as Obj);
      expect(pods.length).toBe(byKind(docs, 'Deployment').length + byKind(docs, 'Job').length);
      for (const pod of pods) {
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number) });
        expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(pod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false });
      }
    }
  });

  it('prepares the Temporal cluster in a hook Job, which the production values turn off', () => {
    const [job] = byKind(defaults.docs, 'Job');
    expect(job!.metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(container(job!).args.slice(0, 3)).toEqual(['fabrica', 'temporal', 'prepare']);
    expect(byKind(production.docs, 'Job')).toEqual([]);
  });

  it('mounts a Temporal TLS Secret (CA, client certificate and key) into every pod, the prepare Job included', async () => {
    const { file, docs } = await render('temporal-mtls', [
      '--set',
      'temporal.tls.secretName=temporal-client-tls',
      '--set',
      'temporal.tls.serverName=frontend.temporal.example',
      '--set',
      'secret.data.TEMPORAL_API_KEY=key-123',
    ]);
    const pods = [...byKind(docs, 'Deployment'), ...byKind(docs, 'Job')];
    expect(pods.map((d) => d.metadata.name as string).sort()).toEqual([
      'rel-fabrica-api',
      'rel-fabrica-temporal-prepare',
      'rel-fabrica-worker-cloud',
      'rel-fabrica-worker-edge',
    ]);
    for (const d of pods) {
      const env = envOf(d);
      expect(
        Object.fromEntries(
          [
            'TEMPORAL_TLS',
            'TEMPORAL_TLS_SERVER_NAME',
            'TEMPORAL_TLS_CA_FILE',
            'TEMPORAL_TLS_CERT_FILE',
            'TEMPORAL_TLS_KEY_FILE',
          ].map((k) => [k, env[k]?.value]),
        ),
      ).toEqual({
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.example',
        TEMPORAL_TLS_CA_FILE: '/etc/fabrica/temporal-tls/ca.crt',
        TEMPORAL_TLS_CERT_FILE: '/etc/fabrica/temporal-tls/tls.crt',
        TEMPORAL_TLS_KEY_FILE: '/etc/fabrica/temporal-tls/tls.key',
      });
      const spec = d.spec.template.spec as Obj;
      expect((spec.volumes as Obj[]).find((v) => v.name === 'temporal-tls')?.secret.secretName).toBe(
        'temporal-client-tls',
      );
      expect((container(d).volumeMounts as Obj[]).find((m) => m.name === 'temporal-tls')).toMatchObject({
        mountPath: '/etc/fabrica/temporal-tls',
        readOnly: true,
      });
      // The API key reaches every process, as a file; the Job gets nothing else of the Secret.
      expect(env.TEMPORAL_API_KEY_FILE?.value).toBe('/etc/fabrica/secrets/TEMPORAL_API_KEY');
    }
    expect(secretItems(named(docs, 'Job', 'rel-fabrica-temporal-prepare'))).toEqual(['TEMPORAL_API_KEY']);
    expect((await kubeconform(file)).code).toBe(0);
    // Half a client certificate is refused at render time.
    const half = await run(tool(HELM), [
      'template',
      'rel',
      CHART,
      '--set',
      'temporal.tls.secretName=t',
      '--set',
      'temporal.tls.keyKey=',
    ]);
    expect(half.code).not.toBe(0);
    expect(half.out).toContain('certKey and keyKey go together');
  });

  it('installs the plant and the cloud apart: each cluster only its own roles', async () => {
    const plantSide = await render('plant', [
      '--set',
      'workers.cloud=null',
      '--set',
      'api.enabled=false',
      '--set',
      'prepare.enabled=false',
      '--set',
      'secret.data.INVENTORY_DATABASE_URL=postgres://f:pw@inventory:5432/inventory',
      '--set',
      'secret.data.DATABASE_URL=postgres://f:pw@warehouse:5432/fabrica',
    ]);
    expect(
      plantSide.docs
        .filter((d) => ['Deployment', 'Job', 'Service'].includes(d.kind as string))
        .map((d) => d.metadata.name as string),
    ).toEqual(['rel-fabrica-worker-edge']);
    // The warehouse URL, even when given, is mounted into no pod of the plant.
    for (const d of byKind(plantSide.docs, 'Deployment')) expect(secretItems(d)).not.toContain('DATABASE_URL');
    expect((await kubeconform(plantSide.file)).code).toBe(0);
    const cloudSide = await render('cloud', ['--set', 'workers.edge=null']);
    expect(
      byKind(cloudSide.docs, 'Deployment')
        .map((d) => d.metadata.name as string)
        .sort(),
    ).toEqual(['rel-fabrica-api', 'rel-fabrica-worker-cloud']);
  });

  it('leaves the Secret to an existing one when given, mounting only the keys it is told of', async () => {
    const { file, docs } = await render('existing-secret', [
      '--set',
      'secret.existingSecret=fabrica-managed',
      '--set',
      'secret.existingSecretKeys={DATABASE_URL,INVENTORY_DATABASE_URL}',
    ]);
    expect(byKind(docs, 'Secret')).toEqual([]);
    const edge = named(docs, 'Deployment', 'rel-fabrica-worker-edge');
    expect((edge.spec.template.spec.volumes as Obj[]).find((v) => v.secret)?.secret).toMatchObject({
      secretName: 'fabrica-managed',
      items: [{ key: 'INVENTORY_DATABASE_URL', path: 'INVENTORY_DATABASE_URL' }],
    });
    expect((await kubeconform(file)).code).toBe(0);
  });
});

describe('compose file', () => {
  const COMPOSE = path.join(DEPLOY, 'compose.yaml');
  let compose: Obj;
  beforeAll(async () => {
    [compose] = (await yamlDocs(COMPOSE)) as [Obj];
  });

  async function validate(file: string) {
    return run(python(), [CHECK, 'validate', path.join(SCHEMAS, 'compose-spec.json'), file]);
  }

  it('is valid against the Compose specification schema, and a broken variant is not', async () => {
    expect(await validate(COMPOSE)).toEqual({ code: 0, out: '' });
    const broken = structuredClone(compose);
    broken.services.api.restrat = 'always';
    broken.services['worker-edge'].depends_on.postgres.condition = 'service_ready';
    const file = tmp('compose-broken.yaml');
    writeFileSync(file, JSON.stringify(broken)); // JSON is YAML
    const { code, out } = await validate(file);
    expect(code).toBe(1);
    expect(out).toContain("'restrat' was unexpected");
    expect(out).toMatch(/^\$\.services\['worker-edge'\]\.depends_on: .*'service_ready'.* is not valid/m);
  });

  it('runs the whole stack, each dependency waited for by its health or completion', () => {
    const services = compose.services as Record<string, Obj>;
    expect(Object.keys(services).sort()).toEqual(
      [
        'api',
        'minio',
        'minio-setup',
        'postgres',
        'prometheus',
        'temporal',
        'temporal-prepare',
        'temporal-schema',
        'temporal-ui',
        'worker-cloud',
        'worker-edge',
      ].sort(),
    );
    for (const [name, s] of Object.entries(services))
      for (const [dep, { condition }] of Object.entries((s.depends_on ?? {}) as Record<string, Obj>)) {
        expect({ name, dep, exists: dep in services }).toEqual({ name, dep, exists: true });
        if (condition === 'service_healthy')
          expect({ dep, healthcheck: Boolean(services[dep]!.healthcheck) }).toEqual({ dep, healthcheck: true });
        if (condition === 'service_completed_successfully') expect(services[dep]!.restart).not.toBe('unless-stopped');
      }
    const version = TEMPORAL_SERVER.version.slice(1);
    expect(services.temporal!.image).toBe(`temporalio/server:${version}`);
    expect(services['temporal-schema']!.image).toMatch(
      new RegExp(`^temporalio/admin-tools:${version.replaceAll('.', '\\.')}-`),
    );
    for (const name of ['api', 'worker-cloud', 'worker-edge', 'temporal-prepare'])
      expect(services[name]!.build).toEqual({ context: '../..', dockerfile: 'infra/deploy/Dockerfile' });
  });

  it('gives the edge no warehouse and the cloud no inventory database; secrets come from files', () => {
    const services = compose.services as Record<string, Obj>;
    const env = (name: string) => services[name]!.environment as Obj;
    expect(env('worker-cloud')).toMatchObject({
      FABRICA_WORKER_ROLE: 'cloud',
      DATABASE_URL_FILE: '/run/secrets/database_url',
    });
    expect(env('worker-edge')).toMatchObject({ FABRICA_WORKER_ROLE: 'edge' });
    expect(Object.keys(env('worker-edge')).filter((k) => k.startsWith('DATABASE_URL'))).toEqual([]);
    expect(Object.keys(env('worker-cloud')).filter((k) => k.startsWith('INVENTORY_DATABASE_URL'))).toEqual([]);
    for (const [name, s] of Object.entries(services)) {
      const declared = (s.secrets ?? []) as string[];
      for (const secret of declared) expect(Object.keys(compose.secrets as Obj)).toContain(secret);
      // Every setting read from /run/secrets/<name> has that secret mounted.
      for (const [key, value] of Object.entries((s.environment ?? {}) as Obj))
        if (typeof value === 'string' && value.startsWith('/run/secrets/'))
          expect({ name, key, mounted: declared.includes(path.basename(value)) }).toEqual({ name, key, mounted: true });
      // No password in the file itself.
      expect(
        Object.keys((s.environment ?? {}) as Obj).filter((k) => /PASSWORD$|^DATABASE_URL$|SECRET_ACCESS_KEY$/.test(k)),
      ).toEqual([]);
    }
  });

  it('has compose/secrets.sh write every secret the stack declares, consistent with each other', async () => {
    const out = tmp('compose-secrets');
    const { code, out: said } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn('sh', [path.join(DEPLOY, 'compose', 'secrets.sh')], {
        env: { ...process.env, FABRICA_COMPOSE_SECRETS: out },
      });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      child.once('error', reject);
      child.once('close', (c) => resolve({ code: c, out: text }));
    });
    expect(code).toBe(0);
    const read = (name: string) => readFileSync(path.join(out, name), 'utf8');
    for (const name of Object.keys(compose.secrets as Obj)) expect(read(name).length).toBeGreaterThan(0);
    // The admin key it printed is the one api_keys holds, in the format the API parses.
    const key = /admin API key \(shown once\): (\S+)/.exec(said)![1]!;
    const [entry] = parseApiKeys(read('api_keys'));
    expect(entry).toMatchObject({ name: 'admin', role: 'admin' });
    expect(entry!.sha256.toString('hex')).toBe(hashApiKey(key));
    // The URLs carry the password PostgreSQL's init script gives the fabrica role; the S3 key is MinIO's user's.
    const password = read('fabrica_db_password');
    expect(new URL(read('database_url'))).toMatchObject({ username: 'fabrica', password, pathname: '/fabrica' });
    expect(new URL(read('inventory_database_url')).pathname).toBe('/fabrica_inventory');
    expect(read('aws_credentials')).toContain(`aws_secret_access_key = ${read('minio_fabrica_secret')}`);
  });

  it('mounts files that exist, and sets only the variables the Temporal server config reads', () => {
    const services = compose.services as Record<string, Obj>;
    for (const s of Object.values(services))
      for (const volume of (s.volumes ?? []) as string[]) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(path.resolve(DEPLOY, source))).toBe(true);
      }
    for (const secret of Object.values(compose.secrets as Record<string, Obj>))
      expect(secret.file).toMatch(/^\.\/compose\/secrets\/\w+$/);
    const config = readFileSync(path.join(projectRoot, 'infra', 'temporal', 'postgresql.yaml'), 'utf8');
    const temporal = services.temporal!;
    expect(temporal.volumes).toContain('../temporal:/etc/fabrica/temporal:ro');
    for (const name of Object.keys(temporal.environment as Obj)) expect(config).toContain(`env "${name}"`);
    const entrypoint = (temporal.entrypoint as string[]).join(' ');
    for (const name of ['TEMPORAL_SERVER_BIND_IP', 'TEMPORAL_SERVER_SQL_PASSWORD']) {
      expect(entrypoint).toContain(name);
      expect(config).toContain(`env "${name}"`);
    }
    expect(entrypoint).toContain('--config /etc/fabrica/temporal --env postgresql');
  });
});

describe('container image', () => {
  const dockerfile = readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const last = stages[stages.length - 1]!;

  it('builds in stages and runs as a numeric non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]).toMatch(/ AS build\n/);
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(last);
    expect(user).not.toBeNull();
    expect(Number(user![1])).toBeGreaterThan(0);
    expect(last).toMatch(/npm ci --omit=dev|COPY --from=deps/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('bundles the workflows at build time and points the worker at the bundle', () => {
    const bundle = /node bin\/fabrica\.js bundle-workflows (\S+)/.exec(stages[0]!);
    expect(bundle).not.toBeNull();
    expect(last).toContain(`FABRICA_WORKFLOW_BUNDLE=${bundle![1]}`);
    expect(last).toContain(`COPY --from=build ${bundle![1]} `);
  });

  it('needs no devDependency at run time (the runtime stage installs with --omit=dev)', () => {
    const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const imported = new Set<string>();
    const walk = (d: string) => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.name.endsWith('.js'))
          for (const [, spec] of readFileSync(p, 'utf8').matchAll(/(?:from |import\()\s*'([^.'/][^']*)'/g))
            if (!spec!.startsWith('node:')) imported.add(/^(@[^/]+\/[^/]+|[^/]+)/.exec(spec!)![1]!);
      }
    };
    // What the image runs: the API, the worker, the workflows and activities, the CLI (not the benchmarks).
    for (const part of ['api', 'worker', 'workflows', 'activities', 'infra'])
      walk(path.join(projectRoot, 'dist', part));
    expect(imported.size).toBeGreaterThan(10);
    expect([...imported].filter((name) => !(name in pkg.dependencies))).toEqual([]);
  });

  it('copies only files that exist and that .dockerignore lets into the context', () => {
    const ignored = readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const line of dockerfile.split('\n').filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
      const sources = line
        .replace(/--chmod=\S+ /, '')
        .split(/\s+/)
        .slice(1, -1);
      for (const source of sources) {
        expect({ source, exists: existsSync(path.join(projectRoot, source)) }).toEqual({ source, exists: true });
        const excluded = ignored.some((p) => !p.startsWith('!') && (source === p || source.startsWith(`${p}/`)));
        const reincluded = ignored.includes(`!${source}`);
        expect({ source, inContext: !excluded || reincluded }).toEqual({ source, inContext: true });
      }
    }
  });

  it('starts each process by command from the entry point, the worker with its node flags', async () => {
    const entrypoint = path.join(DEPLOY, 'entrypoint.sh');
    expect(readFileSync(entrypoint, 'utf8')).toContain(
      `exec node ${WORKER_NODE_FLAGS.join(' ')} "$app/dist/worker/main.js"`,
    );
    const sh = (args: string[], env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number | null; out: string }>((resolve, reject) => {
        const child = spawn('sh', [entrypoint, ...args], {
          cwd: dir,
          env: { ...process.env, FABRICA_APP_DIR: projectRoot, ...env },
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, out }));
      });
    const help = await sh(['fabrica', 'help'], {});
    expect(help).toMatchObject({ code: 0, out: expect.stringContaining('bundle-workflows <file>') });
    const worker = await sh(['worker'], { FABRICA_WORKFLOW_BUNDLE: tmp('no-such-bundle.js') });
    expect(worker.code).toBe(78);
    expect(worker.out).toContain('FABRICA_WORKFLOW_BUNDLE');
  });
});

/**
 * The runtime stage's file set, laid out as the Dockerfile copies it (the production dependencies stand in as this
 * checkout's node_modules; the import check above keeps them enough): a cloud worker starts from the bundle the
 * build stage's command writes, and the API serves its probes and dashboard. A file the image forgets fails here.
 */
describe("the runtime stage's files", () => {
  const dockerfile = readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
  const runtime = dockerfile
    .split(/^FROM /m)
    .at(-1)!
    .replace(/\\\n\s*/g, ' ');
  const buildStage = dockerfile.split(/^FROM /m)[1]!;
  let env: FabricaTestEnv;
  let app: string;
  const imageEnv: Record<string, string> = {};
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    env = await createTestEnv('image');
    app = tmp('app');
    mkdirSync(app);
    const toApp = (p: string) => (p.startsWith('/app/') ? path.join(app, p.slice('/app/'.length)) : p);
    for (const line of runtime.split('\n')) {
      const env = /^ENV (.*)$/.exec(line);
      if (env) for (const [, k, v] of env[1]!.matchAll(/(\w+)=(\S+)/g)) imageEnv[k!] = toApp(v!);
      if (!line.startsWith('COPY ')) continue;
      const words = line.split(/\s+/).slice(1);
      const stage = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const [dest, ...sources] = words.filter((w) => !w.startsWith('--')).reverse() as [string, ...string[]];
      if (dest.startsWith('/usr/local/bin/')) continue; // the entry point runs from the checkout
      for (const source of sources.reverse()) {
        const target = path.resolve(app, dest.endsWith('/') ? path.join(dest, path.basename(source)) : dest);
        mkdirSync(path.dirname(target), { recursive: true });
        if (stage === 'deps') symlinkSync(path.join(projectRoot, 'node_modules'), target);
        else if (stage === 'build' && source === '/app/dist')
          cpSync(path.join(projectRoot, 'dist'), target, { recursive: true });
        else if (stage === 'build') {
          // What the build stage writes there: its bundle-workflows command, run with the built CLI.
          const built = new RegExp(`bundle-workflows ${source.replaceAll('.', '\\.')}\\b`).test(buildStage);
          expect({ source, builtByTheBuildStage: built }).toEqual({ source, builtByTheBuildStage: true });
          expect((await runCli(['bundle-workflows', target], { ...process.env, FABRICA_HOME: app })).code).toBe(0);
        } else cpSync(path.join(projectRoot, source), target, { recursive: true });
      }
    }
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await env?.close();
  });

  const entrypoint = (args: string[]): [string, string[]] => ['sh', [path.join(DEPLOY, 'entrypoint.sh'), ...args]];
  const baseEnv = () => ({
    ...env.processEnv(),
    FABRICA_APP_DIR: app,
    FABRICA_WORKFLOW_BUNDLE: imageEnv.FABRICA_WORKFLOW_BUNDLE,
    FABRICA_WORKER_METRICS_PORT: 'off',
    FABRICA_WORKER_HEALTH_PORT: 'off',
  });

  it('start a cloud worker from the prebuilt bundle', async () => {
    expect(imageEnv.FABRICA_WORKFLOW_BUNDLE).toBe(path.join(app, 'workflow-bundle.js'));
    const worker = spawnWorker({ ...baseEnv(), FABRICA_WORKER_ROLE: 'cloud' }, () => entrypoint(['worker']));
    children.push(worker.child);
    await worker.polling();
    await worker.kill('SIGTERM');
    expect(worker.child.exitCode).toBe(0);
  });

  it('serve the API: its liveness and the dashboard page', async () => {
    const port = await freePort();
    const [cmd, args] = entrypoint(['api']);
    const child = spawn(cmd, args, {
      env: { ...baseEnv(), FABRICA_API_HOST: '127.0.0.1', FABRICA_API_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const read = (d: Buffer) => {
        out += d.toString();
        if (out.includes('"api listening"')) resolve();
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      child.once('exit', (code) => reject(new Error(`the API exited (${code}):\n${out}`)));
    });
    const live = await fetch(`http://127.0.0.1:${port}/api/v1/health/live`);
    expect(live.status).toBe(200);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
});
