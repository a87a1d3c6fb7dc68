import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DatasetSpec } from '../datasets/spec.js';
import type { PipelineSpec, SqlModel, TransformRef } from '../../workflows/spec.js';

/** A pipeline declared in a folder: the spec, and the datasets the folder declares. */
export interface DeclaredPipeline {
  spec: PipelineSpec;
  datasets: DatasetSpec[];
  /** The folder it was read from. */
  dir: string;
}

/** A SQL model as written in `pipeline.json`: its SQL in a file beside it. */
type SqlModelRef = Omit<SqlModel, 'sql'> & { file: string };

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Resolves `{ kind: 'sql', file }` references into inline SQL, so the spec carries the exact SQL that runs. */
function inlineModels(dir: string, transforms: (TransformRef | SqlModelRef)[]): TransformRef[] {
  return transforms.map((t, i) => {
    if (typeof t === 'string' || !('file' in t)) return t;
    const file = path.join(dir, t.file);
    if (!existsSync(file))
      throw new Error(`${path.join(dir, 'pipeline.json')}: transforms[${i}].file ${t.file} does not exist`);
    const { file: _file, ...model } = t;
    return { ...model, sql: readFileSync(file, 'utf8') };
  });
}

/**
 * Reads one declaration folder: `pipeline.json` (the spec; SQL models may name a `.sql` file beside it) and an
 * optional `datasets.json` (the datasets the pipeline owns).
 */
export function readDeclarationFolder(dir: string): DeclaredPipeline {
  const raw = readJson<PipelineSpec & { transforms: (TransformRef | SqlModelRef)[] }>(path.join(dir, 'pipeline.json'));
  const datasetsFile = path.join(dir, 'datasets.json');
  const datasets = existsSync(datasetsFile) ? readJson<DatasetSpec[]>(datasetsFile) : [];
  return { spec: { ...raw, transforms: inlineModels(dir, raw.transforms ?? []) }, datasets, dir };
}

/** Every declaration folder below `root`: each direct sub-folder holding a `pipeline.json` (or `root` itself). */
export function readDeclarations(root: string): DeclaredPipeline[] {
  if (!existsSync(root)) throw new Error(`pipeline declarations folder ${root} does not exist`);
  if (existsSync(path.join(root, 'pipeline.json'))) return [readDeclarationFolder(root)];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(root, e.name, 'pipeline.json')))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((e) => readDeclarationFolder(path.join(root, e.name)));
}
