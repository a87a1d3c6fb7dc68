/**
 * A streaming Parquet writer with bounded memory, written from the Apache Parquet format spec (no dependency).
 *
 * Layout of a file: `PAR1`, then row groups (each: one column chunk per column, in schema order; each chunk: one or
 * more data pages), then the footer (`FileMetaData`, Thrift compact), its 4-byte little-endian length and `PAR1`.
 *
 * Design choices:
 * - Flat schema only (a root group with one leaf per column); columns are REQUIRED or OPTIONAL, never REPEATED.
 * - Physical / logical types. Both the `logicalType` (new readers) and the `converted_type` (old readers) are written,
 *   so pyarrow, pandas, DuckDB, Spark… read the columns as-is:
 *     boolean   → BOOLEAN
 *     int32     → INT32
 *     int64     → INT64
 *     double    → DOUBLE
 *     string    → BYTE_ARRAY + STRING / UTF8
 *     timestamp → INT64 + TIMESTAMP(isAdjustedToUTC = true, MICROS) / TIMESTAMP_MICROS (µs since the Unix epoch, UTC)
 *     date      → INT32 + DATE / DATE (days since the Unix epoch)
 * - Encoding: PLAIN values (BOOLEAN bit-packed LSB first, numbers little-endian, BYTE_ARRAY as a 4-byte LE length +
 *   bytes). Data pages are v1 (`DATA_PAGE`); the codec is UNCOMPRESSED (no native compression library needed, any
 *   reader can read the files as they are). No dictionary pages, no page index, no bloom filters.
 * - Definition levels (OPTIONAL columns only; max level 1) use the RLE/bit-packed hybrid, bit width 1, prefixed by
 *   their 4-byte LE length as v1 pages require: a single RLE run when a page has no nulls (or only nulls), else one
 *   bit-packed run (the page's presence bitmap as is; the last group of 8 is zero-padded, which the spec allows).
 *   REQUIRED columns have no levels. Repetition levels are never written (max repetition level 0).
 * - Pages are cut per column when their buffered values reach `pageBytes` (1 MiB by default) or 1 Mi values; a row
 *   group is flushed when it holds `rowGroupRows` rows or its estimated encoded size reaches `rowGroupBytes`.
 * - Statistics: each column chunk gets `null_count` and, under `column_orders` = TYPE_ORDER for every column,
 *   `min_value`/`max_value` (signed order for numbers/dates/timestamps, false < true, unsigned byte order for
 *   strings). Doubles also get `nan_count`; NaNs are left out of min/max, a zero min is written as -0.0 and a zero
 *   max as +0.0, as the spec requires. String min/max longer than 256 bytes are omitted (the values are not
 *   truncated). The deprecated `min`/`max` fields are not written. No page-level statistics.
 * - Memory: every column buffers the values of its current page in one growable Buffer (kept and reused across
 *   pages), and finished pages until their row group is flushed; flushing hands the pages to the sink (small ones
 *   coalesced into ~1 MiB chunks) and drops them. So memory ≈ one row group (≤ rowGroupBytes, plus at most one value
 *   per column) plus the small metadata of the flushed row groups (kept until the footer is written).
 * - Output goes to an async `sink(chunk)`. Row-group flushes are serialized in call order and each sink call is
 *   awaited before the next (back-pressure): await what `endRow()`/`appendRow()` return.
 *
 * Two ways to feed rows:
 * - `appendRow(values)` with JS values (tests, small sets); values are type-checked before anything is appended.
 * - the column-oriented fast path: `column(i).appendX(...)` for every column, then `endRow()`. The `…BE` methods
 *   take big-endian bytes straight from a PostgreSQL binary COPY buffer (see `../pg-copy-binary.ts`); they avoid
 *   bigint and per-value allocations. Every column must receive exactly one value (or null) per row: the counts are
 *   checked when a row group is flushed.
 */
import { CompactWriter, ElementType } from './thrift-compact.js';

export type ParquetColumnType = 'boolean' | 'int32' | 'int64' | 'double' | 'string' | 'timestamp' | 'date';

export interface ParquetColumn {
  name: string;
  type: ParquetColumnType;
  nullable: boolean;
}

export interface ParquetWriterOptions {
  /** Flush a row group when it holds this many rows (default 128 Ki rows). */
  rowGroupRows?: number;
  /** Also flush when the row group's estimated encoded size reaches this many bytes (default 64 MiB). */
  rowGroupBytes?: number;
  /** Cut a column's data page when its values reach this many bytes (default 1 MiB). */
  pageBytes?: number;
  /** `created_by` of the footer (default `fabrica`). */
  createdBy?: string;
  /** File-level key/value metadata. */
  keyValueMetadata?: Record<string, string>;
}

/** Receives the file's bytes, in order; a returned promise is awaited before the next chunk (back-pressure). */
export type ParquetSink = (chunk: Buffer) => Promise<void> | void;

export const DEFAULT_ROW_GROUP_ROWS = 128 * 1024;
export const DEFAULT_ROW_GROUP_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PAGE_BYTES = 1024 * 1024;
/** Longest string min/max written to statistics. */
export const STRING_STATS_MAX_BYTES = 256;

const MAX_PAGE_VALUES = 1 << 20;
/** Upper bound of one page's header, its definition-levels prefix and run header, and its bit-packing round-ups. */
export const PAGE_OVERHEAD_BOUND = 64;
/** Hand pages of at least this size to the sink alone; coalesce smaller ones up to this size. */
const COALESCE_BYTES = 1024 * 1024;
const MAGIC = Buffer.from('PAR1', 'latin1');

// Parquet enums (parquet.thrift).
const PhysicalType = { BOOLEAN: 0, INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6 } as const;
const ConvertedType = { UTF8: 0, DATE: 6, TIMESTAMP_MICROS: 10 } as const;
const Encoding = { PLAIN: 0, RLE: 3 } as const;
const PAGE_TYPE_DATA_PAGE = 0;
const CODEC_UNCOMPRESSED = 0;
const REPETITION_REQUIRED = 0;
const REPETITION_OPTIONAL = 1;

const TWO_32 = 4294967296;
/** µs between the Unix epoch and PostgreSQL's epoch (2000-01-01), split in 32-bit halves. */
const PG_EPOCH_MICROS = 946684800000000;
const PG_EPOCH_HI = Math.floor(PG_EPOCH_MICROS / TWO_32);
const PG_EPOCH_LO = PG_EPOCH_MICROS - PG_EPOCH_HI * TWO_32;
/** Days between the Unix epoch and PostgreSQL's epoch. */
const PG_EPOCH_DAYS = 10957;
const MS_PER_DAY = 86_400_000;

