import type pg from 'pg';
import type { PartitionWindow } from '../workflows/partitions.js';
import type { PipelineSpec, ReverseEtlOutput } from '../workflows/spec.js';
import type {
  HandoffApplied,
  IngestResult,
  PublishedVersion,
  RunContext,
  RunOutcome,
  ServeHandoff,
  ServeResult,
  StageResult,
  StepInput,
} from '../workflows/steps.js';
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

/** The published rows of a reverse-ETL output's partition and the version they belong to, read in one snapshot. */
async function readPublished(
  deps: Pick<ServeDeps, 'warehouse'>,
  o: ReverseEtlOutput,
  ctx: RunContext,
  window: PartitionWindow,
  asText: boolean,
): Promise<{ rows: Record<string, unknown>[]; version: PublishedVersion | undefined }> {
  const d = datasetOf(o.dataset);
  const where = partitionWhere(d, window, ctx.partition);
  const read = await deps.warehouse.connect();
  try {
    await read.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const version = await publishedVersion(read, o.dataset, ctx.partition);
    // As text for a hand-off: PostgreSQL's own text form round-trips every type exactly through JSON.
    const columns = asText ? o.columns.map((c) => `${c}::text AS ${c}`) : o.columns;
    const published = await read.query<Record<string, unknown>>(
      `SELECT ${columns.join(', ')} FROM ${d.table} WHERE ${where.sql}`,
      where.params,
    );
    await read.query('COMMIT');
    return { rows: published.rows, version };
  } finally {
    read.release();
  }
}

/**
 * Replaces the partition's rows in the target table and recomputes the aggregate of every key the old or new rows
 * touch as a sum over the target table — so re-running any partition any number of times leaves the aggregate
 * unchanged. Runs inside the caller's transaction, which holds the output's fenced lock. Returns the rows written.
 */
