import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../paths.js';
import { goModuleDir } from '../../services/tools.js';

/**
 * Regenerates the schemas the deploy files are checked against, from Go modules (so offline once cached):
 * - `kubernetes/<kind>-<group>-<version>.json`: kubeconform's strict, standalone layout (`-schema-location
 *   '<dir>/{{ .ResourceKind }}{{ .KindSuffix }}.json'`) for the kinds the Helm chart renders, from the OpenAPI v2
 *   document of `k8s.io/kubernetes`; each file holds only the definitions its kind reaches, without descriptions,
 *   and every object with declared properties refuses others (`additionalProperties: false`), as `-strict` expects;
 * - `compose-spec.json`: the Compose specification's schema, as compose-go ships it.
 *
 * Run: `npm run build && node dist/infra/deploy/schemas/regen.js`.
 */
export const KUBERNETES = { module: 'k8s.io/kubernetes', version: 'v1.36.3' };
export const COMPOSE_GO = { module: 'github.com/compose-spec/compose-go/v2', version: 'v2.16.2' };

/** The kinds the chart renders, as `group/version` (core: `v1`) and kind. */
export const KINDS: readonly { apiVersion: string; kind: string }[] = [
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'batch/v1', kind: 'Job' },
];

type Schema = { [key: string]: unknown };
const REF = '#/definitions/';

/** kubeconform's file name of a kind: `{{ .ResourceKind }}{{ .KindSuffix }}.json`, e.g. `deployment-apps-v1.json`. */
export function schemaFileName(apiVersion: string, kind: string): string {
  const [groupOrVersion, version] = apiVersion.split('/') as [string, string | undefined];
  const suffix = `-${groupOrVersion.split('.')[0]!.toLowerCase()}${version ? `-${version.toLowerCase()}` : ''}`;
  return `${kind.toLowerCase()}${suffix}.json`;
}

/** One OpenAPI v2 definition as strict JSON Schema: no descriptions or extensions; closed objects; k8s' unions. */
function convert(node: unknown, refs: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => convert(n, refs));
  if (node === null || typeof node !== 'object') return node;
  const src = node as Schema;
  if (src.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  const out: Schema = {};
  for (const [key, value] of Object.entries(src)) {
    if (key === 'description' || key.startsWith('x-kubernetes-')) continue;
    if (key === '$ref' && typeof value === 'string') refs.add(value.slice(REF.length));
    // `properties` maps names to schemas: convert the schemas, keep every name (one may be called `description`).
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, convert(v, refs)]))
        : convert(value, refs);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** Definitions whose swagger form is looser or narrower than what the API server accepts. */
const OVERRIDES: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { oneOf: [{ type: 'string' }, { type: 'integer' }] },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
};

/** The standalone strict schema of one kind: its definition at the root, what it reaches under `definitions`. */
export function kindSchema(definitions: Record<string, Schema>, apiVersion: string, kind: string): Schema {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const rootName = Object.keys(definitions).find((name) =>
    ((definitions[name]!['x-kubernetes-group-version-kind'] ?? []) as Schema[]).some(
      (g) => g.group === group && g.version === version && g.kind === kind,
    ),
  );
  if (!rootName) throw new Error(`no definition of ${apiVersion} ${kind} in the OpenAPI document`);
  const reached: Record<string, unknown> = {};
  const pending = [rootName];
  let root: Schema | undefined;
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (name in reached) continue;
    const refs = new Set<string>();
    const def = definitions[name];
    if (!def) throw new Error(`${kind} references ${name}, which the OpenAPI document lacks`);
    const converted = OVERRIDES[name] ?? (convert(def, refs) as Schema);
    reached[name] = converted;
    if (name === rootName) root = converted;
    pending.push(...refs);
  }
  const props = root!.properties as Schema;
  props.apiVersion = { type: 'string', enum: [apiVersion] };
  props.kind = { type: 'string', enum: [kind] };
  delete reached[rootName];
  const sorted = Object.fromEntries(Object.entries(reached).sort(([a], [b]) => a.localeCompare(b)));
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    ...root,
    required: [...new Set(['apiVersion', 'kind', ...((root!.required as string[] | undefined) ?? [])])],
    definitions: sorted,
  };
}

/** Writes `infra/deploy/schemas` anew from the Go module cache (downloading the modules when missing). */
export async function regenerateSchemas(dir = path.join(projectRoot, 'infra', 'deploy', 'schemas')): Promise<void> {
  const k8s = await goModuleDir(KUBERNETES.module, KUBERNETES.version);
  const swagger = JSON.parse(readFileSync(path.join(k8s, 'api', 'openapi-spec', 'swagger.json'), 'utf8')) as {
    definitions: Record<string, Schema>;
  };
  const out = path.join(dir, 'kubernetes');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const { apiVersion, kind } of KINDS)
    writeFileSync(
      path.join(out, schemaFileName(apiVersion, kind)),
      `${JSON.stringify(kindSchema(swagger.definitions, apiVersion, kind))}\n`,
    );
  const compose = await goModuleDir(COMPOSE_GO.module, COMPOSE_GO.version);
  // Read and written, not copied: the module cache's files are read-only.
  writeFileSync(path.join(dir, 'compose-spec.json'), readFileSync(path.join(compose, 'schema', 'compose-spec.json')));
  console.log(`schemas written to ${dir}: ${readdirSync(out).join(', ')}, compose-spec.json`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname)
  regenerateSchemas().catch((err: Error) => {
    console.error(`regenerating the schemas failed: ${err.message}`);
    process.exit(1);
  });
