import type pg from 'pg';
import { PIPELINES } from './registry/pipelines.js';
import { partitionKey, partitionWindow } from '../workflows/partitions.js';
import type { PipelineSpec } from '../workflows/spec.js';
import type { Dependent } from '../workflows/steps.js';
import { isSqlModel } from './transforms/registry.js';

/** The downstream partitions of the same local date as an upstream partition, by the downstream's partitioning. */
function sameDate(down: PipelineSpec, entity: string | undefined, date: string): string[] {
  const p = down.partitioning;
  if (p.kind === 'day') return [partitionKey(p, date)];
  if (p.kind === 'entity-day') return entity && p.entities?.includes(entity) ? [partitionKey(p, date, entity)] : [];
  return [];
}

/**
 * The registered pipelines whose SQL models read a dataset `spec` publishes, with their partition of the upstream
 * partition's local date — only those already published (a downstream partition that never ran has nothing to
 * correct; its own first run reads the upstream as it is then).
 */
export async function dependentsOf(
  db: pg.Pool,
  spec: PipelineSpec,
  partition: string,
  pipelines: readonly PipelineSpec[] = PIPELINES,
): Promise<Dependent[]> {
  const window = partitionWindow(spec.partitioning, partition);
  if (!window) return [];
  const entity = partition.includes('@') ? partition.split('@')[0] : undefined;
  const out: Dependent[] = [];
  for (const down of pipelines) {
    if (down.id === spec.id) continue;
    const reads = down.transforms.filter(isSqlModel).flatMap((m) => m.reads ?? []);
    const dataset = reads.find((d) => spec.load.datasets.includes(d));
    if (!dataset) continue;
    const candidates = sameDate(down, entity, window.date);
    const res = await db.query<{ partition_key: string }>(
      'SELECT partition_key FROM ops.partition_state WHERE dataset = $1 AND partition_key = ANY($2)',
      [down.load.datasets[0], candidates],
    );
    for (const r of res.rows) out.push({ spec: down, partition: r.partition_key, dataset });
  }
  return out;
}
