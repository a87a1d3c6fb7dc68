import type pg from 'pg';
import { partitionKey, partitionWindow } from '../../workflows/partitions.js';
import type { PipelineSpec } from '../../workflows/spec.js';
import { stagedColumns } from '../formats/generic-format.js';
import { bindModel, STAGED_TABLE } from '../load.js';
import { isSqlModel } from '../transforms/registry.js';
import { allDatasets, datasetOf } from './registry.js';
import { datasetDrift } from './spec.js';

/** A partition of the pipeline to plan SQL models with (any real one: only the plan is checked). */
function samplePartition(spec: PipelineSpec): string {
  const p = spec.partitioning;
  return partitionKey(p, p.kind === 'entity-hour' ? '2026-01-01T12' : '2026-01-01', p.entities?.[0]);
}

/**
 * Plans every SQL model of the pipelines against the warehouse (`EXPLAIN` of its `INSERT … SELECT`, over an empty
 * staged table, in a transaction rolled back), so a model reading a column or table that is not there stops start-up
 * naming the pipeline and the model.
 */
export async function sqlModelProblems(db: pg.Pool, pipelines: readonly PipelineSpec[]): Promise<string[]> {
  const problems: string[] = [];
  const client = await db.connect();
  try {
    for (const spec of pipelines) {
      const models = spec.transforms.filter(isSqlModel);
      if (models.length === 0 || !spec.staging.config) continue;
      const partition = samplePartition(spec);
      const window = partitionWindow(spec.partitioning, partition)!;
      const ctx = { pipeline: spec.id, partition, workflowId: 'check', runId: 'check', runKind: 'manual' as const };
      for (const model of models) {
        await client.query('BEGIN');
        try {
          const columns = stagedColumns(spec.staging.config);
          await client.query(
            `CREATE TEMPORARY TABLE ${STAGED_TABLE} (${columns.map((c) => `${c.name} ${c.pgType}`).join(', ')}) ON COMMIT DROP`,
          );
          const d = datasetOf(model.output);
          const bound = bindModel(model, ctx, window, 'check');
          await client.query(
            `EXPLAIN INSERT INTO ${d.table} (${d.columns.map((c) => c.name).join(', ')}) ${bound.sql}`,
            bound.params,
          );
        } catch (err) {
          problems.push(`${spec.id}: sql model ${model.id}: ${(err as Error).message}`);
        } finally {
          await client.query('ROLLBACK');
        }
      }
    }
  } finally {
    client.release();
  }
  return problems;
}

/**
 * Where the registered pipelines and the warehouse disagree: the tables and columns of the datasets they load and of
 * the sources' datasets, and the SQL models' plans.
 */
export async function warehouseProblems(db: pg.Pool, pipelines: readonly PipelineSpec[]): Promise<string[]> {
  const loaded = new Set(pipelines.flatMap((p) => p.load.datasets));
  const datasets = allDatasets().filter((d) => loaded.has(d.name) || d.source);
  return [...(await datasetDrift(db, datasets)), ...(await sqlModelProblems(db, pipelines))];
}
