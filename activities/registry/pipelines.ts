import path from 'node:path';
import { fileURLToPath } from 'node:url';
import '../flows/machine-signal/index.js';
import { SOURCE_DATASETS } from '../sources/datasets.js';
import { allDatasets, findDataset, registerDatasets } from '../datasets/registry.js';
import { genericFormatProblems } from '../formats/generic/index.js';
import { genericFormat } from '../formats/generic-format.js';
import { formatIds, formatOf, registerFormat, type FileFormat } from '../formats/registry.js';
import { isSqlModel, outputsOf } from '../transforms/registry.js';
import { specProblems, type PipelineSpec } from '../../workflows/spec.js';
import { readDeclarations, type DeclaredPipeline } from './declarations.js';
import { factoryMachineSignals } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';

registerFormat(genericFormat);
registerDatasets(SOURCE_DATASETS);

/** The built-in declaration folders: `workflows/pipelines/<id>/` (one sub-folder per pipeline). */
const BUILT_IN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../workflows/pipelines');

/** Extra declaration folders from `FABRICA_PIPELINE_DIRS` (path-delimited), e.g. a team's own flows. */
function extraDirs(): string[] {
  return (process.env.FABRICA_PIPELINE_DIRS ?? '').split(path.delimiter).filter(Boolean);
}

/** Why the declaration folders could not be read (reported by {@link registryProblems}), if they could not. */
let loadError: string | undefined;

function loadDeclared(): DeclaredPipeline[] {
  try {
    const declared = [BUILT_IN_DIR, ...extraDirs()].flatMap((dir) => readDeclarations(dir));
    for (const d of declared) registerDatasets(d.datasets);
    return declared;
  } catch (err) {
    loadError = (err as Error).message;
    return [];
  }
}

/** The pipelines declared in folders (with the folder each came from: its SQL files and migrations). */
export const DECLARED: readonly DeclaredPipeline[] = loadDeclared();

/**
 * Every registered pipeline: the ones written in TypeScript (`<id>.pipeline.ts`, listed here) and every declaration
 * folder (`<id>/pipeline.json` + `datasets.json` + SQL files) in `workflows/pipelines/` or in `FABRICA_PIPELINE_DIRS`.
 */
export const PIPELINES: readonly PipelineSpec[] = [factoryMachineSignals, ...DECLARED.map((d) => d.spec)];

/** Looks a pipeline up by id. */
export function getPipeline(id: string): PipelineSpec | undefined {
  return PIPELINES.find((p) => p.id === id);
}

/** The pipeline that loads a dataset, if any. */
export function pipelineOfDataset(dataset: string): PipelineSpec | undefined {
  return PIPELINES.find((p) => p.load.datasets.includes(dataset));
}