async function replaceTargetPartition(
  client: pg.PoolClient,
  o: ReverseEtlOutput,
  partitionParams: unknown[],
  rows: Record<string, unknown>[],
): Promise<number> {
  const types = new Map(datasetOf(o.dataset).columns.map((c) => [c.name, c.type]));
  const pc = o.partitionColumns;
  const targetWhere = pc.entity ? `${pc.entity} = $1 AND ${pc.time} = $2` : `${pc.time} = $1`;
  const old = await client.query<Record<string, unknown>>(
    `DELETE FROM ${o.table} WHERE ${targetWhere} RETURNING ${o.aggregate ? o.aggregate.key : '1 AS one'}`,
    partitionParams,
  );
  if (rows.length > 0) {
    const partitionCols = pc.entity ? [pc.entity, pc.time] : [pc.time];
    const arrays = o.columns.map((c) => rows.map((r) => r[c]));
    const unnest = o.columns
      .map((c, i) => `$${partitionCols.length + i + 1}::${pgArrayType(types.get(c))}[]`)
      .join(', ');
    await client.query(
      `INSERT INTO ${o.table} (${[...partitionCols, ...o.columns].join(', ')})
       SELECT ${partitionCols.map((_, i) => `$${i + 1}`).join(', ')}, * FROM unnest(${unnest})`,
      [...partitionParams, ...arrays],
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
  return rows.length;
}

/** Runs `work` in a transaction of the target database holding the output's fenced lock. */
async function inTargetTransaction<T>(
  target: pg.Pool,
  o: ReverseEtlOutput,
  ctx: RunContext,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
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
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The target database of an output, or an error naming the connection. */
function targetOf(targets: Record<string, pg.Pool>, o: ReverseEtlOutput, ctx: RunContext): pg.Pool {
  const target = targets[o.connection];
  if (!target) throw new Error(`${ctx.pipeline}: serve connection "${o.connection}" is not configured`);
  return target;
}

/** Reverse ETL placed in the cloud: the worker reads the warehouse and writes the target database itself. */
async function serveReverseEtl(deps: ServeDeps, o: ReverseEtlOutput, ctx: RunContext, window: PartitionWindow) {
  const where = partitionWhere(datasetOf(o.dataset), window, ctx.partition);
  const target = targetOf(deps.targets, o, ctx);
  const { rows, version } = await readPublished(deps, o, ctx, window, false);
  return inTargetTransaction(target, o, ctx, async (client) => {
    const written = await replaceTargetPartition(client, o, where.params, rows);
    // Fencing of a late serve: when the partition was published again since it was read (this attempt was frozen
    // or slow while a newer run loaded), these rows are stale — roll back; the retry serves the new ones.
    const now = await publishedVersion(deps.warehouse, o.dataset, ctx.partition);
    if (JSON.stringify(now) !== JSON.stringify(version))
      throw new Error(`${o.dataset} ${ctx.partition} was published again while it was being served; serving again`);
    return written;
  });
}

/**
 * Reverse ETL placed at the edge, cloud half: the published rows and their version, as one JSON object in the lake
 * under the run's hand-off key (a retry rewrites it whole).
 */
async function handOff(
  deps: ServeDeps,
  o: ReverseEtlOutput,
  ctx: RunContext,
  window: PartitionWindow,
): Promise<ServeHandoff> {
  const { rows, version } = await readPublished(deps, o, ctx, window, true);
  const { params } = partitionWhere(datasetOf(o.dataset), window, ctx.partition);
  const key = lakeKeys.handoff(ctx.pipeline, o.table, ctx.partition, ctx.runId);
  const doc = { table: o.table, partition: ctx.partition, version, partitionParams: params, rows };
  await deps.lake.put(key, JSON.stringify(doc), {
    contentType: 'application/json',
  });
  return { table: o.table, key, rows: rows.length, ...(version ? { version } : {}) };
}

/** What applying a hand-off needs: the lake and the target databases, all reachable from the plant. */
export interface HandoffDeps {
  lake: ObjectStore;
  targets: Record<string, pg.Pool>;
}

/**
 * Reverse ETL placed at the edge, edge half: applies a hand-off to its target database unless the target already
 * holds a newer publication of the partition (`inventory.served_versions`, checked and updated in the same
 * transaction under the output's fenced lock), so a late, retried or replayed hand-off never overwrites newer rows
 * and applying the same one twice changes nothing.
 */
export function createApplyHandoff(deps: HandoffDeps) {
  return async function applyServeHandoff(input: {
    ctx: RunContext;
    spec: PipelineSpec;
    handoff: ServeHandoff;
  }): Promise<HandoffApplied> {
    const { ctx, spec, handoff } = input;
    return withLiveness(async () => {
      const o = spec.serve.find((s): s is ReverseEtlOutput => s.kind === 'reverse-etl' && s.table === handoff.table);
      if (!o) throw new Error(`${spec.id}: no reverse-etl output writes ${handoff.table}`);
      const doc = JSON.parse((await readAll(await deps.lake.get(handoff.key))).toString('utf8')) as {
        version?: PublishedVersion;
        partitionParams: unknown[];
        rows: Record<string, unknown>[];
      };
      return inTargetTransaction(targetOf(deps.targets, o, ctx), o, ctx, async (client) => {
        const held = await client.query<{ newer: boolean }>(
          `SELECT ($3::timestamptz IS NULL OR loaded_at > $3::timestamptz) AS newer FROM inventory.served_versions
            WHERE target_table = $1 AND partition_key = $2 FOR UPDATE`,
          [o.table, ctx.partition, doc.version?.loadedAt ?? null],
        );
        if (held.rows[0]?.newer) return { applied: false, rows: 0, attempt: attempt() };
        const rows = await replaceTargetPartition(client, o, doc.partitionParams, doc.rows);
        if (doc.version)
          await client.query(
            `INSERT INTO inventory.served_versions (target_table, partition_key, loaded_at, run_id, content_sha256)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (target_table, partition_key) DO UPDATE SET loaded_at = EXCLUDED.loaded_at,
               run_id = EXCLUDED.run_id, content_sha256 = EXCLUDED.content_sha256, applied_at = now()`,
            [o.table, ctx.partition, doc.version.loadedAt, doc.version.runId, doc.version.contentSha256],
          );
        return { applied: true, rows, attempt: attempt() };
      });
    });
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** What identifies the published version of a dataset's partition (none when nothing is published). */
async function publishedVersion(
  db: Pick<pg.Pool | pg.PoolClient, 'query'>,
  dataset: string,
  partition: string,
): Promise<PublishedVersion | undefined> {
  const res = await db.query<PublishedVersion>(
    `SELECT content_sha256 AS "contentSha256", run_id AS "runId",
            to_char(loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "loadedAt"
       FROM ops.partition_state WHERE dataset = $1 AND partition_key = $2`,
    [dataset, partition],
  );
  return res.rows[0];
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
 * successful end in the catalog (the last step closes the run). Reverse-ETL outputs placed at the edge are handed off
 * instead: serve returns them, the workflow has an edge worker apply each, then `finishServe` closes the run.
 */
export function createServe(deps: ServeDeps) {
  const catalog = new Catalog(deps.warehouse, alertSinkFor(deps));
  /** Lineage to an edge output, serve's step record, the dependents and the run's end. */
  async function finish(
    input: StepInput & { outcome: RunOutcome },
    startedAt: Date,
    outputs: Record<string, number>,
    partsAttempt = 1,
  ): Promise<ServeResult> {
    const { ctx, spec } = input;
    await catalog.step(ctx, {
      step: 'serve',
      startedAt,
      attempt: Math.max(attempt(), partsAttempt),
      rowsOut: Object.values(outputs).reduce((a, b) => a + b, 0),
      details: outputs,
    });
    const dependents =
      input.outcome.status === 'succeeded' ? await dependentsOf(deps.warehouse, spec, ctx.partition) : [];
    await catalog.runFinished(ctx, input.outcome);
    return { outputs, dependents };
  }
  async function serve(
    input: StepInput & { ingest: IngestResult; stage: StageResult; outcome: RunOutcome },
  ): Promise<ServeResult> {
    const startedAt = new Date();
    const { ctx, spec, stage } = input;
    const outputs: Record<string, number> = {};
    const handoffs: ServeHandoff[] = [];
    for (const output of spec.serve) {
      const from = tableUri(datasetOf(output.dataset).table, ctx.partition);
      if (output.kind === 'reverse-etl' && output.placement === 'edge') {
        handoffs.push(await handOff(deps, output, ctx, stage.window));
      } else if (output.kind === 'reverse-etl') {
        outputs[output.table] = await serveReverseEtl(deps, output, ctx, stage.window);
        await catalog.lineage(ctx, 'serve', from, `postgres://${output.connection}/${output.table}`);
      } else {
        const snap = await serveLakeSnapshot(deps, output.dataset, ctx, stage.window);
        outputs[snap.key] = snap.rows;
        await catalog.lineage(ctx, 'serve', from, lakeUri(deps.lake.location, snap.key));
      }
    }
    if (handoffs.length > 0) return { outputs, dependents: [], handoffs, startedAt: startedAt.toISOString() };
    return finish(input, startedAt, outputs);
  }
  return {
    servePartition(
      input: StepInput & { ingest: IngestResult; stage: StageResult; outcome: RunOutcome },
    ): Promise<ServeResult> {
      return withLiveness(() => serve(input));
    },
    async finishServe(
      input: StepInput & {
        outcome: RunOutcome;
        startedAt: string;
        outputs: Record<string, number>;
        handoffs: ServeHandoff[];
        attempt?: number;
      },
    ): Promise<ServeResult> {
      const { ctx, spec } = input;
      for (const h of input.handoffs) {
        const o = spec.serve.find((s): s is ReverseEtlOutput => s.kind === 'reverse-etl' && s.table === h.table);
        if (!o) continue;
        const from = tableUri(datasetOf(o.dataset).table, ctx.partition);
        await catalog.lineage(ctx, 'serve', from, `postgres://${o.connection}/${o.table}`);
      }
      return finish(input, new Date(input.startedAt), input.outputs, input.attempt);
    },
  };
}
