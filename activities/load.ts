import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { PartitionWindow } from '../workflows/partitions.js';
import type { SqlModel } from '../workflows/spec.js';
import type { IngestResult, LoadInput, LoadResult, RunContext, StageResult, StepInput } from '../workflows/steps.js';
import { attempt, cancellationSignal, heartbeat } from './activity-context.js';
import { Catalog } from './catalog.js';
import { lockFenced } from './fencing.js';
import { datasetOf } from './datasets/registry.js';
import { partitionWhere } from './datasets/spec.js';
import { genericConfigOf, stagedColumns } from './formats/generic-format.js';
import { lakeUri, tableUri } from './lake-layout.js';
import type { ObjectStore } from './storage/object-store.js';
import { formatOf, type QuarantineRecord } from './formats/registry.js';
import { readLines } from './line-reader.js';
import { isSqlModel } from './transforms/registry.js';

/** What load needs. */
export interface LoadDeps {
  warehouse: pg.Pool;
  lake: ObjectStore;
}

/** The temporary table holding a generic format's staged rows during the publishing transaction. */
export const STAGED_TABLE = 'fabrica_staged';

/** Streams a staged COPY-text object into `table`, heartbeating bytes. */
async function copyInto(
  client: pg.PoolClient,
  lake: ObjectStore,
  key: string,
  table: string,
  columns: readonly string[],
) {
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      heartbeat({ table, bytes });
      done(null, chunk);
    },
  });
  const sink = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(await lake.get(key), tap, sink, { signal: cancellationSignal() });
  return { bytes, rows: Number(sink.rowCount) };
}

/** A SQL model with its `{{placeholders}}` bound as parameters (and `{{staged}}` naming the staged table). */
export function bindModel(model: Pick<SqlModel, 'sql'>, ctx: RunContext, window: PartitionWindow, sha256: string) {
  const values: Record<string, [unknown, string]> = {
    partition_key: [ctx.partition, 'text'],
    entity: [ctx.partition.includes('@') ? ctx.partition.split('@')[0] : null, 'text'],
    partition_start: [window.start, 'timestamptz'],
    partition_end: [window.end, 'timestamptz'],
    partition_date: [window.date, 'date'],
    source_sha256: [sha256, 'text'],
    run_id: [ctx.runId, 'text'],
  };
  const params: unknown[] = [];
  const index = new Map<string, number>();
  const sql = model.sql.replace(/\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/g, (whole, name: string) => {
    if (name === 'staged') return STAGED_TABLE;
    const v = values[name];
    if (!v) throw new Error(`unknown placeholder ${whole} in SQL model`);
    if (!index.has(name)) index.set(name, params.push(v[0]));
    return `$${index.get(name)}::${v[1]}`;
  });
  return { sql, params };
}

/** Creates the staged rows' temporary table (dropped at commit) and fills it from the staged object. */
async function loadStaged(client: pg.PoolClient, lake: ObjectStore, input: StepInput & { stage: StageResult }) {
  const columns = stagedColumns(genericConfigOf(input));
  await client.query(
    `CREATE TEMPORARY TABLE ${STAGED_TABLE} (${columns.map((c) => `${c.name} ${c.pgType}`).join(', ')}) ON COMMIT DROP`,
  );
  await copyInto(
    client,
    lake,
    input.stage.stagedKey,
    STAGED_TABLE,
    columns.map((c) => c.name),
  );
  await client.query(`ANALYZE ${STAGED_TABLE}`);
}

/**
 * Replaces a generic-format partition's quarantined rows in `ops.quarantined_rows` (code-registered formats publish
 * theirs as a dataset of their own); batched, in the publishing transaction.
 */
async function publishQuarantine(
  client: pg.PoolClient,
  lake: ObjectStore,
  input: StepInput & { stage: StageResult; ingest: IngestResult },
) {
  const { ctx, spec } = input;
  await client.query('DELETE FROM ops.quarantined_rows WHERE pipeline = $1 AND partition_key = $2', [
    spec.id,
    ctx.partition,
  ]);
  let batch: QuarantineRecord[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await client.query(
      `INSERT INTO ops.quarantined_rows (pipeline, partition_key, line_no, reason, column_name, detail, raw, source_sha256)
       SELECT $1, $2, * , $8 FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[])`,
      [
        spec.id,
        ctx.partition,
        batch.map((q) => q.lineNo),
        batch.map((q) => q.reason),
        batch.map((q) => q.column ?? null),
        batch.map((q) => q.detail),
        batch.map((q) => q.raw),
        input.ingest.sha256,
      ],
    );
    batch = [];
  };
  for await (const line of readLines(lake, input.stage.quarantineKey)) {
    batch.push(JSON.parse(line) as QuarantineRecord);
    if (batch.length >= 5000) await flush();
  }
  await flush();
}

/**
 * A run's load never overwrites what a NEWER run of the partition published: runs of a partition are serialized by
 * Temporal, so a newer run only exists once this one closed — this attempt is a zombie (a worker frozen past its
 * timeouts, woken up later) and must not write.
 */
