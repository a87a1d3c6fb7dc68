import type pg from 'pg';
import type { PartitionWindow } from '../workflows/partitions.js';
import type { ReverseEtlOutput } from '../workflows/spec.js';
import type { IngestResult, RunContext, RunOutcome, ServeResult, StageResult, StepInput } from '../workflows/steps.js';
import { attempt, withLiveness } from './activity-context.js';
import { lockFenced } from './fencing.js';
import { Catalog } from './catalog.js';
import { datasetOf } from './datasets/registry.js';
import { dependentsOf } from './dependents.js';
import { partitionWhere } from './datasets/spec.js';
import { lakeKeys, lakeUri, tableUri } from './lake-layout.js';
import type { ObjectStore } from './storage/object-store.js';
import { alertSinkFor, type AlertConfig } from './alerts/sink.js';

/** What serve needs: the warehouse, the lake, and the databases reverse ETL writes to, by connection name. */
export interface ServeDeps {
  warehouse: pg.Pool;
  lake: ObjectStore;
  /** Target databases by connection name, as `reverse-etl` outputs name them. */
  targets: Record<string, pg.Pool>;
  /** Alert delivery (channels configured): resolved alerts signal their group's delivery workflow. */
  alerts?: AlertConfig;
}

/**
 * Reverse ETL: replaces the partition's rows in the target table with what the warehouse publishes for it, and
 * recomputes the aggregate of every key the old or new rows touch as a sum over the target table — so re-running any
 * partition any number of times leaves the aggregate unchanged. Aggregate updates are serialized by an advisory lock
 * in the target database.
 */