const PHYSICAL: Record<ParquetColumnType, number> = {
  boolean: PhysicalType.BOOLEAN,
  int32: PhysicalType.INT32,
  int64: PhysicalType.INT64,
  double: PhysicalType.DOUBLE,
  string: PhysicalType.BYTE_ARRAY,
  timestamp: PhysicalType.INT64,
  date: PhysicalType.INT32,
};

/** Bytes one non-null value takes in PLAIN encoding (strings: just the length prefix). */
const FIXED_WIDTH: Record<ParquetColumnType, number> = {
  boolean: 1 / 8,
  int32: 4,
  int64: 8,
  double: 8,
  string: 4,
  timestamp: 8,
  date: 4,
};

/** Shared byte accounting of a writer's builders (so the writer's estimate costs O(1) per row). */
interface Accounting {
  /** Payload bytes of variable-length values buffered in the current row group. */
  varBytes: number;
  /** Pages cut in the current row group. */
  pages: number;
}

/** Statistics of a finished column chunk. */
interface ChunkStats {
  nullCount: number;
  min?: Buffer;
  max?: Buffer;
  nanCount?: number;
}

/** A finished column chunk, ready to be written. */
interface FinishedChunk {
  pages: Buffer[];
  bytes: number;
  values: number;
  stats: ChunkStats;
}

function describe(col: ParquetColumn): string {
  return `column "${col.name}" (${col.type}${col.nullable ? '' : ', not null'})`;
}

/** A value for an error message. */
function show(v: unknown): string {
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return Object.prototype.toString.call(v);
}

function cannot(col: ParquetColumn, what: string): Error {
  return new TypeError(`${describe(col)} cannot take ${what}`);
}

function u32le(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}

/** Compares two byte ranges of the same or different buffers, unsigned lexicographic order. */
function compareBytes(a: Uint8Array, as: number, al: number, b: Uint8Array, bs: number, bl: number): number {
  const n = al < bl ? al : bl;
  for (let i = 0; i < n; i++) {
    const d = a[as + i]! - b[bs + i]!;
    if (d !== 0) return d;
  }
  return al - bl;
}

/** Splits a safe integer into its two's-complement 32-bit halves. */
function splitSafeInteger(n: number): [hi: number, lo: number] {
  const hi = Math.floor(n / TWO_32);
  return [hi, n - hi * TWO_32];
}

/** Splits an i64 bigint into its two's-complement 32-bit halves. */
function splitBigInt(v: bigint): [hi: number, lo: number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u >> 32n) | 0, Number(u & 0xffffffffn)];
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function isI64(v: unknown): v is bigint | number {
  if (typeof v === 'bigint') return v >= I64_MIN && v <= I64_MAX;
  return Number.isSafeInteger(v);
}

function isI32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;
}

const DATE_RE = /^(-?\d{4,6})-(\d{2})-(\d{2})$/;

/** `YYYY-MM-DD` → days since the Unix epoch, or undefined if not a valid date. */
function parseIsoDate(s: string): number | undefined {
  const m = DATE_RE.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms / MS_PER_DAY;
}

/**
 * Buffers one column's values for the current row group. Obtained from {@link ParquetWriter.column}; only the
 * methods that fit the column's type work, the others throw a TypeError naming the column.
 */
export abstract class ColumnBuilder {
  /** Values of the current page, PLAIN-encoded (non-null values only). */
  protected v: Buffer;
  protected vlen = 0;
  /** Presence bitmap of the current page (bit i set = value i not null); OPTIONAL columns only. */
  protected d: Uint8Array;
  /** Values (incl. nulls) in the current page. */
  protected count = 0;
  protected nulls = 0;
  private pages: Buffer[] = [];
  private pagesBytes = 0;
  private chunkValues = 0;
  private chunkNulls = 0;
  protected readonly nullable: boolean;
  private readonly initialCapacity: number;

  constructor(
    readonly column: ParquetColumn,
    protected readonly pageBytes: number,
    protected readonly acc: Accounting,
  ) {
    this.nullable = column.nullable;
    this.initialCapacity = Math.min(pageBytes + 64, 64 * 1024);
    this.v = ColumnBuilder.alloc(this.initialCapacity);
    this.d = new Uint8Array(this.nullable ? 1024 : 0);
  }

  /** A zero-filled buffer with its own ArrayBuffer (offset 0, so DataView scans are aligned and cheap). */
  private static alloc(n: number): Buffer {
    return Buffer.alloc(n);
  }

  // ---- the appenders (overridden by the builders that support them) ----------------------------------------------

  appendNull(): void {
    if (!this.nullable) throw new TypeError(`${describe(this.column)} cannot take null`);
    const i = this.count >>> 3;
    if (i >= this.d.length) this.growD();
    this.count++;
    this.nulls++;
    if (this.count >= MAX_PAGE_VALUES) this.cutPage();
  }
  appendBool(_b: boolean): void {
    throw cannot(this.column, 'a boolean');
  }
  appendInt32(_n: number): void {
    throw cannot(this.column, 'an int32');
  }
  appendInt64(_v: bigint | number): void {
    throw cannot(this.column, 'an int64');
  }
  appendDouble(_n: number): void {
    throw cannot(this.column, 'a double');
  }
  /** UTF-8 bytes `buf[start, end)` of a string (copied). */
  appendBytes(_buf: Uint8Array, _start: number, _end: number): void {
    throw cannot(this.column, 'bytes');
  }
  appendString(_s: string): void {
    throw cannot(this.column, 'a string');
  }
  /** µs since the Unix epoch, UTC. */
  appendTimestampMicros(_micros: bigint | number): void {
    throw cannot(this.column, 'a timestamp');
  }
  /** Days since the Unix epoch. */
  appendDate(_daysSinceEpoch: number): void {
    throw cannot(this.column, 'a date');
  }
  /** A big-endian int16 at `buf[pos]` (PostgreSQL int2). */
  appendInt16BE(_buf: Uint8Array, _pos: number): void {
    throw cannot(this.column, 'an int16');
  }
  /** A big-endian int32 at `buf[pos]` (PostgreSQL int4). */
  appendInt32BE(_buf: Uint8Array, _pos: number): void {
    throw cannot(this.column, 'an int32');
  }
  /** A big-endian int64 at `buf[pos]` (PostgreSQL int8). */
  appendInt64BE(_buf: Uint8Array, _pos: number): void {
    throw cannot(this.column, 'an int64');
  }
  /** A big-endian IEEE float at `buf[pos]` (PostgreSQL float4). */
  appendFloatBE(_buf: Uint8Array, _pos: number): void {
    throw cannot(this.column, 'a float4');
  }
  /** A big-endian IEEE double at `buf[pos]` (PostgreSQL float8). */
  appendDoubleBE(_buf: Uint8Array, _pos: number): void {
    throw cannot(this.column, 'a double');
  }
  /** A PostgreSQL binary timestamp/timestamptz at `buf[pos]`: big-endian int64 µs since 2000-01-01 UTC. */
  appendPgTimestamp(_buf: Uint8Array, _pos: number): void {
    throw cannot(this.column, 'a timestamp');
  }
  /** A PostgreSQL binary date at `buf[pos]`: big-endian int32 days since 2000-01-01. */
  appendPgDate(_buf: Uint8Array, _pos: number): void {
    throw cannot(this.column, 'a date');
  }