async function refuseIfSuperseded(client: pg.PoolClient, ctx: RunContext, datasets: readonly string[]): Promise<void> {
  const newer = await client.query<{ dataset: string; run_id: string }>(
    `SELECT ps.dataset, ps.run_id FROM ops.partition_state ps
       JOIN ops.runs theirs ON theirs.run_id = ps.run_id
       JOIN ops.runs mine ON mine.run_id = $3
      WHERE ps.partition_key = $1 AND ps.dataset = ANY($2) AND ps.run_id <> $3 AND theirs.started_at > mine.started_at`,
    [ctx.partition, datasets, ctx.runId],
  );
  const n = newer.rows[0];
  if (n)
    throw ApplicationFailure.nonRetryable(
      `${n.dataset} ${ctx.partition} was published by a newer run (${n.run_id}); this run's late load is refused`,
      'Superseded',
    );
}

/**
 * Load: publishes every dataset of the partition in ONE transaction — delete the partition's rows, bulk `COPY` the
 * transforms' files or run the SQL models (`INSERT … SELECT` over the staged rows and other datasets), record the
 * content hash in the load ledger — fenced by an advisory lock on (pipeline, partition). Readers see the old partition
 * or the new one, never a mix (MVCC); a crash anywhere rolls everything back and leaves no table behind. When the
 * ledger says the partition already holds this content, nothing is written (unless forced, manual or a dependency).
 */
export function createLoad(deps: LoadDeps) {
  return async function loadPartition(input: LoadInput): Promise<LoadResult> {
    const startedAt = new Date();
    const { ctx, spec, ingest, stage, transform } = input;
    const models = new Map(spec.transforms.filter(isSqlModel).map((m) => [m.id, m]));
    const client = await deps.warehouse.connect();
    const rows: Record<string, number> = {};
    let status: LoadResult['status'] = 'loaded';
    let bytes = 0;
    try {
      await client.query('BEGIN');
      await lockFenced(client, {
        key: `load:${spec.id}:${ctx.partition}`,
        role: 'load',
        runId: ctx.runId,
        attempt: attempt(),
      });
      await refuseIfSuperseded(client, ctx, spec.load.datasets);
      const state = await client.query<{ dataset: string; content_sha256: string }>(
        'SELECT dataset, content_sha256 FROM ops.partition_state WHERE partition_key = $1 AND dataset = ANY($2)',
        [ctx.partition, spec.load.datasets],
      );
      const current = new Map(state.rows.map((r) => [r.dataset, r.content_sha256]));
      const same = spec.load.datasets.every((d) => current.get(d) === ingest.sha256);
      if (same && !input.force && ctx.runKind !== 'manual' && ctx.runKind !== 'dependency') {
        status = 'unchanged';
      } else {
        if (models.size > 0) await loadStaged(client, deps.lake, input);
        for (const name of spec.load.datasets) {
          const out = transform.outputs[name];
          if (!out) throw new Error(`transform produced no ${name} output`);
          const d = datasetOf(name);
          const where = partitionWhere(d, stage.window, ctx.partition);
          await client.query(`DELETE FROM ${d.table} WHERE ${where.sql}`, where.params);
          const columns = d.columns.map((c) => c.name);
          if ('model' in out) {
            const bound = bindModel(models.get(out.model)!, ctx, stage.window, ingest.sha256);
            const res = await client.query(`INSERT INTO ${d.table} (${columns.join(', ')}) ${bound.sql}`, bound.params);
            rows[name] = res.rowCount ?? 0;
          } else {
            const copied = await copyInto(client, deps.lake, out.key, d.table, columns);
            rows[name] = copied.rows;
            bytes += copied.bytes;
          }
          await client.query(
            `INSERT INTO ops.partition_state (dataset, partition_key, content_sha256, run_id, rows) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (dataset, partition_key) DO UPDATE SET content_sha256 = EXCLUDED.content_sha256,
               run_id = EXCLUDED.run_id, rows = EXCLUDED.rows, loaded_at = now()`,
            [name, ctx.partition, ingest.sha256, ctx.runId, rows[name]],
          );
          await client.query(
            `INSERT INTO ops.load_ledger (dataset, partition_key, content_sha256, run_id, rows) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING`,
            [name, ctx.partition, ingest.sha256, ctx.runId, rows[name]],
          );
        }
        if (formatOf(spec).configuredColumns) await publishQuarantine(client, deps.lake, input);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    const catalog = new Catalog(deps.warehouse);
    for (const [name, out] of Object.entries(transform.outputs)) {
      const from = 'key' in out ? lakeUri(deps.lake.location, out.key) : lakeUri(deps.lake.location, stage.stagedKey);
      await catalog.lineage(ctx, 'load', from, tableUri(datasetOf(name).table, ctx.partition));
      if ('model' in out)
        for (const read of models.get(out.model)!.reads ?? []) {
          const r = datasetOf(read);
          if (r.source)
            await catalog.lineage(
              ctx,
              'load',
              `postgres://warehouse/${r.table}`,
              tableUri(datasetOf(name).table, ctx.partition),
            );
        }
      const t = input.trigger;
      if (t && 'model' in out && (models.get(out.model)!.reads ?? []).includes(t.dataset))
        await catalog.lineage(
          ctx,
          'dependency',
          tableUri(datasetOf(t.dataset).table, t.partition),
          tableUri(datasetOf(name).table, ctx.partition),
        );
    }
    const total = Object.values(rows).reduce((a, b) => a + b, 0);
    await catalog.step(ctx, {
      step: 'load',
      startedAt,
      attempt: attempt(),
      rowsIn: total,
      rowsOut: total,
      bytes,
      details: { status, rows },
    });
    return { status, rows };
  };
}
