import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { execFile } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import copyStreams from 'pg-copy-streams';
import type pg from 'pg';
import type { FeatureColumn } from '../../../workflows/features/spec.js';

/**
 * A query's rows cannot be written as the columns say (a NULL in a column declared not nullable, an infinite
 * timestamp or date): the query or the data must change, so retrying cannot help.
 */
export class ParquetExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParquetExportError';
  }
}

/** One Parquet file written locally. */
export interface LocalParquetFile {
  path: string;
  rows: number;
}

/** Options of {@link copyQueryToParquet}. */
export interface CopyToParquetOptions {
  /** A file closes at the first row group that takes it to this size or past it. */
  maxFileBytes: number;
  /** Key-value metadata in every file's footer. */
  keyValueMetadata?: Record<string, string>;
  signal?: AbortSignal;
  /** Called with the CSV bytes read from PostgreSQL so far (about every 8 MiB). */
  onProgress?: (bytes: number) => void;
}

/**
 * DuckDB's memory and threads inside the worker process. DuckDB's memory is outside the V8 heap: its limit (plus the
 * Parquet writer's buffers of one row group) keeps the worker's RSS bounded. One thread: with two, DuckDB writes row
 * groups to the files of a size-bounded COPY in whatever order its threads finish, so the same export would not write
 * the same files (nor rows in query order); two were ~15 % faster beside PostgreSQL on 2 cores (bench:export,
 * BENCH_DAYS=2: 591 k against 515 k rows/s, peak RSS 472 against 435 MiB).
 */
export const DUCKDB_SETTINGS = { memory_limit: '192MB', threads: '1', preserve_insertion_order: 'true' };

/** DuckDB's default row group (rows); smaller for a small file bound, so that files can close near it. */
const MAX_ROW_GROUP_ROWS = 122_880;

const DUCK_TYPES: Record<FeatureColumn['type'], string> = {
  string: 'VARCHAR',
  int32: 'INTEGER',
  int64: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
  date: 'DATE',
};

/** Marks the errors our own checks raise inside DuckDB, to tell them from DuckDB's own failures. */
const CHECK_MARK = 'fabrica export check: ';

/** A SQL string literal for DuckDB. */
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
/** A quoted identifier for DuckDB. */
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** The expression DuckDB writes for a column: its value, or an error for a value the column may not hold. */
function checkedColumn(c: FeatureColumn): string {
  const col = ident(c.name);
  const checks: string[] = [];
  if (!c.nullable) checks.push(`WHEN ${col} IS NULL THEN error(${lit(`${CHECK_MARK}column "${c.name}" is NULL`)})`);
  if (c.type === 'timestamp' || c.type === 'date')
    checks.push(
      `WHEN isinf(${col}) THEN error(${lit(`${CHECK_MARK}column "${c.name}" holds an infinite value, which Parquet cannot hold`)})`,
    );
  return checks.length === 0 ? col : `CASE ${checks.join(' ')} ELSE ${col} END AS ${col}`;
}

/** Rows per row group for a file bound: a row group is at most ~1/8 of the bound at a pessimistic 64 B/row. */
export function rowGroupRows(maxFileBytes: number): number {
  return Math.max(2048, Math.min(MAX_ROW_GROUP_ROWS, Math.floor(maxFileBytes / 512)));
}

/** The DuckDB statement that reads PostgreSQL's CSV from `csvPath` and writes ZSTD Parquet files into `outDir`. */
export function duckCopySql(csvPath: string, outDir: string, columns: FeatureColumn[], o: CopyToParquetOptions) {
  const types = columns.map((c) => `${lit(c.name)}: ${lit(DUCK_TYPES[c.type])}`).join(', ');
  // PostgreSQL's CSV: NULL is an unquoted empty field, an empty string is `""` (allow_quoted_nulls = false keeps it a
  // string); quotes are doubled; a quoted field may span lines. Nothing is sniffed: the columns are the spec's.
  const csv =
    `read_csv(${lit(csvPath)}, columns = {${types}}, header = false, auto_detect = false, delim = ',', ` +
    `quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false)`;
  const kv = Object.entries(o.keyValueMetadata ?? {})
    .map(([k, v]) => `${lit(k)}: ${lit(v)}`)
    .join(', ');
  return (
    `COPY (SELECT ${columns.map(checkedColumn).join(', ')} FROM ${csv}) TO ${lit(outDir)} (FORMAT parquet, ` +
    `COMPRESSION zstd, FILE_SIZE_BYTES ${Math.max(1, Math.floor(o.maxFileBytes))}, ` +
    `ROW_GROUP_SIZE ${rowGroupRows(o.maxFileBytes)}, FILENAME_PATTERN 'part-{i}'` +
    (kv ? `, KV_METADATA {${kv}}` : '') +
    ')'
  );
}