  /** Throws a TypeError unless {@link appendValue} can take `value`. */
  abstract checkValue(value: unknown): void;
  /** Appends a JS value already accepted by {@link checkValue} (null/undefined = null). */
  abstract appendValue(value: unknown): void;

  // ---- page and chunk management ----------------------------------------------------------------------------------

  /** Bytes of PLAIN values in the current page. */
  protected valuesLength(): number {
    return this.vlen;
  }

  /** Folds the current page's non-null values into the chunk statistics. */
  protected abstract scanPage(): void;
  /** The chunk's min/max (PLAIN bytes, no length prefix) and NaN count; resets them for the next chunk. */
  protected abstract takeMinMax(): { min?: Buffer; max?: Buffer; nanCount?: number };
  /** Clears the values of the current page (after it was cut). */
  protected clearValues(): void {
    this.vlen = 0;
  }

  protected ensure(n: number): void {
    if (this.vlen + n > this.v.length) this.growV(n);
  }

  private growV(n: number): void {
    let cap = this.v.length * 2;
    while (cap < this.vlen + n) cap *= 2;
    const next = ColumnBuilder.alloc(cap);
    this.v.copy(next, 0, 0, this.vlen);
    this.v = next;
  }

  protected growD(): void {
    const next = new Uint8Array(this.d.length * 2);
    next.set(this.d);
    this.d = next;
  }

  /** Marks one non-null value appended (its bytes are already in `v`); cuts the page when it is full. */
  protected present(): void {
    const c = this.count;
    if (this.nullable) {
      const i = c >>> 3;
      if (i >= this.d.length) this.growD();
      this.d[i] = this.d[i]! | (1 << (c & 7));
    }
    this.count = c + 1;
    if (this.vlen >= this.pageBytes || this.count >= MAX_PAGE_VALUES) this.cutPage();
  }

  /** Encodes the current page (header + levels + values) into its own buffer and starts a new page. */
  protected cutPage(): void {
    const count = this.count;
    if (count === 0) return;
    const valuesLen = this.valuesLength();
    let levels: Buffer | undefined;
    let bitmapBytes = 0;
    if (this.nullable) {
      const hybrid = new CompactWriter(16);
      if (this.nulls === 0 || this.nulls === count) {
        // One RLE run: header = count << 1, then the value in ceil(bitWidth / 8) = 1 byte.
        hybrid.varint(count * 2).byte(this.nulls === 0 ? 1 : 0);
      } else {
        // One bit-packed run of ceil(count / 8) groups of 8 values: header = groups << 1 | 1, then the bitmap.
        bitmapBytes = Math.ceil(count / 8);
        hybrid.varint(bitmapBytes * 2 + 1);
      }
      const runHeader = hybrid.finish();
      levels = Buffer.concat([u32le(runHeader.length + bitmapBytes), runHeader]);
    }
    const bodyLen = (levels?.length ?? 0) + bitmapBytes + valuesLen;
    const header = new CompactWriter(48)
      .structBegin()
      .fieldI32(1, PAGE_TYPE_DATA_PAGE)
      .fieldI32(2, bodyLen)
      .fieldI32(3, bodyLen)
      .fieldStructBegin(5)
      .fieldI32(1, count)
      .fieldI32(2, Encoding.PLAIN)
      .fieldI32(3, Encoding.RLE)
      .fieldI32(4, Encoding.RLE)
      .structEnd()
      .structEnd()
      .finish();
    const page = Buffer.allocUnsafe(header.length + bodyLen);
    let at = header.copy(page, 0);
    if (levels) at += levels.copy(page, at);
    if (bitmapBytes > 0) {
      page.set(this.d.subarray(0, bitmapBytes), at);
      at += bitmapBytes;
    }
    this.v.copy(page, at, 0, valuesLen);
    this.scanPage();
    this.pages.push(page);
    this.pagesBytes += page.length;
    this.acc.pages++;
    this.chunkValues += count;
    this.chunkNulls += this.nulls;
    if (this.nullable) this.d.fill(0, 0, Math.ceil(count / 8));
    this.clearValues();
    this.count = 0;
    this.nulls = 0;
    // Do not keep a buffer grown by one huge value for the writer's lifetime.
    if (this.v.length > 4 * (this.pageBytes + 64) && this.v.length > this.initialCapacity) {
      this.v = ColumnBuilder.alloc(this.initialCapacity);
    }
  }

  /** Values (incl. nulls) appended to the current row group. */
  get bufferedValues(): number {
    return this.chunkValues + this.count;
  }

  /** Finishes the column chunk of the current row group and resets the builder for the next one. */
  finishChunk(): FinishedChunk {
    this.cutPage();
    const { min, max, nanCount } = this.takeMinMax();
    const stats: ChunkStats = { nullCount: this.chunkNulls };
    if (min && max && min.length <= STRING_STATS_MAX_BYTES && max.length <= STRING_STATS_MAX_BYTES) {
      stats.min = min;
      stats.max = max;
    }
    if (nanCount !== undefined) stats.nanCount = nanCount;
    const chunk: FinishedChunk = { pages: this.pages, bytes: this.pagesBytes, values: this.chunkValues, stats };
    this.pages = [];
    this.pagesBytes = 0;
    this.chunkValues = 0;
    this.chunkNulls = 0;
    return chunk;
  }
}

/** BOOLEAN: values bit-packed LSB first into `v`. */
class BooleanBuilder extends ColumnBuilder {
  private bits = 0;
  private sawTrue = false;
  private sawFalse = false;

