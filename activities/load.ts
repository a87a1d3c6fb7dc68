import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { IngestResult, LoadResult, StageResult, StepInput, TransformResult } from '../workflows/steps.js';
import { attempt, cancellationSignal, heartbeat } from './activity-context.js';
import { Catalog } from './catalog.js';
import { DATASET_COLUMNS, tableOf } from './datasets/machine-signal.js';
import { lakeUri, tableUri } from './lake-layout.js';
import type { ObjectStore } from './storage/object-store.js';

/** What load needs. */
export interface LoadDeps {
  warehouse: pg.Pool;
  lake: ObjectStore;
}

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

/**
 * Load: publishes every dataset of the partition in ONE transaction — delete the partition's rows, bulk `COPY` the
 * new ones, record the content hash in the load ledger — fenced by an advisory lock on (pipeline, partition). Readers
 * see the old partition or the new one, never a mix (MVCC); a crash anywhere rolls everything back and leaves no
 * table behind. When the ledger says the partition already holds this content, nothing is written.
 */
export function createLoad(deps: LoadDeps) {
  return async function loadPartition(
    input: StepInput & { ingest: IngestResult; stage: StageResult; transform: TransformResult },
  ): Promise<LoadResult> {
    const startedAt = new Date();
    const { ctx, spec, ingest, stage, transform } = input;
    const machine = ctx.partition.split('@')[0]!;
    const client = await deps.warehouse.connect();
    const rows: Record<string, number> = {};
    let status: LoadResult['status'] = 'loaded';
    let bytes = 0;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`load:${spec.id}:${ctx.partition}`]);
      const state = await client.query<{ dataset: string; content_sha256: string }>(
        'SELECT dataset, content_sha256 FROM ops.partition_state WHERE partition_key = $1 AND dataset = ANY($2)',
        [ctx.partition, spec.load.datasets],
      );
      const current = new Map(state.rows.map((r) => [r.dataset, r.content_sha256]));
      if (spec.load.datasets.every((d) => current.get(d) === ingest.sha256) && input.ctx.runKind !== 'manual') {
        status = 'unchanged';
      } else {
        for (const dataset of spec.load.datasets) {
          const out = transform.outputs[dataset];
          if (!out) throw new Error(`transform produced no ${dataset} output`);
          const table = tableOf(dataset);
          await client.query(`DELETE FROM ${table} WHERE machine_id = $1 AND partition_hour = $2`, [
            machine,
            stage.hourStart,
          ]);
          const copied = await copyInto(
            client,
            deps.lake,
            out.key,
            table,
            DATASET_COLUMNS[dataset as keyof typeof DATASET_COLUMNS],
          );
          rows[dataset] = copied.rows;
          bytes += copied.bytes;
          await client.query(
            `INSERT INTO ops.partition_state (dataset, partition_key, content_sha256, run_id, rows) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (dataset, partition_key) DO UPDATE SET content_sha256 = EXCLUDED.content_sha256,
               run_id = EXCLUDED.run_id, rows = EXCLUDED.rows, loaded_at = now()`,
            [dataset, ctx.partition, ingest.sha256, ctx.runId, copied.rows],
          );
          await client.query(
            `INSERT INTO ops.load_ledger (dataset, partition_key, content_sha256, run_id, rows) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING`,
            [dataset, ctx.partition, ingest.sha256, ctx.runId, copied.rows],
          );
        }
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    const catalog = new Catalog(deps.warehouse);
    for (const [dataset, out] of Object.entries(transform.outputs)) {
      await catalog.lineage(
        ctx,
        'load',
        lakeUri(deps.lake.location, out.key),
        tableUri(tableOf(dataset), ctx.partition),
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
