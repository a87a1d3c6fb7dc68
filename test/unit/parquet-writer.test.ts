import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CompactWriter, ElementType, zigzag32, zigzag64 } from '../../activities/formats/parquet/thrift-compact.js';
import {
  ParquetWriter,
  STRING_STATS_MAX_BYTES,
  type ParquetColumn,
  type ParquetWriterOptions,
} from '../../activities/formats/parquet/parquet-writer.js';
import {
  BinaryCopyDecoder,
  CopyBinaryError,
  inlineParams,
  matchColumns,
  sqlLiteral,
  type PgBinaryKind,
} from '../../activities/formats/pg-copy-binary.js';

// ---- helpers --------------------------------------------------------------------------------------------------

const bytes = (w: CompactWriter) => [...w.finish()];

/** Writes rows with a ParquetWriter into memory; returns the file and what close() said. */
async function writeFile(
  columns: ParquetColumn[],
  rows: readonly (readonly unknown[])[],
  options: ParquetWriterOptions = {},
): Promise<{ file: Buffer; result: { rows: number; bytes: number } }> {
  const chunks: Buffer[] = [];
  const writer = new ParquetWriter(columns, (c) => void chunks.push(Buffer.from(c)), options);
  for (const row of rows) await writer.appendRow(row);
  const result = await writer.close();
  return { file: Buffer.concat(chunks), result };
}

/** A tiny Thrift compact *reader* — only to walk page headers in the tests (the content is checked by DuckDB). */
function readStruct(buf: Buffer, start: number): { fields: Map<number, unknown>; end: number } {
  let pos = start;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
  };
  const zigzag = () => {
    const u = varint();
    return Number((u >> 1n) ^ -(u & 1n));
  };
  const value = (type: number): unknown => {
    switch (type) {
      case 1:
        return true;
      case 2:
        return false;
      case 3:
        return buf[pos++];
      case 4:
      case 5:
      case 6:
        return zigzag();
      case 7:
        pos += 8;
        return buf.readDoubleLE(pos - 8);
      case 8: {
        const n = Number(varint());
        pos += n;
        return buf.subarray(pos - n, pos);
      }
      case 9: {
        const h = buf[pos++]!;
        const size = h >> 4 === 15 ? Number(varint()) : h >> 4;
        const out: unknown[] = [];
        for (let i = 0; i < size; i++) out.push((h & 15) === 2 ? buf[pos++] === 1 : value(h & 15));
        return out;
      }
      case 12: {
        const s = readStruct(buf, pos);
        pos = s.end;
        return s.fields;
      }
      default:
        throw new Error(`type ${type}`);
    }
  };
  const fields = new Map<number, unknown>();
  let last = 0;
  for (;;) {
    const h = buf[pos++]!;
    if (h === 0) return { fields, end: pos };
    const delta = h >> 4;
    const id = delta === 0 ? zigzag() : last + delta;
    last = id;
    fields.set(id, value(h & 15));
  }
}

interface WalkedChunk {
  /** Entries of the leading dictionary page, if any. */
  dictionary?: number;
  /** The data pages: values (incl. nulls) and encoding (0 PLAIN, 8 RLE_DICTIONARY). */
  pages: Array<{ values: number; encoding: number }>;
}

/**
 * Walks the pages of a column chunk from its first page (an optional DICTIONARY_PAGE, then DATA_PAGEs); checks the
 * chunk ends exactly after the last page.
 */
function walkChunk(file: Buffer, offset: number, size: number): WalkedChunk {
  const out: WalkedChunk = { pages: [] };
  let pos = offset;
  while (pos < offset + size) {
    const { fields, end } = readStruct(file, pos);
    expect(fields.get(2)).toBe(fields.get(3)); // uncompressed
    if (pos === offset && fields.get(1) === 2) {
      const dictionaryPage = fields.get(7) as Map<number, unknown>;
      expect(dictionaryPage.get(2)).toBe(0); // PLAIN
      out.dictionary = dictionaryPage.get(1) as number;
    } else {
      expect(fields.get(1)).toBe(0); // DATA_PAGE
      const dataPage = fields.get(5) as Map<number, unknown>;
      out.pages.push({ values: dataPage.get(1) as number, encoding: dataPage.get(2) as number });
    }
    pos = end + (fields.get(3) as number);
  }
  expect(pos).toBe(offset + size);
  return out;
}

/** Where a column chunk starts, from parquet_metadata(): its dictionary page, else its first data page. */
function chunkStart(m: Record<string, unknown>): number {
  return Number(m.dictionary_page_offset ?? m.data_page_offset);
}

let tmp: string;
let instance: DuckDBInstance;
let duck: DuckDBConnection;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'parquet-writer-'));
  instance = await DuckDBInstance.create(':memory:');
  duck = await instance.connect();
  await duck.run("SET TimeZone = 'UTC'");
});