  override appendBool(b: boolean): void {
    const i = this.bits >>> 3;
    if (i >= this.v.length) this.ensure(i + 1 - this.vlen);
    if (b) this.v[i] = this.v[i]! | (1 << (this.bits & 7));
    this.bits++;
    this.vlen = (this.bits + 7) >>> 3;
    this.present();
  }
  checkValue(value: unknown): void {
    if (value !== null && value !== undefined && typeof value !== 'boolean') throw cannot(this.column, show(value));
  }
  appendValue(value: unknown): void {
    if (value === null || value === undefined) this.appendNull();
    else this.appendBool(value === true);
  }
  protected override clearValues(): void {
    this.v.fill(0, 0, this.vlen);
    this.vlen = 0;
    this.bits = 0;
  }
  protected scanPage(): void {
    const full = this.bits >>> 3;
    for (let i = 0; i < full && !(this.sawTrue && this.sawFalse); i++) {
      const byte = this.v[i]!;
      if (byte !== 0) this.sawTrue = true;
      if (byte !== 0xff) this.sawFalse = true;
    }
    for (let k = full * 8; k < this.bits; k++) {
      if ((this.v[k >>> 3]! >> (k & 7)) & 1) this.sawTrue = true;
      else this.sawFalse = true;
    }
  }
  protected takeMinMax() {
    const out =
      this.sawTrue || this.sawFalse
        ? { min: Buffer.from([this.sawFalse ? 0 : 1]), max: Buffer.from([this.sawTrue ? 1 : 0]) }
        : {};
    this.sawTrue = this.sawFalse = false;
    return out;
  }
}

/** INT32 and DATE: 4-byte little-endian values. */
class Int32Builder extends ColumnBuilder {
  private min = 0;
  private max = 0;
  private any = false;

  protected put32(n: number): void {
    if (this.vlen + 4 > this.v.length) this.ensure(4);
    const v = this.v;
    const o = this.vlen;
    v[o] = n;
    v[o + 1] = n >> 8;
    v[o + 2] = n >> 16;
    v[o + 3] = n >> 24;
    this.vlen = o + 4;
    this.present();
  }
  override appendInt32(n: number): void {
    if (!isI32(n)) throw new RangeError(`${describe(this.column)}: ${show(n)} is not an int32`);
    this.put32(n);
  }
  override appendInt16BE(b: Uint8Array, p: number): void {
    this.put32(((b[p]! << 24) >> 16) | b[p + 1]!);
  }
  override appendInt32BE(b: Uint8Array, p: number): void {
    if (this.vlen + 4 > this.v.length) this.ensure(4);
    const v = this.v;
    const o = this.vlen;
    v[o] = b[p + 3]!;
    v[o + 1] = b[p + 2]!;
    v[o + 2] = b[p + 1]!;
    v[o + 3] = b[p]!;
    this.vlen = o + 4;
    this.present();
  }
  checkValue(value: unknown): void {
    if (value === null || value === undefined) return;
    if (!isI32(value)) throw cannot(this.column, `${show(value)}`);
  }
  appendValue(value: unknown): void {
    if (value === null || value === undefined) this.appendNull();
    else this.put32(value as number);
  }
  protected scanPage(): void {
    const n = this.vlen >>> 2;
    if (n === 0) return;
    const view = new DataView(this.v.buffer, this.v.byteOffset, this.vlen);
    let min = this.any ? this.min : view.getInt32(0, true);
    let max = this.any ? this.max : min;
    for (let i = 0; i < n; i++) {
      const x = view.getInt32(i * 4, true);
      if (x < min) min = x;
      else if (x > max) max = x;
    }
    this.min = min;
    this.max = max;
    this.any = true;
  }
  protected takeMinMax() {
    if (!this.any) return {};
    const min = Buffer.allocUnsafe(4);
    const max = Buffer.allocUnsafe(4);
    min.writeInt32LE(this.min, 0);
    max.writeInt32LE(this.max, 0);
    this.any = false;
    return { min, max };
  }
}

class DateBuilder extends Int32Builder {
  override appendInt32(_n: number): void {
    throw cannot(this.column, 'an int32 (use appendDate)');
  }
  override appendInt16BE(_b: Uint8Array, _p: number): void {
    throw cannot(this.column, 'an int16');
  }
  override appendInt32BE(_b: Uint8Array, _p: number): void {
    throw cannot(this.column, 'an int32 (use appendPgDate)');
  }
  override appendDate(days: number): void {
    if (!isI32(days)) throw new RangeError(`${describe(this.column)}: ${show(days)} is not a day number`);
    this.put32(days);
  }
  override appendPgDate(b: Uint8Array, p: number): void {
    const days = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    if (days === 0x7fffffff || days === -0x80000000) {
      throw new RangeError(`${describe(this.column)}: infinite dates cannot be written to Parquet`);
    }
    const unix = days + PG_EPOCH_DAYS;
    if (unix > 0x7fffffff) throw new RangeError(`${describe(this.column)}: date out of range`);
    this.put32(unix);
  }
  override checkValue(value: unknown): void {
    if (value === null || value === undefined) return;
    if (value instanceof Date && !Number.isNaN(value.getTime())) return;
    if (typeof value === 'string' && parseIsoDate(value) !== undefined) return;
    if (isI32(value)) return;
    throw cannot(this.column, `${show(value)} (expected a Date, YYYY-MM-DD or a day number)`);
  }
  override appendValue(value: unknown): void {
    if (value === null || value === undefined) this.appendNull();
    else if (value instanceof Date) this.put32(Math.floor(value.getTime() / MS_PER_DAY));
    else if (typeof value === 'string') this.put32(parseIsoDate(value)!);
    else this.put32(value as number);
  }
}

/** INT64 and TIMESTAMP: 8-byte little-endian values, handled as 32-bit halves (no bigint on the hot path). */
class Int64Builder extends ColumnBuilder {
  private minHi = 0;
  private minLo = 0;
  private maxHi = 0;
  private maxLo = 0;
  private any = false;