/** One DuckDB per process, made on first use with {@link DUCKDB_SETTINGS}. */
export class DuckDbParquetWriter {
  private instance: Promise<DuckDBInstance> | undefined;

  private connect(): Promise<DuckDBConnection> {
    // Loaded on first use: a worker that never exports Parquet never maps DuckDB's native library.
    this.instance ??= import('@duckdb/node-api').then(({ DuckDBInstance }) =>
      DuckDBInstance.create(':memory:', {
        ...DUCKDB_SETTINGS,
        // Where DuckDB would spill past its memory limit: never the working directory (read-only in the image).
        temp_directory: path.join(tmpdir(), 'fabrica-duckdb'),
      }),
    );
    return this.instance.then((i) => i.connect());
  }

  /**
   * Streams `COPY (sql) TO STDOUT (FORMAT csv)` through a FIFO into DuckDB, which writes ZSTD Parquet files (types
   * exactly as `columns` say: TIMESTAMP(UTC, µs), DATE, INT32/INT64, DOUBLE, BOOLEAN, STRING; row groups with min/max
   * statistics) into `outDir`, each closed at the first row group at or past `maxFileBytes`. PostgreSQL and DuckDB
   * run at once; nothing but a pipe buffer sits between them. The session must use `TimeZone = 'UTC'` and ISO dates.
   * Returns the files in row order with their row counts (none for a query without rows).
   */
  async copyQueryToParquet(
    client: pg.PoolClient,
    sql: string,
    columns: FeatureColumn[],
    outDir: string,
    o: CopyToParquetOptions,
  ): Promise<LocalParquetFile[]> {
    await mkdir(outDir, { recursive: true });
    const fifo = path.join(outDir, 'rows.csv');
    await promisify(execFile)('mkfifo', [fifo]);
    const parquetDir = path.join(outDir, 'parquet');
    const conn = await this.connect();
    const source = client.query(copyStreams.to(`COPY (${sql}) TO STDOUT (FORMAT csv)`));
    const onAbort = () => {
      source.destroy(new Error('export cancelled'));
      conn.interrupt();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (o.signal?.aborted) throw new Error('export cancelled');
      let bytes = 0;
      let reported = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          if (bytes - reported >= 8 << 20) {
            reported = bytes;
            o.onProgress?.(bytes);
          }
          cb(null, chunk);
        },
      });
      // Opened read-write, which never blocks (a write-only open waits for the reader), and written as a socket
      // (epoll, not libuv's thread pool): DuckDB's queries hold pool threads while they run, so with as many exports
      // at once as pool threads, pool-based writes to the FIFO would never run. Closing it is DuckDB's end of input.
      const sink = new Socket({ fd: openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK), readable: false });
      const feed = pipeline(source, count, sink).finally(() => sink.destroy());
      const convert = conn.run(duckCopySql(fifo, parquetDir, columns, o));
      let duckFailed = false;
      const unblock = convert.catch(() => {
        duckFailed = true;
        source.destroy(new Error('DuckDB failed'));
      });
      const [fed, converted] = await Promise.allSettled([feed, convert]);
      await unblock;
      if (o.signal?.aborted) throw new Error('export cancelled');
      // PostgreSQL failed (or was cancelled): DuckDB read a part (and may have failed on a cut row); its files are
      // never used.
      if (fed.status === 'rejected' && !(duckFailed && converted.status === 'rejected')) throw fed.reason;
      if (converted.status === 'rejected') throw duckFailure(converted.reason);
      o.onProgress?.(bytes);
      return await filesOf(conn, parquetDir);
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      conn.closeSync();
    }
  }

  /** Closes the DuckDB instance, if one was made. */
  async close(): Promise<void> {
    const instance = await this.instance?.catch(() => undefined);
    this.instance = undefined;
    instance?.closeSync();
  }
}

/** DuckDB's error, as our own check's error when one of ours raised it. */
function duckFailure(reason: unknown): Error {
  const message = reason instanceof Error ? reason.message : String(reason);
  const at = message.indexOf(CHECK_MARK);
  if (at >= 0) return new ParquetExportError(message.slice(at + CHECK_MARK.length).split('\n')[0]!);
  return reason instanceof Error ? reason : new Error(message);
}

/** The Parquet files DuckDB wrote, in row order (`part-<i>`), with their rows; files without rows are dropped. */
async function filesOf(conn: DuckDBConnection, dir: string): Promise<LocalParquetFile[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.parquet'));
  names.sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
  const files: LocalParquetFile[] = [];
  for (const name of names) {
    const p = path.join(dir, name);
    const meta = await conn.runAndReadAll(`SELECT num_rows::DOUBLE AS n FROM parquet_file_metadata(${lit(p)})`);
    const rows = Number(meta.getRowObjectsJS()[0]!.n);
    if (rows > 0) files.push({ path: p, rows });
  }
  return files;
}
