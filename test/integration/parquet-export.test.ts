import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import { ensureDatabases } from '../../infra/services/postgres.js';
import {
  DuckDbParquetWriter,
  ParquetExportError,
  type CopyToParquetOptions,
} from '../../activities/formats/parquet/duckdb-parquet.js';
import type { FeatureColumn } from '../../workflows/features/spec.js';
import { testServices } from '../support/services.js';

const ROWS = 300_000;

/** Every column type, NULLs everywhere, '' beside NULL, unicode, quotes and newlines, µs timestamps before 1970. */
const CREATE_SOURCE = `
  CREATE TABLE export_src AS
  SELECT g AS id,
    CASE WHEN g % 17 = 0 THEN NULL ELSE (g * 37) % 100000 - 50000 END::int4 AS i4,
    CASE WHEN g % 19 = 0 THEN NULL
         WHEN g % 1000 = 1 THEN 9223372036854775807 - g
         WHEN g % 1000 = 2 THEN -9223372036854775807 + g
         ELSE g::int8 * 1000000007 * (CASE WHEN g % 2 = 0 THEN 1 ELSE -1 END) * 20000 END AS i8,
    CASE WHEN g % 23 = 0 THEN NULL
         WHEN g % 5000 = 1 THEN 'NaN'::float8
         WHEN g % 5000 = 2 THEN '-Infinity'::float8
         WHEN g % 5000 = 3 THEN '-0'::float8
         ELSE g / 7.0::float8 END AS f8,
    CASE WHEN g % 10 = 0 THEN NULL
         WHEN g % 10 = 1 THEN ''
         WHEN g % 10 = 2 THEN 'João'
         WHEN g % 10 = 3 THEN 'Ação 🎉 ' || g
         WHEN g % 10 = 4 THEN repeat('x', g % 700)
         WHEN g % 10 = 5 THEN E'tab\\tnl\\nquote''back\\\\"dq",'
         ELSE 'row ' || g END AS txt,
    CASE WHEN g % 29 = 0 THEN NULL
         ELSE timestamptz '1969-12-31 23:00:00.000001+00' + g * interval '17 minutes 0.000123 seconds' END AS ts,
    CASE WHEN g % 31 = 0 THEN NULL ELSE date '1960-01-01' + (g % 40000) END AS d,
    CASE WHEN g % 13 = 0 THEN NULL ELSE g % 3 = 0 END AS b,
    CASE WHEN g % 41 = 0 THEN NULL ELSE (g / 3.0)::float4 END AS f4,
    ('v' || (g % 100))::varchar(10) AS vc
  FROM generate_series(1, ${ROWS}) g`;

/** The export's query: typed as the columns say (as `typedQuery` does for a feature set). */
const EXPORT_SQL = `SELECT id::int4 AS id, i4, i8, f8, txt, ts, d, b, f4::float8 AS f4, vc::text AS vc
  FROM export_src ORDER BY id`;

const col = (name: string, type: FeatureColumn['type'], nullable = true): FeatureColumn => ({
  name,
  type,
  nullable,
  description: name,
});
const COLUMNS: FeatureColumn[] = [
  col('id', 'int32', false),
  col('i4', 'int32'),
  col('i8', 'int64'),
  col('f8', 'double'),
  col('txt', 'string'),
  col('ts', 'timestamp'),
  col('d', 'date'),
  col('b', 'boolean'),
  col('f4', 'double'),
  col('vc', 'string', false),
];

/** The same row, canonical, from PostgreSQL … */
const PG_CANONICAL = `SELECT id, i4, i8::text AS i8, f8, txt, (extract(epoch FROM ts) * 1000000)::int8::text AS ts,
    (d - date '1970-01-01')::text AS d, b, f4::float8 AS f4, vc::text AS vc
  FROM export_src WHERE id BETWEEN $1 AND $2 ORDER BY id`;
/** … and from DuckDB. */
const DUCK_CANONICAL = (files: string) => `SELECT id, i4, i8::VARCHAR AS i8, f8, txt, epoch_us(ts)::VARCHAR AS ts,
    (d - DATE '1970-01-01')::VARCHAR AS d, b, f4, vc
  FROM read_parquet(${files}) WHERE id BETWEEN $lo AND $hi ORDER BY id`;