  /** Appends the i64 `hi * 2^32 + lo` (`hi` signed, `lo` unsigned 32-bit). */
  protected put64(hi: number, lo: number): void {
    if (this.vlen + 8 > this.v.length) this.ensure(8);
    const v = this.v;
    const o = this.vlen;
    v[o] = lo;
    v[o + 1] = lo >>> 8;
    v[o + 2] = lo >>> 16;
    v[o + 3] = lo >>> 24;
    v[o + 4] = hi;
    v[o + 5] = hi >> 8;
    v[o + 6] = hi >> 16;
    v[o + 7] = hi >> 24;
    this.vlen = o + 8;
    this.present();
  }
  protected putAny(v: bigint | number): void {
    const [hi, lo] = typeof v === 'bigint' ? splitBigInt(v) : splitSafeInteger(v);
    this.put64(hi, lo);
  }
  override appendInt64(v: bigint | number): void {
    if (!isI64(v)) throw new RangeError(`${describe(this.column)}: ${show(v)} is not an int64 (or a safe integer)`);
    this.putAny(v);
  }
  override appendInt32(n: number): void {
    if (!isI32(n)) throw new RangeError(`${describe(this.column)}: ${show(n)} is not an int32`);
    this.put64(n < 0 ? -1 : 0, n >>> 0);
  }
  override appendInt16BE(b: Uint8Array, p: number): void {
    const n = ((b[p]! << 24) >> 16) | b[p + 1]!;
    this.put64(n < 0 ? -1 : 0, n >>> 0);
  }
  override appendInt32BE(b: Uint8Array, p: number): void {
    const n = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    this.put64(n < 0 ? -1 : 0, n >>> 0);
  }
  override appendInt64BE(b: Uint8Array, p: number): void {
    if (this.vlen + 8 > this.v.length) this.ensure(8);
    const v = this.v;
    const o = this.vlen;
    v[o] = b[p + 7]!;
    v[o + 1] = b[p + 6]!;
    v[o + 2] = b[p + 5]!;
    v[o + 3] = b[p + 4]!;
    v[o + 4] = b[p + 3]!;
    v[o + 5] = b[p + 2]!;
    v[o + 6] = b[p + 1]!;
    v[o + 7] = b[p]!;
    this.vlen = o + 8;
    this.present();
  }
  checkValue(value: unknown): void {
    if (value === null || value === undefined) return;
    if (!isI64(value)) throw cannot(this.column, `${show(value)} (expected a bigint or safe integer)`);
  }
  appendValue(value: unknown): void {
    if (value === null || value === undefined) this.appendNull();
    else this.putAny(value as bigint | number);
  }
  protected scanPage(): void {
    const n = this.vlen >>> 3;
    if (n === 0) return;
    const view = new DataView(this.v.buffer, this.v.byteOffset, this.vlen);
    let minHi = this.any ? this.minHi : view.getInt32(4, true);
    let minLo = this.any ? this.minLo : view.getUint32(0, true);
    let maxHi = this.any ? this.maxHi : minHi;
    let maxLo = this.any ? this.maxLo : minLo;
    for (let i = 0; i < n; i++) {
      const hi = view.getInt32(i * 8 + 4, true);
      const lo = view.getUint32(i * 8, true);
      if (hi < minHi || (hi === minHi && lo < minLo)) {
        minHi = hi;
        minLo = lo;
      }
      if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
        maxHi = hi;
        maxLo = lo;
      }
    }
    this.minHi = minHi;
    this.minLo = minLo;
    this.maxHi = maxHi;
    this.maxLo = maxLo;
    this.any = true;
  }
  protected takeMinMax() {
    if (!this.any) return {};
    const min = Buffer.allocUnsafe(8);
    const max = Buffer.allocUnsafe(8);
    min.writeUInt32LE(this.minLo, 0);
    min.writeInt32LE(this.minHi, 4);
    max.writeUInt32LE(this.maxLo, 0);
    max.writeInt32LE(this.maxHi, 4);
    this.any = false;
    return { min, max };
  }
}

class TimestampBuilder extends Int64Builder {
  override appendInt64(_v: bigint | number): void {
    throw cannot(this.column, 'an int64 (use appendTimestampMicros)');
  }
  override appendInt32(_n: number): void {
    throw cannot(this.column, 'an int32');
  }
  override appendInt16BE(_b: Uint8Array, _p: number): void {
    throw cannot(this.column, 'an int16');
  }
  override appendInt32BE(_b: Uint8Array, _p: number): void {
    throw cannot(this.column, 'an int32');
  }
  override appendInt64BE(_b: Uint8Array, _p: number): void {
    throw cannot(this.column, 'an int64 (use appendPgTimestamp)');
  }
  override appendTimestampMicros(micros: bigint | number): void {
    if (!isI64(micros)) throw new RangeError(`${describe(this.column)}: ${show(micros)} is not a µs timestamp`);
    this.putAny(micros);
  }
  override appendPgTimestamp(b: Uint8Array, p: number): void {
    let hi = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    let lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    if ((hi === 0x7fffffff && lo === 0xffffffff) || (hi === -0x80000000 && lo === 0)) {
      throw new RangeError(`${describe(this.column)}: infinite timestamps cannot be written to Parquet`);
    }
    lo += PG_EPOCH_LO;
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi += 1;
    }
    hi += PG_EPOCH_HI;
    if (hi > 0x7fffffff) throw new RangeError(`${describe(this.column)}: timestamp out of the int64 µs range`);
    this.put64(hi, lo);
  }
  override checkValue(value: unknown): void {
    if (value === null || value === undefined) return;
    if (value instanceof Date && !Number.isNaN(value.getTime())) return;
    if (isI64(value)) return;
    throw cannot(this.column, `${show(value)} (expected a Date or µs since the epoch)`);
  }
  override appendValue(value: unknown): void {
    if (value === null || value === undefined) this.appendNull();
    else if (value instanceof Date) this.putAny(BigInt(value.getTime()) * 1000n);
    else this.putAny(value as bigint | number);
  }
}

const FLOAT_SCRATCH = Buffer.alloc(4);

/** DOUBLE: 8-byte little-endian IEEE values. */
class DoubleBuilder extends ColumnBuilder {
  private min = Infinity;
  private max = -Infinity;
  private finiteOrInf = 0;
  private nans = 0;

