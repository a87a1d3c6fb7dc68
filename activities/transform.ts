import path from 'node:path';
import type pg from 'pg';
import type { StepInput, IngestResult, StageResult, TransformResult } from '../workflows/steps.js';
import { attempt } from './activity-context.js';
import { BatchedWriter } from './batched-writer.js';
import { Catalog } from './catalog.js';
import { encodeCopyRow, type CopyValue } from './formats/copy-text.js';
import { formatOf } from './formats/registry.js';
import { lakeKeys, lakeUri } from './lake-layout.js';
import type { ObjectStore } from './storage/object-store.js';
import { uploadFile, withTempDir } from './temp-files.js';
import { isSqlModel, tsTransformOf } from './transforms/registry.js';

/** What transform needs. */
export interface TransformDeps {
  warehouse: pg.Pool;
  lake: ObjectStore;
}

/** Reads a small JSON object from the lake. */
async function readJson(lake: ObjectStore, key: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of await lake.get(key)) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Transform: runs the pipeline's registered TypeScript transforms over what stage produced, each writing its output
 * datasets as COPY text under content-addressed keys (a retry rewrites identical objects). SQL models are not run
 * here: they run in the load's publishing transaction, over the staged rows, so they read what they publish with.
 * The format's staged dataset (if any) is published straight from the staged rows.
 */
export function createTransform(deps: TransformDeps) {
  return async function transformPartition(
    input: StepInput & { ingest: IngestResult; stage: StageResult },
  ): Promise<TransformResult> {
    const startedAt = new Date();
    const { ctx, spec, ingest, stage } = input;
    const outputs: TransformResult['outputs'] = {};
    const profile = stage.profileKey ? await readJson(deps.lake, stage.profileKey) : undefined;
    const catalog = new Catalog(deps.warehouse);
    const stagedUri = lakeUri(deps.lake.location, stage.stagedKey);
    let rowsOut = 0;
    await withTempDir(async (dir) => {
      const emit = async (dataset: string, rows: Iterable<CopyValue[]> | AsyncIterable<CopyValue[]>) => {
        const file = path.join(dir, `${dataset}.tsv`);
        // Batched writes; a failed one (a full disk) rejects naming the file.
        const out = new BatchedWriter(file);
        let count = 0;
        for await (const row of rows) {
          out.add(encodeCopyRow(row));
          await out.maybeFlush();
          count++;
        }
        await out.close();
        const key = lakeKeys.staged(spec.id, dataset, ctx.partition, ingest.sha256);
        await uploadFile(deps.lake, key, file);
        outputs[dataset] = { key, rows: count };
        rowsOut += count;
        await catalog.lineage(ctx, 'transform', stagedUri, lakeUri(deps.lake.location, key));
      };
      for (const t of spec.transforms) {
        if (isSqlModel(t)) outputs[t.output] = { model: t.id };
        else await tsTransformOf(spec, t).run({ ctx, spec, ingest, stage, lake: deps.lake, profile, emit });
      }
    });
    const direct = formatOf(spec).stagedDataset;
    if (direct) outputs[direct] = { key: stage.stagedKey, rows: stage.rows };
    await catalog.step(ctx, {
      step: 'transform',
      startedAt,
      attempt: attempt(),
      rowsIn: stage.rows,
      rowsOut,
      details: { outputs },
    });
    return { outputs };
  };
}