afterAll(() => {
  duck?.closeSync();
  instance?.closeSync();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

let fileNo = 0;
function save(file: Buffer): string {
  const p = path.join(tmp, `f${fileNo++}.parquet`);
  writeFileSync(p, file);
  return p;
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJS();
}

// ---- Thrift compact ---------------------------------------------------------------------------------------------

describe('thrift compact encoder', () => {
  it('encodes varints (ULEB128), including the spec example 50399', () => {
    expect(bytes(new CompactWriter().varint(0))).toEqual([0]);
    expect(bytes(new CompactWriter().varint(127))).toEqual([0x7f]);
    expect(bytes(new CompactWriter().varint(128))).toEqual([0x80, 0x01]);
    expect(bytes(new CompactWriter().varint(300))).toEqual([0xac, 0x02]);
    expect(bytes(new CompactWriter().varint(50399))).toEqual([0xdf, 0x89, 0x03]);
    expect(bytes(new CompactWriter().varint(2 ** 35))).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(() => new CompactWriter().varint(-1)).toThrow(RangeError);
  });

  it('zigzags i32 and i64', () => {
    expect([0, -1, 1, -2, 2, 2147483647, -2147483648].map(zigzag32)).toEqual([0, 1, 2, 3, 4, 4294967294, 4294967295]);
    expect(zigzag64(-(2n ** 63n))).toBe(2n ** 64n - 1n);
    expect(zigzag64(2n ** 63n - 1n)).toBe(2n ** 64n - 2n);
    expect(zigzag64(-3)).toBe(5n);
    expect(() => zigzag32(2 ** 31)).toThrow(RangeError);
    expect(() => zigzag64(2n ** 63n)).toThrow(RangeError);
  });

  it('encodes i32/i64 values as zigzag varints (numbers and bigints agree)', () => {
    expect(bytes(new CompactWriter().i32(-1))).toEqual([0x01]);
    expect(bytes(new CompactWriter().i32(150))).toEqual([0xac, 0x02]);
    expect(bytes(new CompactWriter().i64(-(2n ** 63n)))).toEqual([
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
    expect(bytes(new CompactWriter().i64(2n ** 63n - 1n))).toEqual([
      0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
    for (const n of [
      0,
      1,
      -1,
      63,
      -64,
      64,
      2 ** 31,
      -(2 ** 40) - 7,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ]) {
      expect(bytes(new CompactWriter().i64(n))).toEqual(bytes(new CompactWriter().i64(BigInt(n))));
    }
    expect(() => new CompactWriter().i64(2 ** 53)).toThrow(RangeError);
    expect(() => new CompactWriter().i64(0.5)).toThrow(RangeError);
  });

  it('encodes field headers: short form for deltas 1–15, long form otherwise, bools in the header', () => {
    const w = new CompactWriter()
      .structBegin()
      .fieldI32(1, 5) // delta 1, I32: 0x15, zigzag(5) = 10
      .fieldI64(16, 1) // delta 15: short form 0xF6
      .fieldI32(32, -1) // delta 16: long form: 0x05, zigzag i16 32 = 64, then zigzag(-1) = 1
      .fieldBool(33, true) // delta 1, BOOLEAN_TRUE: 0x11
      .fieldBool(34, false) // delta 1, BOOLEAN_FALSE: 0x12
      .fieldI32(2, 7) // going back: long form 0x05, zigzag(2) = 4, zigzag(7) = 14
      .fieldString(3, 'João') // delta 1, BINARY: 0x18, length 5, UTF-8
      .fieldDouble(4, 1.5) // delta 1, DOUBLE: 0x17, 8 bytes LE
      .structEnd();
    expect(bytes(w)).toEqual([
      0x15, 0x0a, 0xf6, 0x02, 0x05, 0x40, 0x01, 0x11, 0x12, 0x05, 0x04, 0x0e, 0x18, 0x05, 0x4a, 0x6f, 0xc3, 0xa3, 0x6f,
      0x17, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x00,
    ]);
  });

  it('restarts field deltas inside nested structs and restores them after', () => {
    const w = new CompactWriter()
      .structBegin()
      .fieldI32(1, 1) // 0x15 0x02
      .fieldStructBegin(5) // delta 4, STRUCT: 0x4c
      .fieldI32(1, 2) // nested: delta 1 again: 0x15 0x04
      .fieldEmptyStruct(10) // delta 9: 0x9c, stop 0x00
      .structEnd() // 0x00
      .fieldI32(6, 3) // outer delta from 5 → 1: 0x15 0x06
      .structEnd();
    expect(bytes(w)).toEqual([0x15, 0x02, 0x4c, 0x15, 0x04, 0x9c, 0x00, 0x00, 0x15, 0x06, 0x00]);
  });

  it('encodes lists: short and long headers, i32/string/bool/struct elements', () => {
    const short = new CompactWriter()
      .structBegin()
      .fieldListBegin(1, ElementType.I32, 3)
      .i32(1)
      .i32(-1)
      .i32(2)
      .structEnd();
    expect(bytes(short)).toEqual([0x19, 0x35, 0x02, 0x01, 0x04, 0x00]);
    const long = new CompactWriter().listBegin(ElementType.BYTE, 15);
    for (let i = 0; i < 15; i++) long.byte(i);
    expect(bytes(long)).toEqual([0xf3, 0x0f, ...Array.from({ length: 15 }, (_, i) => i)]);
    expect(bytes(new CompactWriter().listBegin(ElementType.BINARY, 2).string('a').string(''))).toEqual([
      0x28, 0x01, 0x61, 0x00,
    ]);
    expect(bytes(new CompactWriter().listBegin(ElementType.BOOL, 2).bool(true).bool(false))).toEqual([0x22, 1, 0]);
    const structs = new CompactWriter()
      .listBegin(ElementType.STRUCT, 2)
      .structBegin()
      .fieldI32(2, 1)
      .structEnd()
      .structBegin()
      .fieldI32(2, 1)
      .structEnd();
    expect(bytes(structs)).toEqual([0x2c, 0x25, 0x02, 0x00, 0x25, 0x02, 0x00]);
    expect(bytes(new CompactWriter().listBegin(ElementType.I32, 300))).toEqual([0xf5, 0xac, 0x02]);
  });

  it('refuses unbalanced structs', () => {
    expect(() => new CompactWriter().structEnd()).toThrow(/structEnd without structBegin/);
    expect(() => new CompactWriter().structBegin().finish()).toThrow(/still open/);
  });

  it('grows its buffer', () => {
    const w = new CompactWriter(16).structBegin();
    const big = Buffer.alloc(100_000, 7);
    w.fieldBinary(1, big).structEnd();
    const out = w.finish();
    expect(out.length).toBe(1 + 3 + 100_000 + 1);
    expect(out.subarray(4, 4 + 100_000).equals(big)).toBe(true);
  });
});

// ---- the writer, read back with DuckDB --------------------------------------------------------------------------

const ALL_COLUMNS: ParquetColumn[] = [
  { name: 'k', type: 'int64', nullable: false },
  { name: 'b', type: 'boolean', nullable: true },
  { name: 'i', type: 'int32', nullable: false },
  { name: 'l', type: 'int64', nullable: true },
  { name: 'd', type: 'double', nullable: true },
  { name: 's', type: 'string', nullable: true },
  { name: 't', type: 'timestamp', nullable: true },
  { name: 'dt', type: 'date', nullable: true },
  { name: 'rs', type: 'string', nullable: false },
];

const STRINGS = ['', 'João', 'Ação', 'emoji 🎉🚀', 'tab\tnew\nline', "quote ' and \\", 'x'.repeat(300)];
const BIGS = [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, -(2n ** 53n) - 3n, 0n, 42n];
const DOUBLES = [0.1, -2.5, 1e300, -1e-300, Infinity, -Infinity, Number.MAX_VALUE, 3];
const MICROS = [0n, 1n, -1n, 1_700_000_000_123_456n, -30_000_000_000_000_001n, 253402300799999999n];

/** Deterministic rows touching every type, null, edge value and page/row-group boundary. */
function allTypeRows(n: number): unknown[][] {
  const rows: unknown[][] = [];
  for (let k = 0; k < n; k++) {
    rows.push([
      BigInt(k),
      k % 7 === 0 ? null : k % 3 === 0,
      k === 1 ? -2147483648 : k === 2 ? 2147483647 : (k * 2654435761) | 0,
      k % 5 === 0
        ? null
        : k % 11 === 0
          ? BIGS[(k / 11) % BIGS.length]!
          : BigInt(k) * 1_000_000_007n * (k % 2 ? -1n : 1n),
      k % 4 === 1 ? null : k % 13 === 0 ? DOUBLES[(k / 13) % DOUBLES.length]! : k / 7,
      k % 6 === 5 ? null : k % 2 === 0 ? STRINGS[k % STRINGS.length]! : `row-${k}`,
      k % 9 === 8 ? null : k % 10 === 0 ? MICROS[(k / 10) % MICROS.length]! : BigInt(k) * 1_000_001n - 10n ** 12n,
      k % 8 === 3 ? null : k % 17 === 0 ? '2024-02-29' : (k % 50_000) - 20_000,
      `r${k}`,
    ]);
  }
  return rows;
}

/** The value DuckDB's SELECT below returns for a generated value. */
function expected(row: readonly unknown[]): Record<string, unknown> {
  const [k, b, i, l, d, s, t, dt, rs] = row;
  const days = dt === null ? null : typeof dt === 'string' ? Date.UTC(2024, 1, 29) / 86_400_000 : (dt as number);
  return {
    k: (k as bigint).toString(),
    b,
    i,
    l: l === null ? null : (l as bigint).toString(),
    d,
    s,
    t: t === null ? null : (t as bigint).toString(),
    dt: days === null ? null : String(days),
    rs,
  };
}

const SELECT_ALL = (file: string) =>
  `SELECT k::VARCHAR AS k, b, i, l::VARCHAR AS l, d, s, epoch_us(t)::VARCHAR AS t,
          (dt - DATE '1970-01-01')::VARCHAR AS dt, rs FROM read_parquet('${file}') ORDER BY k::BIGINT`;

describe('ParquetWriter', () => {
  it('writes every column type — nulls, empty and unicode strings, int64 beyond 2^53, many row groups and pages — as DuckDB reads them', async () => {
    const rows = allTypeRows(5000);
    const { file, result } = await writeFile(ALL_COLUMNS, rows, { rowGroupRows: 1000, pageBytes: 2048 });
    expect(result).toEqual({ rows: 5000, bytes: file.length });
    expect(file.subarray(0, 4).toString()).toBe('PAR1');
    expect(file.subarray(-4).toString()).toBe('PAR1');
    const f = save(file);

    const got = await query(SELECT_ALL(f));
    expect(got).toHaveLength(5000);
    const want = rows.map(expected);
    for (let k = 0; k < rows.length; k++) expect(got[k]).toEqual(want[k]);

    const types = await query(`DESCRIBE SELECT * FROM read_parquet('${f}')`);
    expect(types.map((r) => [r.column_name, r.column_type])).toEqual([
      ['k', 'BIGINT'],
      ['b', 'BOOLEAN'],
      ['i', 'INTEGER'],
      ['l', 'BIGINT'],
      ['d', 'DOUBLE'],
      ['s', 'VARCHAR'],
      ['t', 'TIMESTAMP WITH TIME ZONE'],
      ['dt', 'DATE'],
      ['rs', 'VARCHAR'],
    ]);
  });

  it.each([false, true])(
    'writes the schema with logical and converted types, row groups, statistics and key/value metadata (dictionary: %s)',
    async (dictionary) => {
      const rows = allTypeRows(2500);
      const { file } = await writeFile(ALL_COLUMNS, rows, {
        rowGroupRows: 1000,
        pageBytes: 1024,
        createdBy: 'fabrica test',
        keyValueMetadata: { 'fabrica.export': 'x1', empty: '' },
        dictionary,
      });
      const f = save(file);
      const schema = await query(
        `SELECT name, type, converted_type, logical_type, repetition_type FROM parquet_schema('${f}')`,
      );
      expect(schema.map((r) => [r.name, r.type, r.converted_type, r.repetition_type])).toEqual([
        ['schema', null, null, null],
        ['k', 'INT64', null, 'REQUIRED'],
        ['b', 'BOOLEAN', null, 'OPTIONAL'],
        ['i', 'INT32', null, 'REQUIRED'],
        ['l', 'INT64', null, 'OPTIONAL'],
        ['d', 'DOUBLE', null, 'OPTIONAL'],
        ['s', 'BYTE_ARRAY', 'UTF8', 'OPTIONAL'],
        ['t', 'INT64', 'TIMESTAMP_MICROS', 'OPTIONAL'],
        ['dt', 'INT32', 'DATE', 'OPTIONAL'],
        ['rs', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
      ]);
      const logical = Object.fromEntries(schema.map((r) => [r.name, String(r.logical_type)]));
      expect(logical.s).toMatch(/StringType/);
      expect(logical.dt).toMatch(/DateType/);
      expect(logical.t).toMatch(/TimestampType\(isAdjustedToUTC=(1|true).*MICROS=MicroSeconds\(\)/);

      const fileMeta = await query(`SELECT created_by, num_rows, num_row_groups FROM parquet_file_metadata('${f}')`);
      expect(fileMeta).toEqual([{ created_by: 'fabrica test', num_rows: 2500n, num_row_groups: 3n }]);
      const kv = await query(
        `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${f}') ORDER BY 1`,
      );
      expect(kv).toEqual([
        { key: 'empty', value: '' },
        { key: 'fabrica.export', value: 'x1' },
      ]);

      const meta = await query(
        `SELECT row_group_id, row_group_num_rows, path_in_schema, num_values, stats_min_value, stats_max_value,
              stats_null_count, compression, dictionary_page_offset, data_page_offset, total_compressed_size
       FROM parquet_metadata('${f}') ORDER BY row_group_id, column_id`,
      );
      expect(meta).toHaveLength(3 * ALL_COLUMNS.length);
      expect([0n, 1n, 2n].map((g) => meta.find((m) => m.row_group_id === g)!.row_group_num_rows)).toEqual([
        1000n,
        1000n,
        500n,
      ]);
      for (let g = 0; g < 3; g++) {
        const part = rows.slice(g * 1000, (g + 1) * 1000);
        const chunk = (name: string) => meta.find((m) => m.row_group_id === BigInt(g) && m.path_in_schema === name)!;
        for (const [ci, col] of ALL_COLUMNS.entries()) {
          const m = chunk(col.name);
          expect(m.compression).toBe('UNCOMPRESSED');
          expect(m.num_values).toBe(BigInt(part.length));
          expect(m.stats_null_count).toBe(BigInt(part.filter((r) => r[ci] === null).length));
          // Every chunk's pages are contiguous and add up to its values; 1 KiB pages split the bigger PLAIN chunks.
          const walked = walkChunk(file, chunkStart(m), Number(m.total_compressed_size));
          expect(walked.pages.reduce((a, p) => a + p.values, 0)).toBe(part.length);
          if (!dictionary) expect(m.dictionary_page_offset).toBeNull();
          if (walked.dictionary === undefined && col.type !== 'boolean') expect(walked.pages.length).toBeGreaterThan(1);
        }
        const ints = part.map((r) => r[2] as number);
        expect(chunk('i').stats_min_value).toBe(String(Math.min(...ints)));
        expect(chunk('i').stats_max_value).toBe(String(Math.max(...ints)));
        const ks = part.map((r) => r[0] as bigint);
        expect(chunk('k').stats_min_value).toBe(String(ks[0]));
        expect(chunk('k').stats_max_value).toBe(String(ks[ks.length - 1]));
        // Longest strings are 300 bytes: past the statistics limit, so `s` has no min/max where they occur.
        const s = part.map((r) => r[5]).filter((v): v is string => typeof v === 'string');
        const sorted = [...s].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        const tooLong = Buffer.byteLength(sorted[sorted.length - 1]!) > STRING_STATS_MAX_BYTES;
        expect(chunk('s').stats_max_value).toBe(tooLong ? null : sorted[sorted.length - 1]);
        expect(chunk('rs').stats_min_value).toBe(
          part.map((r) => r[8] as string).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))[0],
        );
      }
      // With dictionaries, the low-cardinality half of `s` makes its chunks dictionary-encoded; the unique columns
      // stay PLAIN.
      const dictionaryChunks = meta.filter((m) => m.dictionary_page_offset !== null).map((m) => m.path_in_schema);
      expect(dictionaryChunks).toEqual(dictionary ? ['s', 's', 's'] : []);
    },
  );

  it('gives usable statistics for pruning (DuckDB filters still return the right rows)', async () => {
    const rows = allTypeRows(3000);
    const { file } = await writeFile(ALL_COLUMNS, rows, { rowGroupRows: 500 });
    const f = save(file);
    const count = async (where: string) =>
      Number((await query(`SELECT count(*) AS n FROM read_parquet('${f}') WHERE ${where}`))[0]!.n);
    expect(await count('k BETWEEN 1200 AND 1299')).toBe(100);
    expect(await count("rs = 'r2999'")).toBe(1);
    expect(await count('d > 0 AND d < 1')).toBe(
      rows.filter((r) => typeof r[4] === 'number' && r[4] > 0 && r[4] < 1).length,
    );
    expect(await count("t < TIMESTAMPTZ '1970-01-01'")).toBe(
      rows.filter((r) => r[6] !== null && (r[6] as bigint) < 0n).length,
    );
  });

  it('writes NaN, ±0 and ±Infinity doubles and leaves NaN out of min/max', async () => {
    const cols: ParquetColumn[] = [{ name: 'd', type: 'double', nullable: true }];
    const f = save((await writeFile(cols, [[NaN], [-0], [0], [null], [2.5], [-1]])).file);
    const got = await query(`SELECT d FROM read_parquet('${f}')`);
    expect(got.map((r) => r.d)).toEqual([NaN, -0, 0, null, 2.5, -1]);
    const [m] = await query(`SELECT stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('${f}')`);
    expect(m).toEqual({ stats_min_value: '-1.0', stats_max_value: '2.5', stats_null_count: 1n });
    const zeros = save((await writeFile(cols, [[0], [-0]])).file);
    const [z] = await query(`SELECT stats_min_value, stats_max_value FROM parquet_metadata('${zeros}')`);
    expect(z).toEqual({ stats_min_value: '-0.0', stats_max_value: '0.0' });
    const onlyNan = save((await writeFile(cols, [[NaN], [null]])).file);
    const [n] = await query(`SELECT stats_min_value, stats_max_value FROM parquet_metadata('${onlyNan}')`);
    expect(n).toEqual({ stats_min_value: null, stats_max_value: null });
    // Infinite bounds (DuckDB does not display them) must not make a reader skip the row group.
    const inf = save((await writeFile(cols, [[Infinity], [-Infinity], [1]], { rowGroupRows: 2 })).file);
    const count = async (where: string) =>
      Number((await query(`SELECT count(*) AS n FROM read_parquet('${inf}') WHERE ${where}`))[0]!.n);
    expect(await count('d < -1e308')).toBe(1);
    expect(await count("d = 'inf'::DOUBLE")).toBe(1);
    expect(await count('d > 0.5')).toBe(2);
  });

  it('writes a valid zero-row file', async () => {
    const { file, result } = await writeFile(ALL_COLUMNS, []);
    expect(result).toEqual({ rows: 0, bytes: file.length });
    const f = save(file);
    expect(await query(`SELECT count(*) AS n FROM read_parquet('${f}')`)).toEqual([{ n: 0n }]);
    const types = await query(`DESCRIBE SELECT * FROM read_parquet('${f}')`);
    expect(types.map((r) => r.column_type)).toEqual([
      'BIGINT',
      'BOOLEAN',
      'INTEGER',
      'BIGINT',
      'DOUBLE',
      'VARCHAR',
      'TIMESTAMP WITH TIME ZONE',
      'DATE',
      'VARCHAR',
    ]);
    expect(await query(`SELECT num_rows, num_row_groups FROM parquet_file_metadata('${f}')`)).toEqual([
      { num_rows: 0n, num_row_groups: 0n },
    ]);
  });

  it('flushes row groups by size too, and its projected size bounds the final file', async () => {
    const cols: ParquetColumn[] = [
      { name: 'id', type: 'int32', nullable: false },
      { name: 'text', type: 'string', nullable: true },
    ];
    const row = (i: number) => [i, i % 10 === 0 ? null : `value ${i} `.repeat(i % 7)];
    // The projection is an upper bound of the closed file's size, whatever the point where the file is closed, and
    // one row raises it by at most its estimated values + 64 bytes per column (what file rolling relies on).
    for (const n of [1, 9, 137, 1000, 2000]) {
      const w = new ParquetWriter(cols, () => undefined, { rowGroupBytes: 20_000, pageBytes: 4096 });
      for (let i = 0; i < n; i++) {
        const before = w.projectedBytes;
        const r = row(i);
        await w.appendRow(r);
        const estimate = 4 + 4 + 1 / 8 + Buffer.byteLength((r[1] as string | null) ?? '');
        expect(w.projectedBytes - before).toBeLessThanOrEqual(Math.ceil(estimate) + 2 * 64);
      }
      const projected = w.projectedBytes;
      const { bytes: size } = await w.close();
      expect(size).toBeLessThanOrEqual(projected);
      if (n >= 137) expect(size).toBeGreaterThan(projected * 0.5);
    }
    const { file } = await writeFile(
      cols,
      Array.from({ length: 2000 }, (_, i) => row(i)),
      { rowGroupBytes: 20_000 },
    );
    const f = save(file);
    const groups = await query(`SELECT num_row_groups FROM parquet_file_metadata('${f}')`);
    expect(Number(groups[0]!.num_row_groups)).toBeGreaterThan(3);
    const sizes = await query(
      `SELECT row_group_id, sum(total_compressed_size) AS s FROM parquet_metadata('${f}') GROUP BY 1`,
    );
    for (const s of sizes) expect(Number(s.s)).toBeLessThan(20_000 + 200);
    expect(await query(`SELECT count(*) AS n, sum(id) AS s FROM read_parquet('${f}')`)).toEqual([
      { n: 2000n, s: BigInt((1999 * 2000) / 2) },
    ]);
  });

  it('awaits the sink (one call at a time, in order) and counts the bytes it was handed', async () => {
    const cols: ParquetColumn[] = [{ name: 'x', type: 'int64', nullable: false }];
    const got: Buffer[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const sink = async (c: Buffer) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      got.push(c);
      inFlight--;
    };
    const w = new ParquetWriter(cols, sink, { rowGroupRows: 100 });
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = w.column(0);
      r.appendInt64(i);
      const p = w.endRow();
      // Not awaiting on purpose: flushes must still be serialized and ordered.
      if (p) flushes.push(p);
    }
    expect(flushes).toHaveLength(10);
    expect(w.rowsWritten).toBe(1000);
    await Promise.all(flushes);
    const before = w.bytesWritten;
    expect(before).toBe(got.reduce((a, c) => a + c.length, 0));
    const { rows, bytes: size } = await w.close();
    expect(maxInFlight).toBe(1);
    expect(rows).toBe(1000);
    expect(size).toBe(Buffer.concat(got).length);
    expect(w.bytesWritten).toBe(size);
    const f = save(Buffer.concat(got));
    const sum = await query(`SELECT sum(x) AS s, min(x) AS lo, max(x) AS hi FROM read_parquet('${f}')`);
    expect(sum).toEqual([{ s: 499500n, lo: 0n, hi: 999n }]);
  });

  it('propagates a failing sink', async () => {
    const w = new ParquetWriter([{ name: 'x', type: 'int32', nullable: false }], () => {
      throw new Error('disk full');
    });
    await w.appendRow([1]);
    await expect(w.close()).rejects.toThrow('disk full');
  });

  it('checks values before appending anything', async () => {
    const chunks: Buffer[] = [];
    const w = new ParquetWriter(ALL_COLUMNS, (c) => void chunks.push(c));
    const good = allTypeRows(1)[0]!;
    const bad: Array<[number, unknown, RegExp]> = [
      [0, null, /column "k" \(int64, not null\): null/],
      [1, 'yes', /column "b" \(boolean\) cannot take string "yes"/],
      [2, 2 ** 31, /column "i".*cannot take number 2147483648/],
      [2, 1.5, /column "i"/],
      [3, 2n ** 63n, /column "l"/],
      [3, 2 ** 53, /column "l"/],
      [4, '1.0', /column "d"/],
      [5, 5, /column "s"/],
      [6, new Date('nope'), /column "t"/],
      [6, '2024-01-01T00:00:00Z', /column "t"/],
      [7, '2024-02-30', /column "dt"/],
      [7, 1.5, /column "dt"/],
    ];
    for (const [i, v, re] of bad) {
      const row = [...good];
      row[i] = v;
      expect(() => w.appendRow(row)).toThrow(re);
    }
    expect(() => w.appendRow([1])).toThrow(/1 values, the file has 9 columns/);
    await w.appendRow(good);
    expect(w.rowsWritten).toBe(1);
    const { rows } = await w.close();
    expect(rows).toBe(1);
    const f = save(Buffer.concat(chunks));
    expect((await query(SELECT_ALL(f)))[0]).toEqual(expected(good));
    expect(() => w.appendRow(good)).toThrow(/closed/);
  });

  it('refuses wrong appends on the fast path, and rows with missing values at flush', async () => {
    const w = new ParquetWriter(
      [
        { name: 'a', type: 'int32', nullable: false },
        { name: 't', type: 'timestamp', nullable: true },
      ],
      () => undefined,
    );
    expect(() => w.column(0).appendString('x')).toThrow(/column "a" \(int32, not null\) cannot take a string/);
    expect(() => w.column(0).appendNull()).toThrow(/cannot take null/);
    expect(() => w.column(1).appendInt64(1n)).toThrow(/use appendTimestampMicros/);
    expect(() => w.column(2)).toThrow(/no column 2/);
    const inf = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(() => w.column(1).appendPgTimestamp(inf, 0)).toThrow(/infinite timestamps/);
    w.column(0).appendInt32(1);
    w.column(1).appendNull();
    await w.endRow();
    w.column(0).appendInt32(2);
    await w.endRow(); // column t got no value for this row
    await expect(w.close()).rejects.toThrow(/column "t" \(timestamp\) has 1 values for 2 rows/);
  });

  it('rejects bad schemas', () => {
    expect(() => new ParquetWriter([], () => undefined)).toThrow(/at least one column/);
    expect(
      () =>
        new ParquetWriter(
          [
            { name: 'a', type: 'int32', nullable: false },
            { name: 'a', type: 'int64', nullable: false },
          ],
          () => undefined,
        ),
    ).toThrow(/duplicate/);
    expect(
      () => new ParquetWriter([{ name: 'a', type: 'decimal' as 'int32', nullable: false }], () => undefined),
    ).toThrow(/unknown Parquet column type/);
    expect(
      () => new ParquetWriter([{ name: 'a', type: 'int32', nullable: false }], () => undefined, { rowGroupRows: 0 }),
    ).toThrow(/rowGroupRows/);
  });
});

// ---- dictionary encoding ----------------------------------------------------------------------------------------

/** parquet_metadata() of a file, ordered by row group and column. */
async function chunkMeta(f: string): Promise<Record<string, unknown>[]> {
  return query(
    `SELECT row_group_id, row_group_num_rows, path_in_schema, num_values, encodings, dictionary_page_offset,
            data_page_offset, total_compressed_size, stats_min_value, stats_max_value, stats_null_count
     FROM parquet_metadata('${f}') ORDER BY row_group_id, column_id`,
  );
}

/** The chunks of column `name`, in row-group order, with their walked pages. */
function chunksOf(
  file: Buffer,
  meta: Record<string, unknown>[],
  name: string,
): Array<Record<string, unknown> & { walked: WalkedChunk }> {
  return meta
    .filter((m) => m.path_in_schema === name)
    .map((m) => ({ ...m, walked: walkChunk(file, chunkStart(m), Number(m.total_compressed_size)) }));
}

/** The PLAIN size of a value as the writer's estimate counts it (NULLs at their type's width). */
function plainSize(type: ParquetColumn['type'], v: unknown): number {
  if (type === 'string') return 4 + (v === null ? 0 : Buffer.byteLength(v as string));
  return { boolean: 1 / 8, int32: 4, date: 4, int64: 8, timestamp: 8, double: 8 }[type];
}

/**
 * Appends `rows` checking, after every row, the per-row bound of `projectedBytes` (E(row) + 64 per column + 2 per
 * dictionary-capable column; a row that flushes a row group may add the next one's fixed bounds, see the writer);
 * then closes the file and checks the projection bounded its size. Returns the file and the last projection.
 */
async function writeChecked(
  columns: ParquetColumn[],
  rows: readonly (readonly unknown[])[],
  options: ParquetWriterOptions = {},
): Promise<{ file: Buffer; projected: number }> {
  const chunks: Buffer[] = [];
  const w = new ParquetWriter(columns, (c) => void chunks.push(Buffer.from(c)), options);
  const dictionaryColumns = columns.filter((c) => ['string', 'int64', 'timestamp', 'int32', 'date'].includes(c.type));
  const slack = 64 * columns.length + (options.dictionary === false ? 0 : 2 * dictionaryColumns.length);
  let worst = -Infinity;
  for (const row of rows) {
    const before = w.projectedBytes;
    await w.appendRow(row);
    if (w.bufferedRows === 0) continue; // flushed
    const e = row.reduce<number>(
      (s, v, i) => s + plainSize(columns[i]!.type, v) + (columns[i]!.nullable ? 1 / 8 : 0),
      0,
    );
    worst = Math.max(worst, w.projectedBytes - before - Math.ceil(e) - slack);
  }
  expect(worst).toBeLessThanOrEqual(0);
  const projected = w.projectedBytes;
  const { bytes } = await w.close();
  const file = Buffer.concat(chunks);
  expect(bytes).toBe(file.length);
  expect(file.length).toBeLessThanOrEqual(projected);
  return { file, projected };
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('dictionary encoding', () => {
  const LOW = ['', 'João', 'Ação 🎉', 'x'.repeat(200), 'tab\tnl\n', 'OK', 'SCRAP'];
  const DICT_COLUMNS: ParquetColumn[] = [
    { name: 'u', type: 'int64', nullable: false }, // unique: stays PLAIN
    { name: 's', type: 'string', nullable: true },
    { name: 'r', type: 'string', nullable: false },
    { name: 'l', type: 'int64', nullable: true },
    { name: 't', type: 'timestamp', nullable: false }, // constant for 700 rows, like partition_hour
    { name: 'n', type: 'int32', nullable: false },
    { name: 'dt', type: 'date', nullable: true },
    { name: 'd', type: 'double', nullable: true }, // never dictionary-encoded
    { name: 'b', type: 'boolean', nullable: true },
  ];
  const dictRow = (i: number): unknown[] => [
    BigInt(i),
    i % 9 === 4 ? null : LOW[(i * 5) % LOW.length]!,
    `SKU-PAN-${20 + (i % 20) * 4}`,
    i % 11 === 0 ? null : BIGS[i % BIGS.length]!,
    BigInt(Math.floor(i / 700)) * 3_600_000_000n - 10n ** 12n,
    700 + ((i * 7919) % 300),
    i % 13 === 0 ? null : (i % 30) - 15,
    i % 7 === 0 ? null : i / 3,
    i % 5 === 0 ? null : i % 2 === 0,
  ];
  const DICT_SELECT = (f: string) =>
    `SELECT u::VARCHAR AS u, s, r, l::VARCHAR AS l, epoch_us(t)::VARCHAR AS t, n, (dt - DATE '1970-01-01') AS dt, d, b
     FROM read_parquet('${f}') ORDER BY u::BIGINT`;
  const dictExpected = (row: readonly unknown[]) => {
    const [u, s, r, l, t, n, dt, d, b] = row;
    return {
      u: (u as bigint).toString(),
      s,
      r,
      l: l === null ? null : (l as bigint).toString(),
      t: (t as bigint).toString(),
      n,
      dt,
      d,
      b,
    };
  };

  it('encodes low-cardinality strings (unicode, empty, NULLs), int64, timestamps, int32 and dates; DuckDB reads them back value for value', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => dictRow(i));
    const { file } = await writeChecked(DICT_COLUMNS, rows, { rowGroupRows: 2000 });
    const f = save(file);
    const got = await query(DICT_SELECT(f));
    expect(got).toHaveLength(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const g = got[i]!;
      const row: Record<string, unknown> = { ...g, dt: g.dt === null ? null : Number(g.dt) };
      const want: Record<string, unknown> = dictExpected(rows[i]!);
      // One assertion per row would be slow; fail with the first differing row.
      if (Object.keys(want).some((k) => row[k] !== want[k])) expect(row).toEqual(want);
    }

    const meta = await chunkMeta(f);
    const encodings = Object.fromEntries(
      meta.filter((m) => m.row_group_id === 0n).map((m) => [m.path_in_schema, m.encodings]),
    );
    expect(encodings).toEqual({
      u: 'PLAIN',
      s: 'PLAIN, RLE, RLE_DICTIONARY',
      r: 'PLAIN, RLE_DICTIONARY',
      l: 'PLAIN, RLE, RLE_DICTIONARY',
      t: 'PLAIN, RLE_DICTIONARY',
      n: 'PLAIN, RLE_DICTIONARY',
      dt: 'PLAIN, RLE, RLE_DICTIONARY',
      d: 'PLAIN, RLE',
      b: 'PLAIN, RLE',
    });
    // Chunks are contiguous from the first byte after the magic; a dictionary chunk starts with its dictionary page
    // and data_page_offset is its first data page.
    let at = 4;
    for (const m of meta) {
      expect(chunkStart(m)).toBe(at);
      const walked = walkChunk(file, at, Number(m.total_compressed_size));
      at += Number(m.total_compressed_size);
      const g = Number(m.row_group_id);
      const part = rows.slice(g * 2000, (g + 1) * 2000);
      const ci = DICT_COLUMNS.findIndex((c) => c.name === m.path_in_schema);
      const values = part.map((r) => r[ci]).filter((v) => v !== null);
      expect(walked.pages.reduce((a, p) => a + p.values, 0)).toBe(part.length);
      expect(m.stats_null_count).toBe(BigInt(part.length - values.length));
      if (m.dictionary_page_offset === null) {
        expect(walked.dictionary).toBeUndefined();
        expect(walked.pages.every((p) => p.encoding === 0)).toBe(true);
        continue;
      }
      expect(Number(m.data_page_offset)).toBeGreaterThan(Number(m.dictionary_page_offset));
      // One dictionary entry per distinct value of the chunk; every data page holds indices.
      expect(walked.dictionary).toBe(new Set(values.map(String)).size);
      expect(walked.pages.every((p) => p.encoding === 8)).toBe(true);
    }
    expect(at).toBe(file.length - 8 - file.readUInt32LE(file.length - 8));
    // Statistics come from the dictionary entries.
    for (const [g, part] of [rows.slice(0, 2000), rows.slice(2000, 4000), rows.slice(4000)].entries()) {
      const chunk = (name: string) => meta.find((m) => m.row_group_id === BigInt(g) && m.path_in_schema === name)!;
      const s = part
        .map((r) => r[1])
        .filter((v): v is string => v !== null)
        .sort(byBytes);
      expect([chunk('s').stats_min_value, chunk('s').stats_max_value]).toEqual([s[0], s[s.length - 1]]);
      const r = part.map((x) => x[2] as string).sort(byBytes);
      expect([chunk('r').stats_min_value, chunk('r').stats_max_value]).toEqual([r[0], r[r.length - 1]]);
      const l = part
        .map((x) => x[3])
        .filter((v): v is bigint => v !== null)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect([chunk('l').stats_min_value, chunk('l').stats_max_value]).toEqual([String(l[0]), String(l[l.length - 1])]);
      const n = part.map((x) => x[5] as number);
      expect([chunk('n').stats_min_value, chunk('n').stats_max_value]).toEqual([
        String(Math.min(...n)),
        String(Math.max(...n)),
      ]);
    }
    // … and they still prune correctly.
    const count = async (where: string) =>
      Number((await query(`SELECT count(*) AS n FROM read_parquet('${f}') WHERE ${where}`))[0]!.n);
    expect(await count("r = 'SKU-PAN-24'")).toBe(rows.filter((r) => r[2] === 'SKU-PAN-24').length);
    expect(await count("s = 'Ação 🎉'")).toBe(rows.filter((r) => r[1] === 'Ação 🎉').length);
    expect(await count('n = 999')).toBe(rows.filter((r) => r[5] === 999).length);
  });

  it('makes files of low-cardinality data much smaller, with the same content', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => dictRow(i));
    const on = await writeChecked(DICT_COLUMNS, rows, { rowGroupRows: 8192 });
    const off = await writeChecked(DICT_COLUMNS, rows, { rowGroupRows: 8192, dictionary: false });
    expect(on.file.length).toBeLessThan(off.file.length * 0.6);
    const [a, b] = [save(on.file), save(off.file)];
    expect(await query(DICT_SELECT(a))).toEqual(await query(DICT_SELECT(b)));
    // Without the unique and double columns, the difference is larger.
    const low = DICT_COLUMNS.filter((c) => !['u', 'd'].includes(c.name));
    const lowRows = rows.map((r) => r.filter((_, i) => !['u', 'd'].includes(DICT_COLUMNS[i]!.name)));
    const lowOn = await writeChecked(low, lowRows, { rowGroupRows: 8192 });
    const lowOff = await writeChecked(low, lowRows, { rowGroupRows: 8192, dictionary: false });
    expect(lowOn.file.length).toBeLessThan(lowOff.file.length * 0.2);
    expect((await chunkMeta(save(lowOff.file))).every((m) => m.dictionary_page_offset === null)).toBe(true);
  });

  it('encodes runs: a constant column costs a few bytes per chunk; runs of every length read back', async () => {
    const cols: ParquetColumn[] = [
      { name: 'id', type: 'int32', nullable: false },
      { name: 'hour', type: 'timestamp', nullable: false },
      { name: 'x', type: 'int32', nullable: true },
    ];
    const rows: unknown[][] = [];
    // Row group g: x takes values from a dictionary of K[g] entries (bit widths 1, 6, 12) in runs of 1–70 and a
    // few of 1000; some NULLs break runs.
    const K = [2, 37, 3000];
    for (const [g, k] of K.entries()) {
      let j = 0;
      while (rows.length < (g + 1) * 30_000) {
        const len = j % 101 === 100 ? 1000 : g < 2 ? 1 + ((j * 31) % 70) : 1 + ((j * 31) % 5);
        const value = (j * 7919) % k;
        for (let r = 0; r < len && rows.length < (g + 1) * 30_000; r++) {
          const id = rows.length;
          rows.push([id, BigInt(g) * 3_600_000_000n, id % 997 === 0 ? null : value]);
        }
        j++;
      }
    }
    const { file } = await writeChecked(cols, rows, { rowGroupRows: 30_000 });
    const f = save(file);
    const got = await query(`SELECT id, x FROM read_parquet('${f}') ORDER BY id`);
    expect(got.length).toBe(rows.length);
    for (let i = 0; i < rows.length; i++) {
      if (got[i]!.x !== rows[i]![2]) expect(got[i]).toEqual({ id: i, x: rows[i]![2] });
    }
    const meta = await chunkMeta(f);
    const hours = chunksOf(file, meta, 'hour');
    for (const h of hours) {
      expect(h.walked.dictionary).toBe(1);
      expect(Number(h.total_compressed_size)).toBeLessThan(80); // 30 000 values: one RLE run
    }
    const xs = chunksOf(file, meta, 'x');
    const distinct = K.map((_, g) => new Set(rows.slice(g * 30_000, (g + 1) * 30_000).map((r) => r[2])).size - 1);
    expect(xs.map((c) => c.walked.dictionary)).toEqual(distinct);
    expect(distinct[2]).toBeGreaterThan(2048); // 12-bit indices
    expect(xs.map((c) => c.encodings)).toEqual(K.map(() => 'PLAIN, RLE, RLE_DICTIONARY'));
  });

  it('cuts a page or re-counts its indices when a new entry needs a wider bit width', async () => {
    const cols: ParquetColumn[] = [{ name: 's', type: 'string', nullable: false }];
    // 600 values from 2 entries (1 bit), then a third entry (2 bits): the 600 indices are written at 1 bit in their
    // own page. In the second row group the third entry comes after 300 values: re-counted, one page. (Small pages,
    // so the trial ends after 200 values.)
    const rows = [
      ...Array.from({ length: 600 }, (_, i) => [i % 2 ? 'a' : 'b']),
      ...Array.from({ length: 400 }, (_, i) => [['c', 'd', 'a', 'b'][i % 4]!]),
      ...Array.from({ length: 300 }, (_, i) => [i % 2 ? 'a' : 'b']),
      ...Array.from({ length: 700 }, (_, i) => [['a', 'b', 'c', 'd', 'e'][i % 5]!]),
    ];
    const { file } = await writeChecked(cols, rows, { rowGroupRows: 1000, pageBytes: 1000 });
    const f = save(file);
    expect((await query(`SELECT s FROM read_parquet('${f}')`)).map((r) => r.s)).toEqual(rows.map((r) => r[0]));
    const [first, second] = chunksOf(file, await chunkMeta(f), 's');
    expect(first!.walked).toEqual({
      dictionary: 4,
      pages: [
        { values: 600, encoding: 8 },
        { values: 400, encoding: 8 },
      ],
    });
    expect(second!.walked).toEqual({ dictionary: 5, pages: [{ values: 1000, encoding: 8 }] });
  });

  it('falls back to PLAIN mid-chunk when the dictionary outgrows dictionaryPageBytes', async () => {
    const cols: ParquetColumn[] = [
      { name: 'id', type: 'int32', nullable: false },
      { name: 's', type: 'string', nullable: true },
    ];
    // Every value repeated 4 times (the dictionary pays), ~14 bytes per entry: a 2000-byte dictionary overflows
    // after ~140 entries in the first row group (2500 rows), not in the second (500 rows, 125 entries).
    const rows = Array.from({ length: 3000 }, (_, i) => [i, i % 50 === 7 ? null : `value-${Math.floor(i / 4)}`]);
    const { file } = await writeChecked(cols, rows, { rowGroupRows: 2500, dictionaryPageBytes: 2000, pageBytes: 512 });
    const f = save(file);
    const got = await query(`SELECT id, s FROM read_parquet('${f}') ORDER BY id`);
    expect(got).toEqual(rows.map(([id, s]) => ({ id, s })));
    const [first, second] = chunksOf(file, await chunkMeta(f), 's');
    // First row group: dictionary page, dictionary-encoded pages, then PLAIN pages.
    const kinds = first!.walked.pages.map((p) => p.encoding);
    expect(kinds[0]).toBe(8);
    expect(kinds.indexOf(0)).toBeGreaterThan(0);
    expect(kinds.slice(kinds.indexOf(0)).every((k) => k === 0)).toBe(true);
    // The dictionary holds value-0 … value-(entries - 1): as many as fit in 2000 bytes.
    const entries = first!.walked.dictionary!;
    const bytesOf = (k: number) => Array.from({ length: k }, (_, v) => 4 + `value-${v}`.length).reduce((a, b) => a + b);
    expect(bytesOf(entries)).toBeLessThanOrEqual(2000);
    expect(bytesOf(entries + 1)).toBeGreaterThan(2000);
    const dictValues = first!.walked.pages.filter((p) => p.encoding === 8).reduce((a, p) => a + p.values, 0);
    expect(dictValues).toBeLessThanOrEqual(entries * 4 + 1);
    expect(first!.encodings).toBe('PLAIN, RLE, RLE_DICTIONARY');
    expect([first!.stats_min_value, first!.stats_max_value]).toEqual(['value-0', 'value-99']);
    // Second row group: dictionary only.
    expect(second!.walked.dictionary).toBe(125);
    expect(second!.walked.pages.every((p) => p.encoding === 8)).toBe(true);
  });

  it('falls back to PLAIN at 64 Ki entries (16-bit indices)', async () => {
    const cols: ParquetColumn[] = [
      { name: 'id', type: 'int32', nullable: false },
      { name: 'x', type: 'int64', nullable: false },
    ];
    // Each value twice (every 1000th 50 times, an RLE run at 16 bits): 65 536 entries come after ~134 000 rows.
    const chunks: Buffer[] = [];
    const w = new ParquetWriter(cols, (c) => void chunks.push(c), { rowGroupRows: 1 << 20 });
    let id = 0;
    for (let v = 0; v < 72_000; v++) {
      for (let r = v % 1000 === 999 ? 50 : 2; r > 0; r--) {
        w.column(0).appendInt32(id++);
        w.column(1).appendInt64(v);
        await w.endRow();
      }
    }
    await w.close();
    const file = Buffer.concat(chunks);
    const f = save(file);
    const [x] = chunksOf(file, await chunkMeta(f), 'x');
    expect(x!.walked.dictionary).toBe(65_536);
    expect(x!.encodings).toBe('PLAIN, RLE_DICTIONARY');
    expect(x!.walked.pages.at(-1)!.encoding).toBe(0);
    expect(x!.stats_max_value).toBe('71999');
    expect(await query(`SELECT count(*) AS n, count(DISTINCT x) AS k FROM read_parquet('${f}')`)).toEqual([
      { n: BigInt(id), k: 72_000n },
    ]);
    const want: number[] = [];
    for (let v = 0; v < 72_000; v++) for (let r = v % 1000 === 999 ? 50 : 2; r > 0; r--) want.push(v);
    const got = await query(`SELECT x::INTEGER AS x FROM read_parquet('${f}') ORDER BY id`);
    let bad = 0;
    for (let i = 0; i < want.length; i++) if (got[i]!.x !== want[i]) bad++;
    expect(bad).toBe(0);
  });

  it('decides per column chunk: the trial keeps a dictionary only where it pays', async () => {
    const cols: ParquetColumn[] = [
      { name: 'id', type: 'int32', nullable: false },
      { name: 's', type: 'string', nullable: true },
      { name: 'k', type: 'int64', nullable: true },
    ];
    // Row groups of 3000: low-cardinality, unique, low-cardinality again.
    const rows = Array.from({ length: 9000 }, (_, i) => {
      const unique = i >= 3000 && i < 6000;
      return [
        i,
        i % 10 === 3 ? null : unique ? `id-${i}-${'z'.repeat(i % 13)}` : LOW[i % LOW.length]!,
        unique ? BigInt(i) * 7n : BigInt(i % 3),
      ];
    });
    const { file } = await writeChecked(cols, rows, { rowGroupRows: 3000, pageBytes: 4096 });
    const f = save(file);
    const got = await query(`SELECT id, s, k::VARCHAR AS k FROM read_parquet('${f}') ORDER BY id`);
    expect(got).toEqual(rows.map(([id, s, k]) => ({ id, s, k: String(k) })));
    const meta = await chunkMeta(f);
    for (const name of ['s', 'k']) {
      const chunks = chunksOf(file, meta, name);
      expect(chunks.map((c) => c.dictionary_page_offset !== null)).toEqual([true, false, true]);
      // The unique chunk's trial page was rewritten PLAIN: no RLE_DICTIONARY anywhere in it.
      expect(chunks[1]!.walked.pages.every((p) => p.encoding === 0)).toBe(true);
      expect(chunks[1]!.encodings).toBe(name === 's' ? 'PLAIN, RLE' : 'PLAIN, RLE');
    }
    const s1 = rows
      .slice(3000, 6000)
      .map((r) => r[1])
      .filter((v): v is string => v !== null)
      .sort(byBytes);
    const [, unique] = chunksOf(file, meta, 's');
    expect([unique!.stats_min_value, unique!.stats_max_value]).toEqual([s1[0], s1[s1.length - 1]]);
  });

  it('keeps the dictionary of a sequence that restarts every 10 000 rows (item numbers per machine-hour)', async () => {
    const cols: ParquetColumn[] = [{ name: 'item', type: 'int64', nullable: false }];
    const rows = Array.from({ length: 50_000 }, (_, i) => [BigInt((i % 10_000) + 1)]);
    const { file } = await writeChecked(cols, rows, { rowGroupRows: 40_000 });
    const f = save(file);
    const [first, second] = chunksOf(file, await chunkMeta(f), 'item');
    expect(first!.walked.dictionary).toBe(10_000);
    expect(Number(first!.total_compressed_size)).toBeLessThan(40_000 * 8 * 0.5); // 10 000 × 8 + 40 000 × 14 bits
    expect(second!.walked.dictionary).toBeUndefined(); // 10 000 values, all distinct: PLAIN
    expect(await query(`SELECT sum(item) AS s, count(DISTINCT item) AS k FROM read_parquet('${f}')`)).toEqual([
      { s: 5n * 50_005_000n, k: 10_000n },
    ]);
  });

  it('writes pages of only NULLs PLAIN, and all-NULL chunks without a dictionary', async () => {
    const cols: ParquetColumn[] = [
      { name: 'id', type: 'int32', nullable: false },
      { name: 's', type: 'string', nullable: true },
      { name: 't', type: 'timestamp', nullable: true },
    ];
    // Row group 0: 512 values, then 488 NULLs; row group 1: NULLs only. With 32-byte pages, the trial ends after a
    // few values and the indices fill 128-value (s, 2 bits) and 256-value (t, 1 bit) pages: the last value fills a
    // page, the NULLs make a page of their own.
    const rows = Array.from({ length: 2000 }, (_, i) =>
      i < 512 ? [i, LOW[i % 3]!, BigInt(i % 2) * 1000n] : [i, null, null],
    );
    const { file } = await writeChecked(cols, rows, { rowGroupRows: 1000, pageBytes: 32 });
    const f = save(file);
    const got = await query(`SELECT id, s, epoch_us(t)::VARCHAR AS t FROM read_parquet('${f}') ORDER BY id`);
    expect(got).toEqual(rows.map(([id, s, t]) => ({ id, s, t: t === null ? null : String(t) })));
    const meta = await chunkMeta(f);
    for (const name of ['s', 't']) {
      const [first, second] = chunksOf(file, meta, name);
      expect(first!.walked.dictionary).toBe(name === 's' ? 3 : 2);
      expect(first!.walked.pages.some((p) => p.encoding === 8)).toBe(true);
      expect(first!.walked.pages.at(-1)!.encoding).toBe(0);
      expect(first!.walked.pages.at(-1)!.values).toBe(488);
      expect(first!.stats_null_count).toBe(488n);
      expect(second!.dictionary_page_offset).toBeNull();
      expect(second!.walked.pages.every((p) => p.encoding === 0)).toBe(true);
      expect(second!.stats_null_count).toBe(1000n);
      expect(second!.stats_min_value).toBeNull();
    }
  });

  it('writes the same file from JS strings and from UTF-8 byte ranges', async () => {
    const cols: ParquetColumn[] = [{ name: 's', type: 'string', nullable: true }];
    const values = Array.from({ length: 5000 }, (_, i) => (i % 17 === 0 ? null : LOW[(i * 3) % LOW.length]!));
    const fromStrings = (
      await writeFile(
        cols,
        values.map((v) => [v]),
        { rowGroupRows: 2000 },
      )
    ).file;
    const blob = Buffer.from(values.map((v) => v ?? '').join(''), 'utf8');
    const out: Buffer[] = [];
    const w = new ParquetWriter(cols, (c) => void out.push(c), { rowGroupRows: 2000 });
    let at = 0;
    for (const v of values) {
      if (v === null) w.column(0).appendNull();
      else {
        const n = Buffer.byteLength(v);
        w.column(0).appendBytes(blob, at, at + n);
        at += n;
      }
      await w.endRow();
    }
    await w.close();
    expect(Buffer.concat(out).equals(fromStrings)).toBe(true);
  });

  it('keeps projectedBytes an upper bound that follows the dictionary-encoded size', async () => {
    const rows = Array.from({ length: 60_000 }, (_, i) => dictRow(i));
    // Big enough that constant overheads do not matter: the projection is within a few % of the file.
    const { file, projected } = await writeChecked(DICT_COLUMNS, rows, { rowGroupRows: 16_384 });
    expect(file.length).toBeGreaterThan(projected * 0.95);
    // The bound holds at every point where a file could be closed, fallbacks and trials included.
    for (const n of [1, 2, 700, 8191, 8192, 8193, 12_000]) {
      await writeChecked(DICT_COLUMNS, rows.slice(0, n), { rowGroupRows: 5000, pageBytes: 2048 });
      await writeChecked(DICT_COLUMNS, rows.slice(0, n), { rowGroupRows: 5000, dictionaryPageBytes: 300 });
    }
  });

  it('validates dictionaryPageBytes', () => {
    const cols: ParquetColumn[] = [{ name: 's', type: 'string', nullable: true }];
    expect(() => new ParquetWriter(cols, () => undefined, { dictionaryPageBytes: 0 })).toThrow(/dictionaryPageBytes/);
  });
});

// ---- the binary COPY decoder ------------------------------------------------------------------------------------

/** PostgreSQL binary send formats (big-endian), to build COPY streams by hand. */
const pgv = {
  bool: (b: boolean) => Buffer.from([b ? 1 : 0]),
  int2: (n: number) => {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    return b;
  },
  int4: (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  },
  int8: (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(n);
    return b;
  },
  float4: (n: number) => {
    const b = Buffer.alloc(4);
    b.writeFloatBE(n);
    return b;
  },
  float8: (n: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(n);
    return b;
  },
  text: (s: string) => Buffer.from(s, 'utf8'),
  /** µs since 2000-01-01. */
  timestamp: (pgMicros: bigint) => pgv.int8(pgMicros),
  /** Days since 2000-01-01. */
  date: (pgDays: number) => pgv.int4(pgDays),
};

function binaryCopy(rows: ReadonlyArray<ReadonlyArray<Buffer | null>>, extension = Buffer.alloc(0), flags = 0): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')];
  const head = Buffer.alloc(8);
  head.writeInt32BE(flags, 0);
  head.writeInt32BE(extension.length, 4);
  parts.push(head, extension);
  for (const row of rows) {
    parts.push(pgv.int2(row.length));
    for (const v of row) {
      if (v === null) parts.push(pgv.int4(-1));
      else parts.push(pgv.int4(v.length), v);
    }
  }
  parts.push(pgv.int2(-1));
  return Buffer.concat(parts);
}

const DECODER_COLUMNS: ParquetColumn[] = [
  { name: 'id', type: 'int32', nullable: false },
  { name: 'small', type: 'int64', nullable: true },
  { name: 'big', type: 'int64', nullable: true },
  { name: 'f4', type: 'double', nullable: true },
  { name: 'f8', type: 'double', nullable: true },
  { name: 'name', type: 'string', nullable: true },
  { name: 'ts', type: 'timestamp', nullable: true },
  { name: 'day', type: 'date', nullable: true },
  { name: 'ok', type: 'boolean', nullable: true },
  { name: 'i2', type: 'int32', nullable: true },
];
const DECODER_KINDS: PgBinaryKind[] = [
  'int4',
  'int4',
  'int8',
  'float4',
  'float8',
  'text',
  'timestamp',
  'date',
  'bool',
  'int2',
];
const LONG_TEXT = 'Ação '.repeat(200); // 1200 bytes: longer than the decoder's initial carry buffer

function decoderRows(): Array<Array<Buffer | null>> {
  const names = ['João', '', 'Ação 🎉', LONG_TEXT, null, 'plain'];
  const rows: Array<Array<Buffer | null>> = [];
  for (let i = 0; i < 12; i++) {
    rows.push([
      pgv.int4(i - 3),
      i % 4 === 3 ? null : pgv.int4(-i * 1000),
      i % 5 === 4 ? null : pgv.int8(i % 2 ? 2n ** 62n + BigInt(i) : -(2n ** 53n) - BigInt(i)),
      i % 6 === 5 ? null : pgv.float4(i + 0.5),
      i === 7 ? null : pgv.float8(i / 3),
      names[i % names.length] === null ? null : pgv.text(names[i % names.length]!),
      i % 7 === 6 ? null : pgv.timestamp(BigInt(i - 6) * 86_400_000_001n + 123n),
      i === 2 ? null : pgv.date(i * 400 - 3000),
      i === 9 ? null : pgv.bool(i % 3 === 0),
      i === 10 ? null : pgv.int2(i % 2 ? -32768 + i : 32767 - i),
    ]);
  }
  return rows;
}

/** Decodes `stream` pushed in the given pieces into one Parquet file (row groups of 5 rows). */
async function decodeToParquet(pieces: readonly Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const writer = new ParquetWriter(DECODER_COLUMNS, (c) => void out.push(c), { rowGroupRows: 5 });
  const builders = DECODER_COLUMNS.map((_, i) => writer.column(i));
  const decoder = new BinaryCopyDecoder(DECODER_KINDS, { beginRow: () => builders, endRow: () => writer.endRow() });
  for (const p of pieces) await decoder.push(p);
  decoder.finish();
  expect(decoder.rows).toBe(12);
  await writer.close();
  return Buffer.concat(out);
}

describe('BinaryCopyDecoder', () => {
  const stream = binaryCopy(decoderRows(), Buffer.from('ext!'));
  let reference: Buffer;

  it('decodes every supported PostgreSQL kind into the Parquet columns', async () => {
    reference = await decodeToParquet([stream]);
    const f = save(reference);
    const got = await query(
      `SELECT id, small::VARCHAR AS small, big::VARCHAR AS big, f4, f8, name, epoch_us(ts)::VARCHAR AS ts,
              (day - DATE '1970-01-01')::VARCHAR AS day, ok, i2 FROM read_parquet('${f}')`,
    );
    const PG_EPOCH_US = 946_684_800_000_000n;
    const want = decoderRows().map((r, i) => {
      const at = (j: number): Buffer | null => r[j] ?? null;
      const [big, name, ts, day, i2] = [at(2), at(5), at(6), at(7), at(9)];
      return {
        id: i - 3,
        small: at(1) === null ? null : String(-i * 1000),
        big: big === null ? null : String(big.readBigInt64BE()),
        f4: at(3) === null ? null : i + 0.5,
        f8: at(4) === null ? null : i / 3,
        name: name === null ? null : name.toString('utf8'),
        ts: ts === null ? null : String(ts.readBigInt64BE() + PG_EPOCH_US),
        day: day === null ? null : String(day.readInt32BE() + 10957),
        ok: at(8) === null ? null : i % 3 === 0,
        i2: i2 === null ? null : i2.readInt16BE(),
      };
    });
    expect(got).toEqual(want);
    // A negative PostgreSQL timestamp (before 2000) crosses the 32-bit carry of the epoch shift.
    expect(want[0]!.ts).toBe(String(-6n * 86_400_000_001n + 123n + PG_EPOCH_US));
  });

  it('produces the same file whatever the chunk boundaries (split at every byte offset, and byte by byte)', async () => {
    expect(stream.length).toBeGreaterThan(2000);
    for (let k = 0; k <= stream.length; k++) {
      const file = await decodeToParquet([stream.subarray(0, k), stream.subarray(k)]);
      if (!file.equals(reference)) throw new Error(`different output when split at byte ${k}`);
    }
    const bytewise = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    expect((await decodeToParquet(bytewise)).equals(reference)).toBe(true);
    // Three-way splits around the long value.
    const long = stream.indexOf(Buffer.from(LONG_TEXT));
    for (const a of [long - 3, long, long + 1, long + 600]) {
      for (const b of [a + 1, a + 700, a + 1200]) {
        const pieces = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
        expect((await decodeToParquet(pieces)).equals(reference)).toBe(true);
      }
    }
  });

  it('rejects streams it cannot trust', async () => {
    const decode = async (buf: Buffer, kinds: PgBinaryKind[] = ['int4']) => {
      const w = new ParquetWriter([{ name: 'x', type: 'int32', nullable: true }], () => undefined);
      const builders = [w.column(0)];
      const d = new BinaryCopyDecoder(kinds, { beginRow: () => builders, endRow: () => w.endRow() });
      await d.push(buf);
      d.finish();
    };
    const ok = binaryCopy([[pgv.int4(1)], [null]]);
    await expect(decode(ok)).resolves.toBeUndefined();
    await expect(decode(Buffer.from('PGCOPY\n\xff\r\n\x01whatever', 'latin1'))).rejects.toThrow(
      /not a PostgreSQL binary COPY/,
    );
    await expect(decode(binaryCopy([[pgv.int4(1)]], Buffer.alloc(0), 1 << 16))).rejects.toThrow(/OIDs/);
    await expect(decode(ok.subarray(0, ok.length - 2))).rejects.toThrow(/ended early \(after 2 rows/);
    await expect(decode(ok.subarray(0, ok.length - 5))).rejects.toThrow(/ended early/);
    await expect(decode(Buffer.concat([ok, Buffer.from([0])]))).rejects.toThrow(/after the binary COPY trailer/);
    await expect(decode(binaryCopy([[pgv.int4(1), pgv.int4(2)]]))).rejects.toThrow(/row 1 has 2 fields, expected 1/);
    await expect(decode(binaryCopy([[pgv.int8(1n)]]))).rejects.toThrow(/row 1, field 1: bad value length 8/);
    const infinity = binaryCopy([[pgv.int4(0x7fffffff)]]);
    const w = new ParquetWriter([{ name: 'd', type: 'date', nullable: true }], () => undefined);
    const d = new BinaryCopyDecoder(['date'], { beginRow: () => [w.column(0)], endRow: () => w.endRow() });
    await expect(d.push(infinity)).rejects.toThrow(/infinite dates/);
  });
});

// ---- parameters and column matching -----------------------------------------------------------------------------

describe('inlineParams', () => {
  it('replaces placeholders by quoted literals that behave like untyped bind parameters', () => {
    const sql = 'SELECT * FROM t WHERE a = $1 AND b >= $2 AND c = $3 AND d IN ($4, $5) AND e = $10';
    const params = ["O'Brien", 12.5, 2n ** 63n - 1n, true, null, 0, 0, 0, 0, new Date('2024-03-01T10:00:00.123Z')];
    expect(inlineParams(sql, params)).toBe(
      "SELECT * FROM t WHERE a = 'O''Brien' AND b >= '12.5' AND c = '9223372036854775807' AND d IN ('true', NULL) AND e = '2024-03-01T10:00:00.123Z'",
    );
  });

  it('leaves $n alone inside strings, identifiers, dollar quotes and comments', () => {
    const sql = `SELECT '$1', E'it\\'s $1', "col$1", $$ $1 $$, $tag$ $1 $x$ $tag$, x$1, -- $1
      /* $1 /* nested $1 */ $1 */ $1, U&'$1'`;
    expect(inlineParams(sql, ['v'])).toBe(sql.replace(/ \$1, U&/, " 'v', U&"));
  });

  it('escapes backslashes with an E string, hex-encodes bytes and rejects what it cannot represent', () => {
    expect(sqlLiteral('a\\b')).toBe(" E'a\\\\b'");
    expect(sqlLiteral("a\\'b")).toBe(" E'a\\\\''b'");
    expect(sqlLiteral(Buffer.from([0, 255]))).toBe(" E'\\\\x00ff'");
    expect(sqlLiteral(undefined)).toBe('NULL');
    expect(sqlLiteral(-3)).toBe("'-3'");
    expect(() => sqlLiteral(NaN)).toThrow(CopyBinaryError);
    expect(() => sqlLiteral('a\0b')).toThrow(/NUL/);
    expect(() => sqlLiteral({ a: 1 })).toThrow(/unsupported query parameter type: \[object Object\]/);
    expect(() => sqlLiteral([1])).toThrow(/unsupported/);
  });

  it('refuses placeholders without parameters and unterminated quotes', () => {
    expect(() => inlineParams('SELECT $2', [1])).toThrow(/uses \$2 but 1 parameter/);
    expect(() => inlineParams('SELECT $0', [1])).toThrow(/uses \$0/);
    expect(() => inlineParams("SELECT 'abc", [1])).toThrow(/unterminated string/);
    expect(() => inlineParams('SELECT $q$ abc', [1])).toThrow(/unterminated dollar-quoted/);
    expect(() => inlineParams('SELECT /* abc', [1])).toThrow(/unterminated comment/);
  });
});

describe('matchColumns', () => {
  const col = (type: ParquetColumn['type']): ParquetColumn => ({ name: 'c', type, nullable: true });
  it('accepts compatible PostgreSQL types (widening integers) and names a cast for the others', () => {
    expect(
      matchColumns(
        [
          { name: 'a', kind: 'int2', typeName: 'smallint' },
          { name: 'b', kind: 'int4', typeName: 'integer' },
          { name: 'c', kind: 'text', typeName: 'character varying' },
        ],
        [col('int32'), col('int64'), col('string')],
      ),
    ).toEqual(['int2', 'int4', 'text']);
    expect(() => matchColumns([{ name: 'v', kind: undefined, typeName: 'numeric' }], [col('double')])).toThrow(
      /"v" has type numeric.*cast it to float8 or text.*v::float8/,
    );
    expect(() => matchColumns([{ name: 'v', kind: 'int8', typeName: 'bigint' }], [col('int32')])).toThrow(
      /incompatible with Parquet column "c" \(int32\); cast it in the SELECT, e\.g\. v::int4/,
    );
    expect(() => matchColumns([], [col('int32')])).toThrow(/returns 0 column\(s\)/);
  });
});