/** PostgreSQL's COPY as CSV → DuckDB → ZSTD Parquet, read back by another DuckDB. */
describe('PostgreSQL COPY → DuckDB → Parquet', () => {
  const dbName = `parquet_export_${randomBytes(3).toString('hex')}`;
  let pool: pg.Pool;
  let dir: string;
  let instance: DuckDBInstance;
  let duck: DuckDBConnection;
  const writer = new DuckDbParquetWriter();
  let exportNo = 0;

  beforeAll(async () => {
    const { databaseUrl } = testServices();
    await ensureDatabases(databaseUrl, [dbName]);
    const url = new URL(databaseUrl);
    url.pathname = `/${dbName}`;
    pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
    await pool.query(CREATE_SOURCE);
    await pool.query('ANALYZE export_src');
    dir = mkdtempSync(path.join(tmpdir(), 'parquet-export-'));
    instance = await DuckDBInstance.create(':memory:');
    duck = await instance.connect();
    await duck.run("SET TimeZone = 'UTC'");
  });

  afterAll(async () => {
    duck?.closeSync();
    instance?.closeSync();
    await writer.close();
    await pool?.end();
    const admin = new pg.Client({ connectionString: testServices().databaseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs an export on a fresh connection in the session an export activity uses (UTC, ISO dates). */
  async function exportTo(sql: string, columns: FeatureColumn[], options: Partial<CopyToParquetOptions> = {}) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL TimeZone = 'UTC'`);
      await client.query(`SET LOCAL DateStyle = 'ISO, YMD'`);
      await client.query(`SET LOCAL extra_float_digits = 1`);
      const files = await writer.copyQueryToParquet(client, sql, columns, path.join(dir, `e${exportNo++}`), {
        maxFileBytes: 128 << 20,
        ...options,
      });
      await client.query('COMMIT');
      return files;
    } catch (err) {
      broken = true;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async function duckRows(sql: string, params?: Record<string, number>) {
    return (await duck.runAndReadAll(sql, params)).getRowObjectsJS() as Record<string, unknown>[];
  }

  /** Compares every row of the table with the files, 50 000 ids at a time. */
  async function expectSameRows(paths: string[]) {
    const files = `[${paths.map((p) => `'${p}'`).join(', ')}]`;
    for (let lo = 1; lo <= ROWS; lo += 50_000) {
      const hi = lo + 49_999;
      const want = (await pool.query(PG_CANONICAL, [lo, hi])).rows as Record<string, unknown>[];
      const got = await duckRows(DUCK_CANONICAL(files), { lo, hi });
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        // One assertion per row would be slow; fail with the first differing row.
        if (!Object.is(got[i]!.f8, want[i]!.f8) || JSON.stringify(got[i]) !== JSON.stringify(want[i])) {
          expect(got[i]).toEqual(want[i]);
        }
      }
    }
  }

  it('exports 300k rows of every type into size-bounded ZSTD files, identical row for row', async () => {
    const progress: number[] = [];
    const maxFileBytes = 1_500_000;
    const files = await exportTo(EXPORT_SQL, COLUMNS, {
      maxFileBytes,
      keyValueMetadata: { 'fabrica.export_id': "it's-1" },
      onProgress: (n) => progress.push(n),
    });
    expect(files.reduce((n, f) => n + f.rows, 0)).toBe(ROWS);
    expect(files.length).toBeGreaterThan(2);
    // Each file closes at the first row group past the bound: under it give or take one row group (~1/8 of it) …
    for (const f of files) expect(statSync(f.path).size).toBeLessThan(maxFileBytes * 1.5);
    // … and the bound is not wildly conservative.
    for (const f of files.slice(0, -1)) expect(statSync(f.path).size).toBeGreaterThan(maxFileBytes * 0.8);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toBeGreaterThan(ROWS * 20);

    const paths = files.map((f) => f.path);
    const list = `[${paths.map((p) => `'${p}'`).join(', ')}]`;
    const types = await duckRows(`DESCRIBE SELECT * FROM read_parquet('${paths[0]}')`);
    expect(types.map((t) => `${String(t.column_name)} ${String(t.column_type)}`)).toEqual([
      'id INTEGER',
      'i4 INTEGER',
      'i8 BIGINT',
      'f8 DOUBLE',
      'txt VARCHAR',
      'ts TIMESTAMP WITH TIME ZONE',
      'd DATE',
      'b BOOLEAN',
      'f4 DOUBLE',
      'vc VARCHAR',
    ]);
    // UTC instants in microseconds, dates as DATE, every column chunk ZSTD.
    const schema = await duckRows(`SELECT name, logical_type, converted_type FROM parquet_schema('${paths[0]}')`);
    expect(schema.find((c) => c.name === 'ts')).toMatchObject({
      logical_type: expect.stringMatching(/isAdjustedToUTC=1.*MICROS=MicroSeconds/),
    });
    expect(schema.find((c) => c.name === 'd')).toMatchObject({ converted_type: 'DATE' });
    const codecs = await duckRows(`SELECT DISTINCT compression AS c FROM parquet_metadata(${list})`);
    expect(codecs).toEqual([{ c: 'ZSTD' }]);
    const kv = await duckRows(
      `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${paths[0]}') WHERE decode(key) LIKE 'fabrica%'`,
    );
    expect(kv).toEqual([{ k: 'fabrica.export_id', v: "it's-1" }]);
    // Rows stay in the query's order across files.
    const firsts = await duckRows(
      `SELECT min(id) AS lo, max(id) AS hi FROM read_parquet(${list}, filename = true) GROUP BY filename ORDER BY lo`,
    );
    for (let i = 1; i < firsts.length; i++) expect(firsts[i]!.lo).toBe((firsts[i - 1]!.hi as number) + 1);
    // '' stays '' and NULL stays NULL.
    const [blank] = await duckRows(
      `SELECT count(*) FILTER (WHERE txt = '')::INT AS empty, count(*) FILTER (WHERE txt IS NULL)::INT AS nulls FROM read_parquet(${list})`,
    );
    expect(blank).toEqual({ empty: ROWS / 10, nulls: ROWS / 10 });
    await expectSameRows(paths);
  });

  it('writes the same files, byte for byte, for the same rows (a retried export reproduces its checksums)', async () => {
    const digests = async () => {
      const files = await exportTo(EXPORT_SQL, COLUMNS, { maxFileBytes: 1_500_000 });
      return files.map((f) => [f.rows, createHash('sha256').update(readFileSync(f.path)).digest('hex')]);
    };
    const first = await digests();
    expect(first.length).toBeGreaterThan(2);
    expect(await digests()).toEqual(first);
  });

  it('runs more exports at once than libuv has pool threads (DuckDB holds one per query)', async () => {
    const sql = (k: number) => `SELECT id::int4 AS id, txt FROM export_src WHERE id % 8 = ${k} ORDER BY id`;
    const all = await Promise.all(
      Array.from({ length: 8 }, (_, k) => exportTo(sql(k), [col('id', 'int32', false), col('txt', 'string')])),
    );
    expect(all.map((files) => files.reduce((n, f) => n + f.rows, 0))).toEqual(Array(8).fill(ROWS / 8));
  });

  it('writes no file for a query without rows', async () => {
    expect(await exportTo('SELECT id::int4 AS id FROM export_src WHERE id < 0', [col('id', 'int32')])).toEqual([]);
  });

  it('fails on a NULL in a column declared not nullable, and on an infinite timestamp, naming the column', async () => {
    await expect(exportTo('SELECT i4 FROM export_src ORDER BY id', [col('i4', 'int32', false)])).rejects.toThrow(
      new ParquetExportError('column "i4" is NULL'),
    );
    await expect(
      exportTo(
        "SELECT CASE WHEN g = 5000 THEN 'infinity'::timestamptz ELSE now() END AS ts FROM generate_series(1, 9000) g",
        [col('ts', 'timestamp')],
      ),
    ).rejects.toThrow(/column "ts" holds an infinite value/);
    expect((await pool.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
  });

  it('fails when PostgreSQL fails mid-stream, and stops when aborted', async () => {
    await expect(
      exportTo('SELECT CASE WHEN g = 150000 THEN 1 / 0 ELSE g END AS x FROM generate_series(1, 200000) g', [
        col('x', 'int32'),
      ]),
    ).rejects.toThrow(/division by zero/);
    // A value DuckDB cannot read as the column's type (DuckDB fails while PostgreSQL still streams).
    await expect(exportTo('SELECT txt FROM export_src ORDER BY id', [col('txt', 'int64')])).rejects.toThrow(
      /Could not convert|Conversion Error/i,
    );
    const controller = new AbortController();
    await expect(
      exportTo(EXPORT_SQL, COLUMNS, {
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }),
    ).rejects.toThrow(/cancel/i);
    expect((await pool.query('SELECT 4 AS four')).rows).toEqual([{ four: 4 }]);
  });
});