  override appendDouble(n: number): void {
    if (typeof n !== 'number') throw cannot(this.column, show(n));
    if (this.vlen + 8 > this.v.length) this.ensure(8);
    this.v.writeDoubleLE(n, this.vlen);
    this.vlen += 8;
    this.present();
  }
  override appendFloatBE(b: Uint8Array, p: number): void {
    FLOAT_SCRATCH[0] = b[p]!;
    FLOAT_SCRATCH[1] = b[p + 1]!;
    FLOAT_SCRATCH[2] = b[p + 2]!;
    FLOAT_SCRATCH[3] = b[p + 3]!;
    this.appendDouble(FLOAT_SCRATCH.readFloatBE(0));
  }
  override appendDoubleBE(b: Uint8Array, p: number): void {
    if (this.vlen + 8 > this.v.length) this.ensure(8);
    const v = this.v;
    const o = this.vlen;
    v[o] = b[p + 7]!;
    v[o + 1] = b[p + 6]!;
    v[o + 2] = b[p + 5]!;
    v[o + 3] = b[p + 4]!;
    v[o + 4] = b[p + 3]!;
    v[o + 5] = b[p + 2]!;
    v[o + 6] = b[p + 1]!;
    v[o + 7] = b[p]!;
    this.vlen = o + 8;
    this.present();
  }
  checkValue(value: unknown): void {
    if (value !== null && value !== undefined && typeof value !== 'number') throw cannot(this.column, show(value));
  }
  appendValue(value: unknown): void {
    if (value === null || value === undefined) this.appendNull();
    else this.appendDouble(value as number);
  }
  protected scanPage(): void {
    const n = this.vlen >>> 3;
    if (n === 0) return;
    const view = new DataView(this.v.buffer, this.v.byteOffset, this.vlen);
    let min = this.min;
    let max = this.max;
    let nans = 0;
    for (let i = 0; i < n; i++) {
      const x = view.getFloat64(i * 8, true);
      if (x !== x) nans++;
      else {
        if (x < min) min = x;
        if (x > max) max = x;
      }
    }
    this.min = min;
    this.max = max;
    this.nans += nans;
    this.finiteOrInf += n - nans;
  }
  protected takeMinMax() {
    const nanCount = this.nans;
    let out: { min?: Buffer; max?: Buffer; nanCount?: number } = { nanCount };
    if (this.finiteOrInf > 0) {
      const min = Buffer.allocUnsafe(8);
      const max = Buffer.allocUnsafe(8);
      // The spec: a zero min is written as -0.0, a zero max as +0.0.
      min.writeDoubleLE(this.min === 0 ? -0 : this.min, 0);
      max.writeDoubleLE(this.max === 0 ? 0 : this.max, 0);
      out = { min, max, nanCount };
    }
    this.min = Infinity;
    this.max = -Infinity;
    this.finiteOrInf = 0;
    this.nans = 0;
    return out;
  }
}

/** BYTE_ARRAY (UTF-8 strings): 4-byte little-endian length + bytes. */
class StringBuilder extends ColumnBuilder {
  private chunkMin: Buffer | undefined;
  private chunkMax: Buffer | undefined;

  override appendBytes(buf: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (!(n >= 0) || end > buf.length) throw new RangeError(`${describe(this.column)}: bad byte range`);
    if (this.vlen + 4 + n > this.v.length) this.ensure(4 + n);
    const v = this.v;
    let o = this.vlen;
    v[o] = n;
    v[o + 1] = n >>> 8;
    v[o + 2] = n >>> 16;
    v[o + 3] = n >>> 24;
    o += 4;
    if (n < 24) {
      for (let i = 0; i < n; i++) v[o + i] = buf[start + i]!;
    } else {
      v.set(buf.subarray(start, end), o);
    }
    this.vlen = o + n;
    this.acc.varBytes += n;
    this.present();
  }
  override appendString(s: string): void {
    if (typeof s !== 'string') throw cannot(this.column, show(s));
    const max = s.length * 3;
    if (this.vlen + 4 + max > this.v.length) this.ensure(4 + max);
    const n = this.v.write(s, this.vlen + 4, 'utf8');
    this.v.writeUInt32LE(n, this.vlen);
    this.vlen += 4 + n;
    this.acc.varBytes += n;
    this.present();
  }
  checkValue(value: unknown): void {
    if (value === null || value === undefined || typeof value === 'string' || value instanceof Uint8Array) return;
    throw cannot(this.column, show(value));
  }
  appendValue(value: unknown): void {
    if (value === null || value === undefined) this.appendNull();
    else if (typeof value === 'string') this.appendString(value);
    else this.appendBytes(value as Uint8Array, 0, (value as Uint8Array).length);
  }
  protected scanPage(): void {
    const v = this.v;
    const end = this.vlen;
    if (end === 0) return;
    let minS = 4;
    let minL = v.readUInt32LE(0);
    let maxS = minS;
    let maxL = minL;
    let p = 0;
    while (p < end) {
      const len = v[p]! | (v[p + 1]! << 8) | (v[p + 2]! << 16) | (v[p + 3]! << 24);
      const s = p + 4;
      if (compareBytes(v, s, len, v, minS, minL) < 0) {
        minS = s;
        minL = len;
      } else if (compareBytes(v, s, len, v, maxS, maxL) > 0) {
        maxS = s;
        maxL = len;
      }
      p = s + len;
    }
    if (!this.chunkMin || compareBytes(v, minS, minL, this.chunkMin, 0, this.chunkMin.length) < 0) {
      this.chunkMin = Buffer.from(v.subarray(minS, minS + minL));
    }
    if (!this.chunkMax || compareBytes(v, maxS, maxL, this.chunkMax, 0, this.chunkMax.length) > 0) {
      this.chunkMax = Buffer.from(v.subarray(maxS, maxS + maxL));
    }
  }
  protected takeMinMax() {
    const out = this.chunkMin && this.chunkMax ? { min: this.chunkMin, max: this.chunkMax } : {};
    this.chunkMin = this.chunkMax = undefined;
    return out;
  }
}

function builderFor(col: ParquetColumn, pageBytes: number, acc: Accounting): ColumnBuilder {
  switch (col.type) {
    case 'boolean':
      return new BooleanBuilder(col, pageBytes, acc);
    case 'int32':
      return new Int32Builder(col, pageBytes, acc);
    case 'date':
      return new DateBuilder(col, pageBytes, acc);
    case 'int64':
      return new Int64Builder(col, pageBytes, acc);
    case 'timestamp':
      return new TimestampBuilder(col, pageBytes, acc);
    case 'double':
      return new DoubleBuilder(col, pageBytes, acc);
    case 'string':
      return new StringBuilder(col, pageBytes, acc);
    default:
      throw new TypeError(`unknown Parquet column type ${String((col as { type: unknown }).type)}`);
  }
}

/** Writes one leaf SchemaElement. */
function writeSchemaElement(w: CompactWriter, col: ParquetColumn): void {
  w.structBegin()
    .fieldI32(1, PHYSICAL[col.type])
    .fieldI32(3, col.nullable ? REPETITION_OPTIONAL : REPETITION_REQUIRED)
    .fieldString(4, col.name);
  switch (col.type) {
    case 'string':
      w.fieldI32(6, ConvertedType.UTF8).fieldStructBegin(10).fieldEmptyStruct(1).structEnd();
      break;
    case 'date':
      w.fieldI32(6, ConvertedType.DATE).fieldStructBegin(10).fieldEmptyStruct(6).structEnd();
      break;
    case 'timestamp':
      // LogicalType.TIMESTAMP(8) { isAdjustedToUTC(1) = true, unit(2) = TimeUnit.MICROS(2) {} }
      w.fieldI32(6, ConvertedType.TIMESTAMP_MICROS)
        .fieldStructBegin(10)
        .fieldStructBegin(8)
        .fieldBool(1, true)
        .fieldStructBegin(2)
        .fieldEmptyStruct(2)
        .structEnd()
        .structEnd()
        .structEnd();
      break;
    default:
      break;
  }
  w.structEnd();
}