async function serveReverseEtl(deps: ServeDeps, o: ReverseEtlOutput, ctx: RunContext, window: PartitionWindow) {
  const d = datasetOf(o.dataset);
  const where = partitionWhere(d, window, ctx.partition);
  const target = deps.targets[o.connection];
  if (!target) throw new Error(`${ctx.pipeline}: serve connection "${o.connection}" is not configured`);
  // The published rows and the version they belong to, in one snapshot.
  const read = await deps.warehouse.connect();
  let published: pg.QueryResult<Record<string, unknown>>;
  let version: string | undefined;
  try {
    await read.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    version = await publishedVersion(read, o.dataset, ctx.partition);
    published = await read.query<Record<string, unknown>>(
      `SELECT ${o.columns.join(', ')} FROM ${d.table} WHERE ${where.sql}`,
      where.params,
    );
    await read.query('COMMIT');
  } finally {
    read.release();
  }
  const types = new Map(d.columns.map((c) => [c.name, c.type]));
  const client = await target.connect();
  try {
    await client.query('BEGIN');
    // Aggregates are recomputed table-wide, so their serves are serialized per aggregate; otherwise per partition.
    await lockFenced(client, {
      key: o.aggregate ? o.aggregate.table : `${o.table}:${ctx.partition}`,
      role: 'serve',
      runId: ctx.runId,
      attempt: attempt(),
    });
    const pc = o.partitionColumns;
    const targetWhere = pc.entity ? `${pc.entity} = $1 AND ${pc.time} = $2` : `${pc.time} = $1`;
    const old = await client.query<Record<string, unknown>>(
      `DELETE FROM ${o.table} WHERE ${targetWhere} RETURNING ${o.aggregate ? o.aggregate.key : '1 AS one'}`,
      where.params,
    );
    const rows = published.rows;
    if (rows.length > 0) {
      const partitionCols = pc.entity ? [pc.entity, pc.time] : [pc.time];
      const arrays = o.columns.map((c) => rows.map((r) => r[c]));
      const unnest = o.columns
        .map((c, i) => `$${partitionCols.length + i + 1}::${pgArrayType(types.get(c))}[]`)
        .join(', ');
      await client.query(
        `INSERT INTO ${o.table} (${[...partitionCols, ...o.columns].join(', ')})
         SELECT ${partitionCols.map((_, i) => `$${i + 1}`).join(', ')}, * FROM unnest(${unnest})`,
        [...where.params, ...arrays],
      );
    }
    if (o.aggregate) {
      const a = o.aggregate;
      const keys = [...new Set([...old.rows.map((r) => r[a.key]), ...rows.map((r) => r[a.key])])];
      const set = [
        `${a.value} = EXCLUDED.${a.value}`,
        ...(a.updatedAt ? [`${a.updatedAt} = EXCLUDED.${a.updatedAt}`] : []),
      ];
      await client.query(
        `INSERT INTO ${a.table} (${a.key}, ${a.value}${a.updatedAt ? `, ${a.updatedAt}` : ''})
         SELECT k.key, COALESCE((SELECT sum(t.${a.sumOf}) FROM ${o.table} t WHERE t.${a.key} = k.key), 0)${a.updatedAt ? ', now()' : ''}
         FROM unnest($1::text[]) AS k(key)
         ON CONFLICT (${a.key}) DO UPDATE SET ${set.join(', ')}`,
        [keys],
      );
    }
    // Fencing of a late serve: when the partition was published again since it was read (this attempt was frozen
    // or slow while a newer run loaded), these rows are stale — roll back; the retry serves the new ones.
    const now = await publishedVersion(deps.warehouse, o.dataset, ctx.partition);
    if (now !== version)
      throw new Error(`${o.dataset} ${ctx.partition} was published again while it was being served; serving again`);
    await client.query('COMMIT');
    return rows.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** What identifies the published version of a dataset's partition (none when nothing is published). */
async function publishedVersion(
  db: Pick<pg.Pool | pg.PoolClient, 'query'>,
  dataset: string,
  partition: string,
): Promise<string | undefined> {
  const res = await db.query<{ v: string }>(
    `SELECT content_sha256 || ' ' || run_id || ' ' || loaded_at::text AS v FROM ops.partition_state
      WHERE dataset = $1 AND partition_key = $2`,
    [dataset, partition],
  );
  return res.rows[0]?.v;
}

/** The PostgreSQL array element type for a declared column type. */
function pgArrayType(type: string | undefined): string {
  return (
    (
      {
        integer: 'int',
        bigint: 'bigint',
        decimal: 'numeric',
        double: 'float8',
        boolean: 'bool',
        date: 'date',
        timestamp: 'timestamptz',
      } as Record<string, string>
    )[type ?? 'text'] ?? 'text'
  );
}

/** Lake snapshot: the dataset partition's rows (declared columns) as JSON Lines in the serving zone, replaced whole. */
async function serveLakeSnapshot(deps: ServeDeps, dataset: string, ctx: RunContext, window: PartitionWindow) {
  const d = datasetOf(dataset);
  const where = partitionWhere(d, window, ctx.partition);
  // The declared columns; dates as `YYYY-MM-DD` text (a JS Date would carry the process's time zone into the file).
  const columns = d.columns.map((c) => (c.type === 'date' ? `${c.name}::text AS ${c.name}` : c.name)).join(', ');
  const res = await deps.warehouse.query(
    `SELECT ${columns} FROM ${d.table} WHERE ${where.sql} ORDER BY ${d.key.join(', ')}`,
    where.params,
  );
  const key = lakeKeys.serving(ctx.pipeline, dataset, ctx.partition);
  await deps.lake.put(key, res.rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return { key, rows: res.rowCount ?? 0 };
}

/**
 * Serve: refreshes the pipeline's serving outputs for the partition from what the warehouse now publishes, finds the
 * dependent partitions of other pipelines to re-run when it published something new, then records the run's
 * successful end in the catalog (the last step closes the run).
 */
export function createServe(deps: ServeDeps) {
  return async function servePartition(
    input: StepInput & { ingest: IngestResult; stage: StageResult; outcome: RunOutcome },
  ): Promise<ServeResult> {
    return withLiveness(() => serve(input));
  };
  async function serve(
    input: StepInput & { ingest: IngestResult; stage: StageResult; outcome: RunOutcome },
  ): Promise<ServeResult> {
    const startedAt = new Date();
    const { ctx, spec, stage } = input;
    const outputs: Record<string, number> = {};
    const catalog = new Catalog(deps.warehouse, alertSinkFor(deps));
    for (const output of spec.serve) {
      const from = tableUri(datasetOf(output.dataset).table, ctx.partition);
      if (output.kind === 'reverse-etl') {
        outputs[output.table] = await serveReverseEtl(deps, output, ctx, stage.window);
        await catalog.lineage(ctx, 'serve', from, `postgres://${output.connection}/${output.table}`);
      } else {
        const snap = await serveLakeSnapshot(deps, output.dataset, ctx, stage.window);
        outputs[snap.key] = snap.rows;
        await catalog.lineage(ctx, 'serve', from, lakeUri(deps.lake.location, snap.key));
      }
    }
    await catalog.step(ctx, {
      step: 'serve',
      startedAt,
      attempt: attempt(),
      rowsOut: Object.values(outputs).reduce((a, b) => a + b, 0),
      details: outputs,
    });
    const dependents =
      input.outcome.status === 'succeeded' ? await dependentsOf(deps.warehouse, spec, ctx.partition) : [];
    await catalog.runFinished(ctx, input.outcome);
    return { outputs, dependents };
  }
}
