import { DateTime } from 'luxon';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import type pg from 'pg';
import type { ExportActivities } from '../workflows/feature-export.workflow.js';
import {
  DEFAULT_MAX_FILE_BYTES,
  type ExportChunkResult,
  type ExportFile,
  type ExportManifest,
  type FeatureExportInput,
} from '../workflows/features/export-messages.js';
import { dayNumber, dayOf } from '../workflows/features/plan.js';
import { exportColumns, type FeatureColumn, type FeatureSetSpec } from '../workflows/features/spec.js';
import { cancellationSignal, heartbeat } from './activity-context.js';
import { featureQuery, partitionEntitySql, partitionHourSql, type FeatureQueryInput } from './features/queries.js';
import { copyBinaryToParquet } from './formats/pg-copy-binary.js';
import { ParquetWriter, type ParquetColumn } from './formats/parquet/parquet-writer.js';
import type { ObjectStore } from './storage/object-store.js';

/**
 * Export keys, beside the pipelines' zones in the lake (layout v1):
 * `v1/exports/<featureSet>/v<version>/<exportId>/part-<chunk>-<n>.<parquet|csv>`, `…/lineage.jsonl`, `…/manifest.json`.
 * The export id derives from the request, so a retried or repeated export overwrites its own keys and nothing else.
 */
export const exportKeys = {
  prefix: (set: string, version: number, exportId: string) => `v1/exports/${set}/v${version}/${exportId}/`,
  part: (prefix: string, chunk: number, n: number, format: string) =>
    `${prefix}part-${String(chunk).padStart(5, '0')}-${String(n).padStart(3, '0')}.${format}`,
};

/** Rows between two heartbeats (and progress reports) while streaming. */
const HEARTBEAT_ROWS = 100_000;

interface Deps {
  warehouse: pg.Pool;
  lake: ObjectStore;
}

/** A lake object being written as a stream, hashed on the way. */
class LakeFileWriter {
  private readonly pass = new PassThrough({ highWaterMark: 1 << 20 });
  private readonly hash = createHash('sha256');
  private readonly done: Promise<{ size: number }>;
  private failure: Error | undefined;
  bytes = 0;

  constructor(
    lake: ObjectStore,
    readonly key: string,
    contentType: string,
  ) {
    // The upload reports a failed or aborted stream through `done`; the stream's own 'error' must not go unhandled.
    this.pass.on('error', () => undefined);
    this.done = lake.put(key, this.pass, { contentType });
    this.done.catch((err: unknown) => {
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.pass.destroy();
    });
  }

  /** Throws the upload's failure, if it failed. */
  private check(): void {
    if (this.failure) throw this.failure;
  }

  async write(chunk: Buffer): Promise<void> {
    this.check();
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.pass.write(chunk)) {
      await Promise.race([once(this.pass, 'drain'), this.done]);
      this.check();
    }
  }

  async end(): Promise<{ bytes: number; sha256: string }> {
    this.pass.end();
    await this.done;
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  abort(): void {
    this.pass.destroy(new Error('export aborted'));
  }
}

/** Casts a feature column to the PostgreSQL type its export format writes. */
function pgType(type: FeatureColumn['type']): string {
  return {
    string: 'text',
    int32: 'int4',
    int64: 'int8',
    double: 'float8',
    boolean: 'bool',
    timestamp: 'timestamptz',
    date: 'date',
  }[type];
}