interface ChunkMeta {
  col: ParquetColumn;
  offset: number;
  chunk: FinishedChunk;
}

/** Encodes one RowGroup struct (a list element of FileMetaData.row_groups). */
function encodeRowGroup(chunks: ChunkMeta[], numRows: number, ordinal: number): Buffer {
  const w = new CompactWriter(128 * chunks.length);
  w.structBegin().fieldListBegin(1, ElementType.STRUCT, chunks.length);
  let total = 0;
  for (const { col, offset, chunk } of chunks) {
    total += chunk.bytes;
    const encodings = col.nullable ? [Encoding.PLAIN, Encoding.RLE] : [Encoding.PLAIN];
    // ColumnChunk
    w.structBegin().fieldI64(2, offset).fieldStructBegin(3);
    // ColumnMetaData
    w.fieldI32(1, PHYSICAL[col.type]).fieldListBegin(2, ElementType.I32, encodings.length);
    for (const e of encodings) w.i32(e);
    w.fieldListBegin(3, ElementType.BINARY, 1)
      .string(col.name)
      .fieldI32(4, CODEC_UNCOMPRESSED)
      .fieldI64(5, chunk.values)
      .fieldI64(6, chunk.bytes)
      .fieldI64(7, chunk.bytes)
      .fieldI64(9, offset);
    // Statistics
    const s = chunk.stats;
    w.fieldStructBegin(12).fieldI64(3, s.nullCount);
    if (s.min && s.max) w.fieldBinary(5, s.max).fieldBinary(6, s.min);
    if (s.nanCount !== undefined) w.fieldI64(9, s.nanCount);
    w.structEnd(); // Statistics
    w.structEnd(); // ColumnMetaData
    w.structEnd(); // ColumnChunk
  }
  w.fieldI64(2, total)
    .fieldI64(3, numRows)
    .fieldI64(5, chunks[0]?.offset ?? 0)
    .fieldI64(6, total);
  if (ordinal <= 32767) w.fieldI16(7, ordinal);
  return w.structEnd().finish();
}

/**
 * Writes one Parquet file to `sink`. See the file header for the format choices. Not reusable: one writer, one
 * file. Await what `endRow`, `appendRow` and `close` return.
 */
export class ParquetWriter {
  readonly columns: readonly ParquetColumn[];
  private readonly builders: ColumnBuilder[];
  private readonly acc: Accounting = { varBytes: 0, pages: 0 };
  private readonly rowGroupRows: number;
  private readonly rowGroupBytes: number;
  private readonly createdBy: string;
  private readonly keyValueMetadata: Array<[string, string]>;
  /** Estimated encoded bytes per row of the fixed-width parts (values, length prefixes, presence bits). */
  private readonly fixedRowBytes: number;
  /** Upper bound of one row group's metadata in the footer. */
  private readonly rowGroupMetaBound: number;
  /** Exact footer size without row groups (num_rows = 0). */
  private readonly baseFooterBytes: number;

  /** Rows in the row group being buffered. */
  private rows = 0;
  /** Rows in flushed row groups. */
  private flushedRows = 0;
  /** Logical file size so far: magic + flushed row groups (handed to the sink or queued). */
  private offset = MAGIC.length;
  private handed = 0;
  private magicQueued = false;
  private readonly rowGroups: Buffer[] = [];
  private rowGroupBlobBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private closed = false;

