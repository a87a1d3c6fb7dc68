import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ensureDatabases } from '../../infra/services/postgres.js';
import { ParquetWriter, type ParquetColumn } from '../../activities/formats/parquet/parquet-writer.js';
import {
  BinaryCopyDecoder,
  CopyBinaryError,
  copyBinaryToParquet,
  matchColumns,
  parquetColumnsOf,
  probeColumns,
} from '../../activities/formats/pg-copy-binary.js';
import { testServices } from '../support/services.js';

const ROWS = 300_000;

/** Every column type, NULLs everywhere, unicode, µs timestamps on both sides of 1970 and 2000, int64 beyond 2^53. */
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
         WHEN g % 10 = 5 THEN E'tab\\tnl\\nquote''back\\\\'
         ELSE 'row ' || g END AS txt,
    CASE WHEN g % 29 = 0 THEN NULL
         ELSE timestamptz '1969-12-31 23:00:00.000001+00' + g * interval '17 minutes 0.000123 seconds' END AS ts,
    CASE WHEN g % 31 = 0 THEN NULL ELSE date '1960-01-01' + (g % 40000) END AS d,
    CASE WHEN g % 13 = 0 THEN NULL ELSE g % 3 = 0 END AS b,
    CASE WHEN g % 37 = 0 THEN NULL ELSE (g % 65536 - 32768)::int2 END AS i2,
    CASE WHEN g % 41 = 0 THEN NULL ELSE (g / 3.0)::float4 END AS f4,
    CASE WHEN g % 43 = 0 THEN NULL ELSE (g * 1.25)::numeric(12, 2) END AS amount,
    (timestamp '2000-01-01' + g * interval '1 second')::timestamp AS tsl,
    ('v' || (g % 100))::varchar(10) AS vc
  FROM generate_series(1, ${ROWS}) g`;

const EXPORT_SQL = `SELECT id, i4, i8, f8, txt, ts, d, b, i2, f4, amount::float8 AS amount, tsl, vc
  FROM export_src WHERE id > $1 ORDER BY id`;

const COLUMNS: ParquetColumn[] = [
  { name: 'id', type: 'int32', nullable: false },
  { name: 'i4', type: 'int32', nullable: true },
  { name: 'i8', type: 'int64', nullable: true },
  { name: 'f8', type: 'double', nullable: true },
  { name: 'txt', type: 'string', nullable: true },
  { name: 'ts', type: 'timestamp', nullable: true },
  { name: 'd', type: 'date', nullable: true },
  { name: 'b', type: 'boolean', nullable: true },
  { name: 'i2', type: 'int32', nullable: true },
  { name: 'f4', type: 'double', nullable: true },
  { name: 'amount', type: 'double', nullable: true },
  { name: 'tsl', type: 'timestamp', nullable: false },
  { name: 'vc', type: 'string', nullable: false },
];

/** The same row, canonical, from PostgreSQL … */
const PG_CANONICAL = `SELECT id, i4, i8::text AS i8, f8, txt, (extract(epoch FROM ts) * 1000000)::int8::text AS ts,
    (d - date '1970-01-01')::text AS d, b, i2, f4::float8 AS f4, amount::float8 AS amount,
    (extract(epoch FROM tsl) * 1000000)::int8::text AS tsl, vc::text AS vc
  FROM export_src WHERE id BETWEEN $1 AND $2 ORDER BY id`;
/** … and from DuckDB. */
const DUCK_CANONICAL = (files: string) => `SELECT id, i4, i8::VARCHAR AS i8, f8, txt, epoch_us(ts)::VARCHAR AS ts,
    (d - DATE '1970-01-01')::VARCHAR AS d, b, i2, f4, amount, epoch_us(tsl)::VARCHAR AS tsl, vc
  FROM read_parquet(${files}) WHERE id BETWEEN $lo AND $hi ORDER BY id`;

describe('PostgreSQL binary COPY → Parquet (read back with DuckDB)', () => {
  const dbName = `parquet_export_${randomBytes(3).toString('hex')}`;
  let pool: pg.Pool;
  let dir: string;
  let instance: DuckDBInstance;
  let duck: DuckDBConnection;
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
    await pool?.end();
    const admin = new pg.Client({ connectionString: testServices().databaseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs an export into numbered local files; returns the result and the file paths. */
  async function exportTo(
    client: pg.PoolClient,
    sql: string,
    params: unknown[] | undefined,
    columns: ParquetColumn[],
    options: Parameters<typeof copyBinaryToParquet>[5] = {},
    writerOptions: ConstructorParameters<typeof ParquetWriter>[2] = {},
  ) {
    const prefix = path.join(dir, `e${exportNo++}`);
    const paths: string[] = [];
    const fds: number[] = [];
    try {
      const result = await copyBinaryToParquet(
        client,
        sql,
        params,
        columns,
        () => {
          const p = `${prefix}-part-${paths.length}.parquet`;
          const fd = openSync(p, 'w');
          paths.push(p);
          fds.push(fd);
          return new ParquetWriter(columns, (chunk) => void writeSync(fd, chunk), writerOptions);
        },
        options,
      );
      return { result, paths };
    } finally {
      for (const fd of fds) closeSync(fd);
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

  it('exports 300k rows of every type into several files, identical row for row', async () => {
    const client = await pool.connect();
    const progress: number[] = [];
    try {
      const { result, paths } = await exportTo(
        client,
        EXPORT_SQL,
        [0],
        COLUMNS,
        { maxRowsPerFile: 70_000, onProgress: (n) => progress.push(n) },
        { rowGroupRows: 16_384 },
      );
      expect(result.rows).toBe(ROWS);
      expect(result.files.map((f) => f.rows)).toEqual([70_000, 70_000, 70_000, 70_000, 20_000]);
      expect(result.files.map((f) => f.bytes)).toEqual(paths.map((p) => statSync(p).size));
      expect(progress.at(-1)).toBe(ROWS);
      expect(progress.length).toBeGreaterThan(10);
      // The connection is usable afterwards.
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

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
        'i2 INTEGER',
        'f4 DOUBLE',
        'amount DOUBLE',
        'tsl TIMESTAMP WITH TIME ZONE',
        'vc VARCHAR',
      ]);
      const groups = await duckRows(
        `SELECT file_name, num_rows, num_row_groups FROM parquet_file_metadata([${paths.map((p) => `'${p}'`).join(', ')}]) ORDER BY file_name`,
      );
      expect(groups.map((g) => [Number(g.num_rows), Number(g.num_row_groups)])).toEqual([
        [70_000, 5],
        [70_000, 5],
        [70_000, 5],
        [70_000, 5],
        [20_000, 2],
      ]);
      // Dictionary encoding where it pays (vc has 100 distinct values), PLAIN where it does not (unique ids).
      const encodings = await duckRows(
        `SELECT DISTINCT path_in_schema AS c, encodings AS e FROM parquet_metadata('${paths[0]}')
         WHERE path_in_schema IN ('id', 'vc') ORDER BY 1`,
      );
      expect(encodings).toEqual([
        { c: 'id', e: 'PLAIN' },
        { c: 'vc', e: 'PLAIN, RLE_DICTIONARY' },
      ]);
      await expectSameRows(paths);
    } finally {
      client.release();
    }
  });

  it('rolls files by size: each file is under the bound give or take its last row', async () => {
    const client = await pool.connect();
    const maxBytes = 3_000_000;
    try {
      const { result, paths } = await exportTo(
        client,
        EXPORT_SQL,
        [0],
        COLUMNS,
        { maxBytesPerFile: maxBytes },
        { rowGroupRows: 10_000, rowGroupBytes: 1_000_000 },
      );
      expect(result.rows).toBe(ROWS);
      expect(result.files.length).toBeGreaterThan(3);
      expect(result.files.reduce((a, f) => a + f.rows, 0)).toBe(ROWS);
      // The largest row is < 1 KiB of values; 13 columns add at most 66 bytes each (a page header bound, and a
      // dictionary index).
      for (const f of result.files) expect(f.bytes).toBeLessThan(maxBytes + 1024 + 13 * 66);
      // … and the bound is not wildly conservative: all files but the last are at least 80 % full.
      for (const f of result.files.slice(0, -1)) expect(f.bytes).toBeGreaterThan(maxBytes * 0.8);
      await expectSameRows(paths);
    } finally {
      client.release();
    }
  });

  it('decodes a recorded binary COPY stream identically whatever the chunk boundaries', async () => {
    const client = await pool.connect();
    try {
      const sql =
        'SELECT id, i4, i8, f8, txt, ts, d, b, i2, f4, amount::float8, tsl, vc FROM export_src WHERE id <= 40';
      const kinds = matchColumns(await probeColumns(client, sql), COLUMNS);
      const recorded: Buffer[] = [];
      for await (const chunk of client.query(
        copyTo(`COPY (${sql}) TO STDOUT (FORMAT binary)`),
      ) as AsyncIterable<Buffer>)
        recorded.push(chunk);
      const stream = Buffer.concat(recorded);
      const decode = async (pieces: Buffer[]) => {
        const out: Buffer[] = [];
        const writer = new ParquetWriter(COLUMNS, (c) => void out.push(c), { rowGroupRows: 16 });
        const builders = COLUMNS.map((_, i) => writer.column(i));
        const decoder = new BinaryCopyDecoder(kinds, { beginRow: () => builders, endRow: () => writer.endRow() });
        for (const p of pieces) await decoder.push(p);
        decoder.finish();
        await writer.close();
        return Buffer.concat(out);
      };
      const reference = await decode([stream]);
      for (let k = 0; k <= stream.length; k++) {
        const file = await decode([stream.subarray(0, k), stream.subarray(k)]);
        if (!file.equals(reference)) throw new Error(`different output when split at byte ${k}`);
      }
      const p = path.join(dir, 'recorded.parquet');
      const fd = openSync(p, 'w');
      writeSync(fd, reference);
      closeSync(fd);
      const want = (await pool.query(PG_CANONICAL, [1, 40])).rows as Record<string, unknown>[];
      expect(await duckRows(DUCK_CANONICAL(`'${p}'`), { lo: 1, hi: 40 })).toEqual(want);
    } finally {
      client.release();
    }
  });

  it('inlines parameters safely (quotes, backslashes, unicode) and writes one empty file for no rows', async () => {
    const client = await pool.connect();
    try {
      const cols = COLUMNS.filter((c) => ['id', 'txt'].includes(c.name));
      const sql = `SELECT id, txt FROM export_src WHERE txt = $1 AND id < $2 AND ts > $3 ORDER BY id`;
      const tricky = "tab\tnl\nquote'back\\";
      const { result, paths } = await exportTo(client, sql, [tricky, 1000, new Date('1969-01-01T00:00:00Z')], cols);
      const expected = await pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM export_src WHERE txt = $1 AND id < $2 AND ts > $3',
        [tricky, 1000, new Date('1969-01-01T00:00:00Z')],
      );
      expect(result.rows).toBe(Number(expected.rows[0]!.n));
      expect(result.rows).toBeGreaterThan(50);
      const got = await duckRows(`SELECT DISTINCT txt FROM read_parquet('${paths[0]}')`);
      expect(got).toEqual([{ txt: tricky }]);

      const none = await exportTo(client, sql, ['no such text', 1000, new Date(0)], cols);
      expect(none.result).toEqual({ rows: 0, files: [{ rows: 0, bytes: statSync(none.paths[0]!).size }] });
      expect(await duckRows(`SELECT count(*) AS n FROM read_parquet('${none.paths[0]}')`)).toEqual([{ n: 0n }]);
    } finally {
      client.release();
    }
  });

  it('rejects incompatible columns before copying, naming the column and the cast', async () => {
    const client = await pool.connect();
    try {
      expect(
        await parquetColumnsOf(client, 'SELECT id, i8, txt, ts, d, b, f4, i2 FROM export_src WHERE id < $1;', [5]),
      ).toEqual([
        { name: 'id', type: 'int32', nullable: true },
        { name: 'i8', type: 'int64', nullable: true },
        { name: 'txt', type: 'string', nullable: true },
        { name: 'ts', type: 'timestamp', nullable: true },
        { name: 'd', type: 'date', nullable: true },
        { name: 'b', type: 'boolean', nullable: true },
        { name: 'f4', type: 'double', nullable: true },
        { name: 'i2', type: 'int32', nullable: true },
      ]);
      const amount: ParquetColumn[] = [{ name: 'amount', type: 'double', nullable: true }];
      await expect(exportTo(client, 'SELECT amount FROM export_src', undefined, amount)).rejects.toThrow(
        /"amount" has type numeric.*cast it to float8 or text/,
      );
      await expect(
        exportTo(client, 'SELECT i8 FROM export_src', undefined, [{ name: 'i8', type: 'int32', nullable: true }]),
      ).rejects.toThrow(CopyBinaryError);
      await expect(exportTo(client, 'SELECT id, i4 FROM export_src', undefined, amount)).rejects.toThrow(
        /returns 2 column\(s\) \(id, i4\) but 1 Parquet column/,
      );
      await expect(
        exportTo(client, 'SELECT gen_random_uuid() AS u', undefined, [{ name: 'u', type: 'string', nullable: false }]),
      ).rejects.toThrow(/type uuid.*u::text/);
      // Nothing was copied: the connection is still fine.
      expect((await client.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    } finally {
      client.release();
    }
  });

  it('fails on infinite timestamps and stops when aborted (the connection is then discarded)', async () => {
    const ts: ParquetColumn[] = [{ name: 'ts', type: 'timestamp', nullable: true }];
    let client = await pool.connect();
    await expect(
      exportTo(
        client,
        "SELECT CASE WHEN g = 5000 THEN 'infinity'::timestamptz ELSE now() END FROM generate_series(1, 9000) g",
        undefined,
        ts,
      ),
    ).rejects.toThrow(/infinite timestamps cannot be written/);
    client.release(true);

    client = await pool.connect();
    const int: ParquetColumn[] = [{ name: 'x', type: 'int32', nullable: true }];
    await expect(
      exportTo(
        client,
        'SELECT CASE WHEN g = 50000 THEN 1 / 0 ELSE g END FROM generate_series(1, 90000) g',
        undefined,
        int,
      ),
    ).rejects.toThrow(/division by zero/);
    client.release(true);

    client = await pool.connect();
    const controller = new AbortController();
    await expect(
      exportTo(client, EXPORT_SQL, [0], COLUMNS, {
        signal: controller.signal,
        onProgress: (n) => {
          if (n >= 32_768) controller.abort();
        },
      }),
    ).rejects.toThrow(/abort/i);
    client.release(true);
    expect((await pool.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
  });
});
