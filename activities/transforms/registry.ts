import type { IngestResult, RunContext, StageResult } from '../../workflows/steps.js';
import type { PipelineSpec, SqlModel, TransformRef } from '../../workflows/spec.js';
import type { CopyValue } from '../formats/copy-text.js';
import type { ObjectStore } from '../storage/object-store.js';

/** What a TypeScript transform gets for one partition. */
export interface TsTransformInput {
  ctx: RunContext;
  spec: PipelineSpec;
  ingest: IngestResult;
  stage: StageResult;
  lake: ObjectStore;
  /** The staged rows' profile the format computed (parsed JSON), when it computes one. */
  profile: unknown;
  /** Writes the rows of one of the transform's output datasets, in that dataset's column order. */
  emit: (dataset: string, rows: Iterable<CopyValue[]> | AsyncIterable<CopyValue[]>) => Promise<void>;
}

/**
 * A transform written in TypeScript, for what SQL cannot do (or does worse), registered by id. It derives the rows of
 * its output datasets for one partition from what stage produced; it must be a pure function of that, so a retry
 * writes the same rows.
 */
export interface TsTransform {
  id: string;
  outputs: string[];
  run(input: TsTransformInput): Promise<void>;
}

const TRANSFORMS = new Map<string, TsTransform>();

/** Registers a TypeScript transform (at module load of the flow that owns it). */
export function registerTransform(t: TsTransform): void {
  if (TRANSFORMS.has(t.id)) throw new Error(`transform ${t.id} is registered twice`);
  TRANSFORMS.set(t.id, t);
}

/** The registered TypeScript transform of an id, or an error naming the pipeline. */
export function tsTransformOf(spec: PipelineSpec, id: string): TsTransform {
  const t = TRANSFORMS.get(id);
  if (!t) throw new Error(`${spec.id}: transform "${id}" is not a registered transform`);
  return t;
}

/** Whether a transform reference is an inline SQL model. */
export function isSqlModel(t: TransformRef): t is SqlModel {
  return typeof t === 'object' && t.kind === 'sql';
}

/** The datasets a transform reference produces. */
export function outputsOf(spec: PipelineSpec, t: TransformRef): string[] {
  return isSqlModel(t) ? [t.output] : tsTransformOf(spec, t).outputs;
}