/** CSV text of a column: ISO-8601 UTC instants, `true`/`false`, numbers and text as PostgreSQL prints them. */
function csvExpr(c: FeatureColumn): string {
  const col = `q.${c.name}`;
  if (c.type === 'timestamp') return `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  if (c.type === 'boolean') return `CASE WHEN ${col} THEN 'true' WHEN NOT ${col} THEN 'false' END`;
  return `${col}::${pgType(c.type)}`;
}

/** The feature set's query typed exactly as the spec says (a missing or misnamed column fails here, loudly). */
export function typedQuery(
  spec: FeatureSetSpec,
  request: FeatureExportInput,
  asOf: string,
  from: string,
  to: string,
  excluded?: FeatureQueryInput['excluded'],
) {
  const columns = exportColumns(spec, request.training);
  const inner = featureQuery(spec, { from, to, asOf, training: request.training, excluded });
  const list =
    request.format === 'csv'
      ? columns.map((c) => `${csvExpr(c)} AS ${c.name}`)
      : columns.map((c) => `q.${c.name}::${pgType(c.type)} AS ${c.name}`);
  return { columns, sql: `SELECT ${list.join(', ')} FROM (${inner}) q` };
}

/** Streams one chunk of days to Parquet files, each closed at the first row group past the size bound. */
async function exportParquet(
  deps: Deps,
  client: pg.PoolClient,
  sql: string,
  columns: FeatureColumn[],
  newKey: (n: number) => string,
  maxFileBytes: number,
  meta: Record<string, string>,
): Promise<Omit<ExportFile, 'from' | 'to'>[]> {
  const files: Omit<ExportFile, 'from' | 'to'>[] = [];
  let current: LakeFileWriter | undefined;
  let currentWriter: ParquetWriter | undefined;
  const closeCurrent = async () => {
    if (!current || !currentWriter) return;
    const { bytes, sha256 } = await current.end();
    files.push({ key: current.key, rows: currentWriter.rowsWritten, bytes, sha256 });
    current = undefined;
    currentWriter = undefined;
  };
  const parquetColumns: ParquetColumn[] = columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }));
  try {
    await copyBinaryToParquet(
      client,
      sql,
      undefined,
      parquetColumns,
      async () => {
        await closeCurrent();
        const file = new LakeFileWriter(deps.lake, newKey(files.length), 'application/vnd.apache.parquet');
        current = file;
        currentWriter = new ParquetWriter(parquetColumns, (chunk) => file.write(chunk), {
          createdBy: 'fabrica',
          keyValueMetadata: meta,
        });
        return currentWriter;
      },
      {
        maxBytesPerFile: maxFileBytes,
        signal: cancellationSignal(),
        onProgress: (rows) => heartbeat({ rows }),
      },
    );
    await closeCurrent();
  } catch (err) {
    current?.abort();
    throw err;
  }
  return files;
}

/** Streams one chunk of days to CSV files (header on each), split at row boundaries past the size bound. */
async function exportCsv(
  deps: Deps,
  client: pg.PoolClient,
  sql: string,
  columns: FeatureColumn[],
  newKey: (n: number) => string,
  maxFileBytes: number,
): Promise<Omit<ExportFile, 'from' | 'to'>[]> {
  const files: Omit<ExportFile, 'from' | 'to'>[] = [];
  const header = Buffer.from(`${columns.map((c) => c.name).join(',')}\n`);
  let file: LakeFileWriter | undefined;
  let rows = 0;
  let inQuotes = false;
  const close = async () => {
    if (!file) return;
    const { bytes, sha256 } = await file.end();
    files.push({ key: file.key, rows, bytes, sha256 });
    file = undefined;
    rows = 0;
  };
  const open = async () => {
    file = new LakeFileWriter(deps.lake, newKey(files.length), 'text/csv; charset=utf-8');
    await file.write(header);
  };
  const stream = client.query(copyStreams.to(`COPY (${sql}) TO STDOUT WITH (FORMAT csv)`));
  const signal = cancellationSignal();
  let total = 0;
  try {
    await open();
    for await (const data of stream as AsyncIterable<Buffer>) {
      if (signal.aborted) throw new Error('export cancelled');
      // Row ends are newlines outside quoted fields; a file is closed at the first row end past the size bound.
      let start = 0;
      for (let i = 0; i < data.length; i++) {
        const b = data[i]!;
        if (b === 0x22) inQuotes = !inQuotes;
        else if (b === 0x0a && !inQuotes) {
          rows++;
          total++;
          if (total % HEARTBEAT_ROWS === 0) heartbeat({ rows: total });
          if (file!.bytes + (i + 1 - start) >= maxFileBytes) {
            await file!.write(data.subarray(start, i + 1));
            start = i + 1;
            await close();
            await open();
          }
        }
      }
      if (start < data.length) await file!.write(data.subarray(start));
    }
    // A chunk without rows writes no file (as for Parquet); the manifest then simply lists none for it.
    if (rows > 0) await close();
    else {
      file!.abort();
      file = undefined;
    }
  } catch (err) {
    file?.abort();
    stream.destroy();
    throw err;
  }
  return files;
}

/**
 * The partitions of an event-grain set's dataset in `[from, to]` first published after the cut-off, per entity (the
 * load ledger keeps every publication; the first one is when the partition became known). Rows only ever come in
 * through a load, which writes the ledger, so everything else in the range was published by the cut-off.
 */
export async function unpublishedPartitions(
  db: Pick<pg.Pool, 'query'>,
  spec: FeatureSetSpec,
  from: string,
  to: string,
  asOf: string,
): Promise<NonNullable<FeatureQueryInput['excluded']>> {
  const r = await db.query<{ entity: string; hours: Date[] }>(
    `SELECT entity, array_agg(hour ORDER BY hour) AS hours FROM (
       SELECT ${partitionEntitySql('partition_key')} AS entity, ${partitionHourSql('partition_key', '$5')} AS hour
       FROM ops.load_ledger WHERE dataset = $1
       GROUP BY partition_key HAVING min(loaded_at) > $4
     ) p
     WHERE hour >= ($2::date::timestamp AT TIME ZONE $5) AND hour < (($3::date + 1)::timestamp AT TIME ZONE $5)
     GROUP BY entity ORDER BY entity`,
    [spec.inputs.datasets[0], from, to, asOf, spec.timeZone],
  );
  return r.rows.map((x) => ({ entity: x.entity, hours: x.hours.map((h) => h.toISOString()) }));
}

/** Serializes the request into the fields the catalog keeps. */
function catalogRow(request: FeatureExportInput, asOf: string): unknown[] {
  return [
    request.exportId,
    request.spec.id,
    request.spec.version,
    request.from,
    request.to,
    asOf,
    request.format,
    request.training,
  ];
}

/** Lists the partitions (with the run that last loaded each by the cut-off) the export read, into `lineage.jsonl`. */
async function writeLineage(
  deps: Deps,
  request: FeatureExportInput,
  asOf: string,
  key: string,
): Promise<{ sha256: string; partitions: number; runs: number }> {
  const spec = request.spec;
  const from = dayOf(dayNumber(request.from) - spec.inputs.lookbackDays);
  const start = DateTime.fromISO(from, { zone: spec.timeZone }).toUTC().toISO()!;
  const end = DateTime.fromISO(dayOf(dayNumber(request.to) + 1), { zone: spec.timeZone })
    .toUTC()
    .toISO()!;
  const file = new LakeFileWriter(deps.lake, key, 'application/x-ndjson');
  const runs = new Set<string>();
  let partitions = 0;
  try {
    for (const dataset of spec.inputs.datasets) {
      let after = '';
      for (;;) {
        const page = await deps.warehouse.query<{
          partition_key: string;
          run_id: string;
          content_sha256: string;
          loaded_at: Date;
        }>(
          `SELECT DISTINCT ON (partition_key) partition_key, run_id, content_sha256, loaded_at
           FROM ops.load_ledger
           WHERE dataset = $1 AND loaded_at <= $2 AND partition_key > $3
             AND ${partitionHourSql('partition_key', '$6')} >= $4::timestamptz
             AND ${partitionHourSql('partition_key', '$6')} < $5::timestamptz
           ORDER BY partition_key, loaded_at DESC LIMIT 5000`,
          [dataset, asOf, after, start, end, spec.timeZone],
        );
        if (page.rows.length === 0) break;
        const lines = page.rows.map((r) => {
          runs.add(r.run_id);
          return JSON.stringify({
            dataset,
            partition: r.partition_key,
            runId: r.run_id,
            contentSha256: r.content_sha256,
            loadedAt: r.loaded_at.toISOString(),
          });
        });
        partitions += page.rows.length;
        await file.write(Buffer.from(`${lines.join('\n')}\n`));
        after = page.rows[page.rows.length - 1]!.partition_key;
        heartbeat({ lineage: partitions });
      }
    }
    const { sha256 } = await file.end();
    return { sha256, partitions, runs: runs.size };
  } catch (err) {
    file.abort();
    throw err;
  }
}

/** The last successful sync of each source at or before the cut-off. */
async function sourceSyncs(
  deps: Deps,
  sources: string[],
  asOf: string,
): Promise<ExportManifest['lineage']['sourceSyncs']> {
  if (sources.length === 0) return [];
  const exists = await deps.warehouse.query<{ t: string | null }>(`SELECT to_regclass('ops.source_syncs')::text AS t`);
  if (!exists.rows[0]?.t) return [];
  const r = await deps.warehouse.query<{ source_id: string; run_id: string; finished_at: Date }>(
    `SELECT DISTINCT ON (source_id) source_id, run_id, finished_at FROM ops.source_syncs
     WHERE source_id = ANY($1) AND status = 'committed' AND finished_at <= $2
     ORDER BY source_id, finished_at DESC`,
    [sources, asOf],
  );
  return r.rows.map((x) => ({ sourceId: x.source_id, runId: x.run_id, finishedAt: x.finished_at.toISOString() }));
}

/** The activities of `featureExportWorkflow`. */
export function createExportActivities(deps: Deps): ExportActivities {
  return {
    async recordExportStarted({ request, asOf }) {
      await deps.warehouse.query(
        `INSERT INTO ops.feature_exports (export_id, feature_set, version, range_from, range_to, as_of, format, training,
           status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running')
         ON CONFLICT (export_id) DO UPDATE SET status = 'running', error = NULL, finished_at = NULL,
           started_at = CASE WHEN ops.feature_exports.status = 'running' THEN ops.feature_exports.started_at ELSE now() END`,
        catalogRow(request, asOf),
      );
    },

    async exportFeatureChunk({ request, asOf, chunk }): Promise<ExportChunkResult> {
      const spec = request.spec;
      const excluded =
        spec.grain === 'events'
          ? await unpublishedPartitions(deps.warehouse, spec, chunk.from, chunk.to, asOf)
          : undefined;
      const { columns, sql } = typedQuery(spec, request, asOf, chunk.from, chunk.to, excluded);
      const prefix = exportKeys.prefix(spec.id, spec.version, request.exportId);
      const newKey = (n: number) => exportKeys.part(prefix, chunk.index, n, request.format);
      const maxFileBytes = request.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
      const client = await deps.warehouse.connect();
      let broken = false;
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        // Local to the transaction: the pooled connection goes back with its own session settings.
        await client.query(`SET LOCAL TimeZone = 'UTC'`);
        const files =
          request.format === 'csv'
            ? await exportCsv(deps, client, sql, columns, newKey, maxFileBytes)
            : await exportParquet(deps, client, sql, columns, newKey, maxFileBytes, {
                'fabrica.feature_set': `${spec.id}@${spec.version}`,
                'fabrica.export_id': request.exportId,
                'fabrica.as_of': asOf,
              });
        await client.query('COMMIT');
        const withRange = files.map((f) => ({ ...f, from: chunk.from, to: chunk.to }));
        return {
          chunk,
          files: withRange,
          rows: files.reduce((n, f) => n + f.rows, 0),
          bytes: files.reduce((n, f) => n + f.bytes, 0),
        };
      } catch (err) {
        broken = true;
        throw err;
      } finally {
        client.release(broken);
      }
    },

    async finishFeatureExport({ request, asOf, files }) {
      const spec = request.spec;
      const prefix = exportKeys.prefix(spec.id, spec.version, request.exportId);
      const lineageKey = `${prefix}lineage.jsonl`;
      const manifestKey = `${prefix}manifest.json`;
      const lineage = await writeLineage(deps, request, asOf, lineageKey);
      const manifest: ExportManifest = {
        manifestVersion: 1,
        exportId: request.exportId,
        featureSet: {
          id: spec.id,
          version: spec.version,
          grain: spec.grain,
          entityColumn: spec.entityColumn,
          timeColumn: spec.timeColumn,
        },
        range: { from: request.from, to: request.to },
        asOf,
        training: request.training,
        format: request.format,
        schema: exportColumns(spec, request.training).map((c) => ({ ...c })),
        rowCount: files.reduce((n, f) => n + f.rows, 0),
        byteCount: files.reduce((n, f) => n + f.bytes, 0),
        files,
        lineage: {
          file: 'lineage.jsonl',
          sha256: lineage.sha256,
          partitions: lineage.partitions,
          runs: lineage.runs,
          sourceSyncs: await sourceSyncs(deps, spec.inputs.sources, asOf),
        },
        createdAt: new Date().toISOString(),
        createdBy: 'fabrica featureExportWorkflow',
      };
      // Files an earlier attempt wrote and this one did not (the data changed in between) must not linger.
      const keep = new Set([...files.map((f) => f.key), lineageKey, manifestKey]);
      for await (const o of deps.lake.list(prefix)) if (!keep.has(o.key)) await deps.lake.delete(o.key);
      await deps.lake.put(manifestKey, `${JSON.stringify(manifest, null, 2)}\n`, { contentType: 'application/json' });
      await deps.warehouse.query(
        `UPDATE ops.feature_exports SET status = 'succeeded', rows = $2, bytes = $3, manifest_key = $4, manifest = $5,
           error = NULL, finished_at = now() WHERE export_id = $1`,
        [request.exportId, manifest.rowCount, manifest.byteCount, manifestKey, JSON.stringify(manifest)],
      );
      return { manifestKey, manifest };
    },

    async recordExportFailed({ exportId, message, cancelled }) {
      await deps.warehouse.query(
        `UPDATE ops.feature_exports SET status = $3, error = $2, finished_at = now() WHERE export_id = $1`,
        [exportId, message.slice(0, 2000), cancelled ? 'cancelled' : 'failed'],
      );
    },
  };
}