/** Problems of one spec against the registries: format, datasets, transforms, serving outputs. */
function resolutionProblems(spec: PipelineSpec, all: readonly PipelineSpec[]): string[] {
  const problems: string[] = [];
  const p = (cond: boolean, msg: string) => cond || problems.push(`${spec.id}: ${msg}`);
  let format: FileFormat | undefined;
  try {
    format = formatOf(spec);
  } catch {
    p(false, `staging.format "${spec.staging.format}" is not a registered format (known: ${formatIds().join(', ')})`);
  }
  if (spec.staging.format === 'generic') {
    p(
      spec.source.partitionFrom !== 'header',
      'source.partitionFrom: the generic formats have no header to read a partition from (use column or file-name)',
    );
    const pc = spec.source.partitionFrom === 'column' ? spec.source.partitionColumns : undefined;
    const columns = spec.staging.config?.columns ?? [];
    for (const [role, name] of Object.entries(pc ?? {}))
      p(
        columns.some((c) => c.name === name),
        `source.partitionColumns.${role}: ${name} is not a column of staging.config`,
      );
    if (!spec.staging.config) p(false, 'staging.config is required for the generic format');
    else for (const problem of genericFormatProblems(spec.staging.config)) p(false, `staging.config.${problem}`);
  }
  if (format) {
    p(
      spec.source.completeWhen.kind !== 'trailer' || !!format.hasTrailer,
      `source.completeWhen: format ${format.id} has no trailer`,
    );
    p(
      spec.source.partitionFrom === 'file-name' || !!format.partitionFromHead,
      `source.partitionFrom: format ${format.id} cannot read a partition from a file's ${spec.source.partitionFrom}`,
    );
  }
  const produced = new Map<string, string>();
  if (format?.stagedDataset) produced.set(format.stagedDataset, `format ${format.id}`);
  spec.transforms.forEach((t, i) => {
    const name = isSqlModel(t) ? `sql model ${t.id}` : `transform ${t}`;
    let outputs: string[] = [];
    try {
      outputs = outputsOf(spec, t);
    } catch (err) {
      p(false, `transforms[${i}]: ${(err as Error).message.replace(`${spec.id}: `, '')}`);
    }
    for (const o of outputs) {
      p(!produced.has(o), `transforms[${i}]: ${o} is already produced by ${produced.get(o)}`);
      produced.set(o, name);
    }
    if (isSqlModel(t) && format && !format.configuredColumns)
      p(
        false,
        `transforms[${i}]: sql model ${t.id} needs a format with configured columns to read ({{staged}}), not ${format.id}`,
      );
    if (isSqlModel(t))
      for (const r of t.reads ?? [])
        p(
          !!findDataset(r)?.source || !!all.find((x) => x.id !== spec.id && x.load.datasets.includes(r)),
          `transforms[${i}].reads: ${r} is no other pipeline's dataset nor a source's`,
        );
  });
  spec.load.datasets.forEach((name, i) => {
    const d = findDataset(name);
    p(!!d, `load.datasets[${i}]: dataset ${name} is not declared`);
    p(produced.has(name), `load.datasets[${i}]: nothing produces ${name} (no transform outputs it)`);
    if (d)
      p(
        !!d.partitionColumns && (spec.partitioning.kind === 'day') === !d.partitionColumns.entity,
        `load.datasets[${i}]: ${name}'s partitionColumns do not fit ${spec.partitioning.kind} partitions`,
      );
  });
  for (const o of produced.keys()) p(spec.load.datasets.includes(o), `${o} is produced but not in load.datasets`);
  spec.serve.forEach((s, i) =>
    p(spec.load.datasets.includes(s.dataset), `serve[${i}].dataset: ${s.dataset} is not loaded by this pipeline`),
  );
  return problems;
}

/** Every problem of the registry (empty when valid): each spec's own, its references, duplicate ids and datasets. */
export function registryProblems(pipelines: readonly PipelineSpec[] = PIPELINES): string[] {
  const problems = pipelines.flatMap((s) => {
    const own = specProblems(s);
    if (own.length > 0) return own;
    try {
      return resolutionProblems(s, pipelines);
    } catch (err) {
      return [`${s.id}: ${(err as Error).message}`];
    }
  });
  if (loadError) problems.unshift(`pipeline declarations: ${loadError}`);
  const ids = pipelines.map((p) => p.id);
  ids.filter((id, i) => ids.indexOf(id) !== i).forEach((id) => problems.push(`${id}: duplicate pipeline id`));
  const owners = new Map<string, string>();
  for (const s of pipelines)
    for (const d of s.load.datasets) {
      if (owners.has(d) && owners.get(d) !== s.id)
        problems.push(`${s.id}: dataset ${d} is already loaded by ${owners.get(d)}`);
      owners.set(d, s.id);
    }
  return problems;
}

/** Throws when the registry has problems (run at worker and API start-up, and by a test), naming each. */
export function assertRegistryValid(pipelines: readonly PipelineSpec[] = PIPELINES): void {
  const problems = registryProblems(pipelines);
  if (problems.length > 0) throw new Error(`invalid pipeline registry: ${problems.join('; ')}`);
}

/** The declared datasets the registered pipelines load. */
export function loadedDatasets(pipelines: readonly PipelineSpec[] = PIPELINES) {
  const names = new Set(pipelines.flatMap((p) => p.load.datasets));
  return allDatasets().filter((d) => names.has(d.name));
}