  constructor(
    columns: readonly ParquetColumn[],
    private readonly sink: ParquetSink,
    options: ParquetWriterOptions = {},
  ) {
    if (columns.length === 0) throw new TypeError('a Parquet file needs at least one column');
    const names = new Set<string>();
    for (const c of columns) {
      if (!c.name) throw new TypeError('Parquet column names must not be empty');
      if (names.has(c.name)) throw new TypeError(`duplicate Parquet column name "${c.name}"`);
      if (!Object.hasOwn(PHYSICAL, c.type)) throw new TypeError(`unknown Parquet column type ${show(c.type)}`);
      names.add(c.name);
    }
    this.columns = columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }));
    const positive = (v: number | undefined, d: number, what: string) => {
      const x = v ?? d;
      if (!Number.isSafeInteger(x) || x < 1) throw new RangeError(`${what} must be a positive integer`);
      return x;
    };
    this.rowGroupRows = positive(options.rowGroupRows, DEFAULT_ROW_GROUP_ROWS, 'rowGroupRows');
    this.rowGroupBytes = positive(options.rowGroupBytes, DEFAULT_ROW_GROUP_BYTES, 'rowGroupBytes');
    const pageBytes = positive(options.pageBytes, DEFAULT_PAGE_BYTES, 'pageBytes');
    this.createdBy = options.createdBy ?? 'fabrica';
    this.keyValueMetadata = Object.entries(options.keyValueMetadata ?? {});
    this.builders = this.columns.map((c) => builderFor(c, pageBytes, this.acc));
    this.fixedRowBytes = this.columns.reduce((s, c) => s + FIXED_WIDTH[c.type] + (c.nullable ? 1 / 8 : 0), 0);
    this.rowGroupMetaBound =
      64 +
      this.columns.reduce(
        (s, c) => s + 128 + 2 * Buffer.byteLength(c.name) + 2 * (c.type === 'string' ? STRING_STATS_MAX_BYTES + 3 : 12),
        0,
      );
    this.baseFooterBytes = this.encodeFooter().length;
  }

  /** The builder of column `i` (fast path: append one value to every column, then call {@link endRow}). */
  column(i: number): ColumnBuilder {
    const b = this.builders[i];
    if (!b) throw new RangeError(`no column ${i} (the file has ${this.builders.length})`);
    return b;
  }

  /** Rows accepted so far (flushed or buffered). */
  get rowsWritten(): number {
    return this.flushedRows + this.rows;
  }

  /** Bytes handed to the sink so far (including the leading magic). */
  get bytesWritten(): number {
    return this.handed;
  }

  /** Rows buffered in the current row group. */
  get bufferedRows(): number {
    return this.rows;
  }

  /**
   * An upper bound of the encoded size of the buffered row group's pages: every row counts its values at their PLAIN
   * width (NULLs too, so nullable columns overestimate) plus string bytes and presence bits, and every page (cut or
   * open) counts {@link PAGE_OVERHEAD_BOUND} bytes for its header and levels prefix.
   */
  get bufferedBytes(): number {
    return Math.ceil(
      this.rows * this.fixedRowBytes +
        this.acc.varBytes +
        (this.acc.pages + this.builders.length) * PAGE_OVERHEAD_BOUND,
    );
  }

  /**
   * An upper bound of the file's size if it were closed now: the bytes of the flushed row groups, {@link bufferedBytes}
   * and the footer (exact for the flushed row groups, bounded for the buffered one). It always includes the bounds of
   * a buffered row group, even an empty one, so it never jumps when a row group starts: appending a row raises it by
   * that row's estimated values (as in {@link bufferedBytes}) plus {@link PAGE_OVERHEAD_BOUND} per page the row cut.
   */
  get projectedBytes(): number {
    const footer = this.baseFooterBytes + 16 + this.rowGroupBlobBytes + this.rowGroupMetaBound + 8;
    return this.offset + this.bufferedBytes + footer;
  }

  /** Appends one row of JS values (checked against the column types first; nothing is appended if one is wrong). */
  appendRow(values: readonly unknown[]): void | Promise<void> {
    this.assertOpen();
    if (values.length !== this.builders.length) {
      throw new TypeError(`row has ${values.length} values, the file has ${this.builders.length} columns`);
    }
    for (let i = 0; i < values.length; i++) {
      const b = this.builders[i]!;
      const v = values[i];
      if ((v === null || v === undefined) && !b.column.nullable) throw new TypeError(`${describe(b.column)}: null`);
      b.checkValue(v);
    }
    for (let i = 0; i < values.length; i++) this.builders[i]!.appendValue(values[i]);
    return this.endRow();
  }

  /** Marks one row complete (after one append per column). Returns a promise when it flushed a row group. */
  endRow(): void | Promise<void> {
    if (this.closed) throw new Error('the Parquet writer is closed');
    if (this.failure) throw this.failure.error;
    this.rows++;
    if (this.rows >= this.rowGroupRows || this.bufferedBytes >= this.rowGroupBytes) return this.flushRowGroup();
  }

  /**
   * Flushes the buffered rows as a row group (no-op without rows). The row group's layout and metadata are fixed
   * synchronously; the bytes are handed to the sink in order, after any earlier flush.
   */
  flushRowGroup(): Promise<void> {
    if (this.failure) return this.chain; // rejected with the sink's error
    if (this.rows === 0) return this.chain;
    const numRows = this.rows;
    const out: Buffer[] = [];
    if (!this.magicQueued) {
      out.push(MAGIC);
      this.magicQueued = true;
    }
    for (const b of this.builders) {
      if (b.bufferedValues !== numRows) {
        throw new Error(`${describe(b.column)} has ${b.bufferedValues} values for ${numRows} rows`);
      }
    }
    const metas: ChunkMeta[] = [];
    let at = this.offset;
    for (const b of this.builders) {
      const chunk = b.finishChunk();
      metas.push({ col: b.column, offset: at, chunk });
      for (const page of chunk.pages) out.push(page);
      at += chunk.bytes;
    }
    const blob = encodeRowGroup(metas, numRows, this.rowGroups.length);
    this.rowGroups.push(blob);
    this.rowGroupBlobBytes += blob.length;
    this.offset = at;
    this.flushedRows += numRows;
    this.rows = 0;
    this.acc.varBytes = 0;
    this.acc.pages = 0;
    return this.enqueue(out);
  }

  /** Flushes the last row group and writes the footer. Returns the file's rows and bytes. */
  async close(): Promise<{ rows: number; bytes: number }> {
    this.assertOpen();
    this.closed = true;
    await this.flushRowGroup();
    const footer = this.encodeFooter();
    const tail = Buffer.allocUnsafe(footer.length + 8);
    footer.copy(tail, 0);
    tail.writeUInt32LE(footer.length, footer.length);
    MAGIC.copy(tail, footer.length + 4);
    const out = this.magicQueued ? [tail] : [MAGIC, tail];
    this.magicQueued = true;
    this.offset += tail.length;
    await this.enqueue(out);
    return { rows: this.flushedRows, bytes: this.handed };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the Parquet writer is closed');
    if (this.failure) throw this.failure.error;
  }

  /** Hands buffers to the sink in order, coalescing small ones, after everything queued before. */
  private enqueue(buffers: Buffer[]): Promise<void> {
    const run = async () => {
      let batch: Buffer[] = [];
      let batchBytes = 0;
      const send = async (chunk: Buffer) => {
        await this.sink(chunk);
        this.handed += chunk.length;
      };
      for (const b of buffers) {
        if (b.length >= COALESCE_BYTES / 4) {
          if (batchBytes > 0) await send(Buffer.concat(batch, batchBytes));
          batch = [];
          batchBytes = 0;
          await send(b);
          continue;
        }
        batch.push(b);
        batchBytes += b.length;
        if (batchBytes >= COALESCE_BYTES) {
          await send(Buffer.concat(batch, batchBytes));
          batch = [];
          batchBytes = 0;
        }
      }
      if (batchBytes > 0) await send(batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes));
    };
    this.chain = this.chain.then(run).catch((error: unknown) => {
      this.failure ??= { error };
      throw error;
    });
    return this.chain;
  }

  private encodeFooter(): Buffer {
    const w = new CompactWriter(512 + this.rowGroupBlobBytes);
    w.structBegin()
      .fieldI32(1, 1)
      .fieldListBegin(2, ElementType.STRUCT, this.columns.length + 1);
    w.structBegin().fieldString(4, 'schema').fieldI32(5, this.columns.length).structEnd();
    for (const c of this.columns) writeSchemaElement(w, c);
    w.fieldI64(3, this.flushedRows).fieldListBegin(4, ElementType.STRUCT, this.rowGroups.length);
    for (const rg of this.rowGroups) w.raw(rg);
    if (this.keyValueMetadata.length > 0) {
      w.fieldListBegin(5, ElementType.STRUCT, this.keyValueMetadata.length);
      for (const [k, v] of this.keyValueMetadata) w.structBegin().fieldString(1, k).fieldString(2, v).structEnd();
    }
    w.fieldString(6, this.createdBy).fieldListBegin(7, ElementType.STRUCT, this.columns.length);
    for (let i = 0; i < this.columns.length; i++) w.structBegin().fieldEmptyStruct(1).structEnd(); // TYPE_ORDER
    return w.structEnd().finish();
  }
}
