/**
 * A streaming Parquet writer with bounded memory, written from the Apache Parquet format spec (no dependency).
 *
 * Layout of a file: `PAR1`, then row groups (each: one column chunk per column, in schema order; each chunk: an optional
 * dictionary page, then one or more data pages), then the footer (`FileMetaData`, Thrift compact), its 4-byte
 * little-endian length and `PAR1`.
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
 *   bytes), or dictionary encoding (below). Data pages are v1 (`DATA_PAGE`); the codec is UNCOMPRESSED (no native
 *   compression library needed, any reader can read the files as they are). No page index, no bloom filters.
 * - Dictionary encoding (option `dictionary`, on by default) for string, int64, timestamp, int32 and date columns, as
 *   parquet-mr and arrow do it: per column chunk, a DICTIONARY_PAGE holds the chunk's distinct values (PLAIN, in
 *   first-seen order) and the data pages hold RLE_DICTIONARY indices (one byte of bit width, then the indices in the
 *   RLE/bit-packed hybrid: RLE runs where a run of equal values makes it shorter, bit-packed otherwise; never longer
 *   than bit-packing everything). Boolean and double columns are always PLAIN. Per column chunk:
 *   · Trial: the chunk's first page with values is buffered as indices until it holds 16 Ki values (nulls
 *     included; enough to see a sequence that restarts every 10,000 rows repeat) or a page's worth (`pageBytes`) of
 *     PLAIN bytes. The dictionary is kept only if dictionary + indices come out smaller than PLAIN; otherwise that
 *     page is rewritten PLAIN from the dictionary (no information is lost) and the whole chunk is PLAIN, without a
 *     dictionary page. So a unique column (ids, µs timestamps) costs 16 Ki hash inserts per chunk (1/8 of a default
 *     row group), not a dictionary. The trial ends early, keeping the dictionary, at 1, 2, 4 or 8 Ki values if the
 *     dictionary already halves the size (low-cardinality columns: their estimate is then exact sooner, below).
 *   · Past the trial, each dictionary-encoded page re-checks the whole chunk (dictionary + encoded indices < PLAIN
 *     size of those values); a chunk that stops paying writes its next pages PLAIN.
 *   · Overflow: a dictionary holds at most 64 Ki entries (indices fit 16 bits) and `dictionaryPageBytes` (1 MiB) of
 *     PLAIN values. The value that would overflow it is not added; the pages so far stay dictionary-encoded (the
 *     open one is cut; during the trial, the trial is decided first) and the rest of the chunk is PLAIN
 *     ("fallback", what parquet-mr and arrow do too). No already-encoded page is ever rewritten, so memory stays
 *     bounded: the dictionary (≤ 1 MiB + its hash table), and the open page's indices (2 bytes each, no more than
 *     its PLAIN values would take).
 *   · A page's bit width is the dictionary's width when the page started; when a new entry needs one more bit, the
 *     page's indices are re-counted at the new width if it has ≤ 512 of them, else the page is cut first. A page with
 *     only nulls is written PLAIN (it has no values).
 *   · The chunk metadata lists the encodings used (PLAIN for the dictionary page and PLAIN data pages, RLE for
 *     definition levels, RLE_DICTIONARY for indices), `dictionary_page_offset` (the chunk's start) and
 *     `data_page_offset` (its first data page), and `encoding_stats` (pages per type and encoding, so readers know
 *     whether every data page is dictionary-encoded).
 *   · Lookups take the bytes as they come (the COPY buffer for strings: a MurmurHash3 of the bytes, then a byte
 *     comparison with the entry on a hash match), no JS string per value — measured 2–5× faster than a Map keyed by
 *     `latin1Slice`; while a string column repeats its previous value, each value is just compared with it. Numbers
 *     are looked up by their 32-bit halves, after a check against the last value seen.
 * - Definition levels (OPTIONAL columns only; max level 1) use the RLE/bit-packed hybrid, bit width 1, prefixed by
 *   their 4-byte LE length as v1 pages require: a single RLE run when a page has no nulls (or only nulls), else one
 *   bit-packed run (the page's presence bitmap as is; the last group of 8 is zero-padded, which the spec allows).
 *   REQUIRED columns have no levels. Repetition levels are never written (max repetition level 0).
 * - Pages are cut per column when their buffered values reach `pageBytes` (1 MiB by default; PLAIN bytes, or
 *   indices × bit width / 8 for a dictionary-encoded page) or 1 Mi values; a row group is flushed when it holds
 *   `rowGroupRows` rows or its estimated encoded size reaches `rowGroupBytes`.
 * - Statistics: each column chunk gets `null_count` and, under `column_orders` = TYPE_ORDER for every column,
 *   `min_value`/`max_value` (signed order for numbers/dates/timestamps, false < true, unsigned byte order for
 *   strings), over the PLAIN pages' values and the dictionary's entries (every entry is some value of the chunk).
 *   Doubles also get `nan_count`; NaNs are left out of min/max, a zero min is written as -0.0 and a zero max as
 *   +0.0, as the spec requires. String min/max longer than 256 bytes are omitted (the values are not truncated). The
 *   deprecated `min`/`max` fields are not written. No page-level statistics.
 * - Memory: every column buffers the values (or dictionary indices) of its current page in one growable buffer (kept
 *   and reused across pages), its dictionary, and finished pages until their row group is flushed; flushing hands
 *   the pages to the sink (small ones coalesced into ~1 MiB chunks) and drops them. So memory ≈ one row group
 *   (≤ rowGroupBytes, plus at most one value per column) plus one dictionary per column (≤ dictionaryPageBytes) plus
 *   the small metadata of the flushed row groups (kept until the footer is written).
 * - Size estimate (`bufferedBytes`, `projectedBytes`, used for row-group flushing and file rolling): a proven upper
 *   bound that follows the dictionary-encoded size; see {@link ParquetWriter.bufferedBytes}.
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
  /**
   * Dictionary-encode the string, int64, timestamp, int32 and date columns where it pays (default true); false
   * writes every column PLAIN.
   */
  dictionary?: boolean;
  /** A column chunk's dictionary page may hold at most this many bytes of values (default 1 MiB). */
  dictionaryPageBytes?: number;
}

/** Receives the file's bytes, in order; a returned promise is awaited before the next chunk (back-pressure). */
export type ParquetSink = (chunk: Buffer) => Promise<void> | void;

export const DEFAULT_ROW_GROUP_ROWS = 128 * 1024;
export const DEFAULT_ROW_GROUP_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PAGE_BYTES = 1024 * 1024;
export const DEFAULT_DICTIONARY_PAGE_BYTES = 1024 * 1024;
/** Most entries of one column chunk's dictionary (so indices fit 16 bits). */
export const MAX_DICTIONARY_ENTRIES = 1 << 16;
/** Longest string min/max written to statistics. */
export const STRING_STATS_MAX_BYTES = 256;

const MAX_PAGE_VALUES = 1 << 20;
// How a dictionary-capable builder encodes its next non-null value.
/** PLAIN (no dictionary, or the chunk fell back). */
const D_PLAIN: number = 0;
/** Dictionary, on trial: the chunk's first page with values, until it is decided (see the file header). */
const D_TRIAL: number = 1;
/** Dictionary, decided. */
const D_DICT: number = 2;
/**
 * The trial ends after this many values (or a page's worth of PLAIN bytes): enough to see a sequence that repeats
 * every 10,000 values (item numbers per machine-hour) come back.
 */
const TRIAL_VALUES = 16384;
/** … so its indices are below 16384: 14 bits at most. */
const TRIAL_WIDTH = 14;
/** The trial's first checkpoint; the next ones come at every doubling. */
const TRIAL_FIRST_CHECK = 1024;
/** Upper bound of one page's header, its definition-levels prefix and run header, and its bit-packing round-ups. */
export const PAGE_OVERHEAD_BOUND = 64;
/** Hand pages of at least this size to the sink alone; coalesce smaller ones up to this size. */
const COALESCE_BYTES = 1024 * 1024;
const MAGIC = Buffer.from('PAR1', 'latin1');

// Parquet enums (parquet.thrift).
const PhysicalType = { BOOLEAN: 0, INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6 } as const;
const ConvertedType = { UTF8: 0, DATE: 6, TIMESTAMP_MICROS: 10 } as const;
const Encoding = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
const PAGE_TYPE_DATA_PAGE = 0;
const PAGE_TYPE_DICTIONARY_PAGE = 2;
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

/** The column types that may be dictionary-encoded. */
const DICTIONARY_TYPES: ReadonlySet<ParquetColumnType> = new Set(['string', 'int64', 'timestamp', 'int32', 'date']);

/** Shared byte accounting of a writer's builders (so the writer's estimate costs O(1) per row). */
interface Accounting {
  /**
   * Bytes of the current row group's values that the writer's per-row estimate does not cover: string payloads, and
   * everything of dictionary-capable columns (their PLAIN values, dictionary entries and indices; see
   * {@link ParquetWriter.bufferedBytes}). A multiple of 1/8.
   */
  varBytes: number;
  /** Pages cut in the current row group. */
  pages: number;
}

/** What a builder needs from the writer's options. */
interface BuilderOptions {
  pageBytes: number;
  dictionary: boolean;
  dictionaryPageBytes: number;
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
  /** Its pages in file order: the dictionary page first, if any, then the data pages. */
  pages: Buffer[];
  bytes: number;
  values: number;
  stats: ChunkStats;
  /** Size of the leading dictionary page (0: none). */
  dictionaryPageBytes: number;
  /** Data pages with PLAIN values, and with RLE_DICTIONARY indices. */
  plainPages: number;
  dictionaryPages: number;
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

// ---- dictionaries ---------------------------------------------------------------------------------------------------

/** Bit width of dictionary indices up to `maxIndex` (at least 1, as parquet-mr and arrow write). */
function widthFor(maxIndex: number): number {
  return maxIndex < 2 ? 1 : 32 - Math.clz32(maxIndex);
}

/** MurmurHash3 (x86, 32-bit) of `b[s, s + n)`. */
function hashBytes(b: Uint8Array, s: number, n: number): number {
  let h = 0x9747b28c;
  const end4 = s + (n & ~3);
  let i = s;
  for (; i < end4; i += 4) {
    let k = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail !== 0) {
    let k = b[i]!;
    if (tail > 1) k |= b[i + 1]! << 8;
    if (tail > 2) k |= b[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A 32-bit mix of an i64's halves. */
function hash64(hi: number, lo: number): number {
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi ^ 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  return h ^ (h >>> 15);
}

/** Hash tables larger than this many slots (for more than 16 Ki entries) are not kept from one chunk to the next. */
const BIG_TABLE = 1 << 15;

/**
 * One column chunk's dictionary: its distinct values in first-seen order, already PLAIN-encoded in `plain` (the body of
 * the dictionary page), and an open-addressing hash table (linear probing, load ≤ 1/2) from value to entry number.
 */
abstract class Dictionary {
  /** Entries. */
  size = 0;
  /** Bytes of `plain` used: the PLAIN size of the entries. */
  bytes = 0;
  plain: Buffer = Buffer.alloc(4096);
  /** Hash of each entry. */
  protected hashes = new Int32Array(256);
  /** Slots: entry number + 1, 0 = empty. */
  protected table = new Int32Array(512);
  protected mask = 511;

  /** Appends the PLAIN bytes of entries `idx[0, n)` to `out` at `at` (room must be there); returns the new end. */
  abstract copyEntries(idx: Uint16Array, n: number, out: Buffer, at: number): number;

  /**
   * Forgets every entry (for the next column chunk). Buffers grown past what a trial of a unique column needs (16 Ki
   * entries) are dropped, so a few big dictionaries do not hold memory for the writer's lifetime.
   */
  clear(): void {
    if (this.table.length > BIG_TABLE) {
      this.table = new Int32Array(512);
      this.mask = 511;
    } else if (this.size > 0) this.table.fill(0);
    if (this.hashes.length > BIG_TABLE / 2) this.hashes = new Int32Array(256);
    if (this.plain.length > 1 << 20) this.plain = Buffer.alloc(4096);
    this.size = 0;
    this.bytes = 0;
  }

  protected ensurePlain(n: number): void {
    if (this.bytes + n <= this.plain.length) return;
    let cap = this.plain.length * 2;
    while (cap < this.bytes + n) cap *= 2;
    const next = Buffer.alloc(cap);
    this.plain.copy(next, 0, 0, this.bytes);
    this.plain = next;
  }

  /** Registers entry `e` (= size, already stored) with hash `h`. */
  protected index(e: number, h: number): void {
    if (e >= this.hashes.length) {
      const next = new Int32Array(this.hashes.length * 2);
      next.set(this.hashes);
      this.hashes = next;
    }
    this.hashes[e] = h;
    this.size = e + 1;
    if (this.size * 2 > this.table.length) {
      const table = new Int32Array(this.table.length * 2);
      const mask = table.length - 1;
      for (let j = 0; j < this.size; j++) {
        let i = this.hashes[j]! & mask;
        while (table[i] !== 0) i = (i + 1) & mask;
        table[i] = j + 1;
      }
      this.table = table;
      this.mask = mask;
      return;
    }
    let i = h & this.mask;
    while (this.table[i] !== 0) i = (i + 1) & this.mask;
    this.table[i] = e + 1;
  }
}

/** BYTE_ARRAY values, looked up by their bytes (no JS string per value). */
class BytesDictionary extends Dictionary {
  /** Offset in `plain` of each entry's 4-byte length; `starts[size]` = `bytes`. */
  private starts = new Int32Array(257);
  /** The entry of the last value looked up, and whether it was the same as the one before (values come in runs). */
  private last = -1;
  private repeating = false;
  /** Hash of the last value looked up and not found (for {@link add}). */
  private missHash = 0;

  /**
   * The entry holding `b[s, s + n)`, or -1. While values repeat, each is first compared with the previous one (no
   * hashing); otherwise it is hashed and looked up.
   */
  find(b: Uint8Array, s: number, n: number): number {
    const { plain, starts } = this;
    const end = s + n;
    if (this.repeating) {
      const last = this.last;
      let at = starts[last]! + 4;
      if (starts[last + 1]! - at === n) {
        let k = s;
        while (k < end && plain[at] === b[k]) {
          at++;
          k++;
        }
        if (k === end) return last;
      }
      this.repeating = false;
    }
    const h = hashBytes(b, s, n);
    const { table, mask, hashes } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const slot = table[i]!;
      if (slot === 0) {
        this.missHash = h;
        return -1;
      }
      const e = slot - 1;
      if (hashes[e] !== h) continue;
      let at = starts[e]! + 4;
      if (starts[e + 1]! - at !== n) continue;
      let k = s;
      while (k < end && plain[at] === b[k]) {
        at++;
        k++;
      }
      if (k === end) {
        this.repeating = e === this.last;
        this.last = e;
        return e;
      }
    }
  }

  /** Adds `b[s, s + n)`, just looked up by {@link find} and not found; returns its entry. */
  add(b: Uint8Array, s: number, n: number): number {
    this.ensurePlain(4 + n);
    const plain = this.plain;
    let o = this.bytes;
    plain[o] = n;
    plain[o + 1] = n >>> 8;
    plain[o + 2] = n >>> 16;
    plain[o + 3] = n >>> 24;
    o += 4;
    for (let k = 0; k < n; k++) plain[o + k] = b[s + k]!;
    const e = this.size;
    if (e + 2 > this.starts.length) {
      const next = new Int32Array(this.starts.length * 2);
      next.set(this.starts);
      this.starts = next;
    }
    this.bytes = o + n;
    this.starts[e + 1] = this.bytes;
    this.index(e, this.missHash);
    this.last = e;
    this.repeating = false;
    return e;
  }

  copyEntries(idx: Uint16Array, n: number, out: Buffer, at: number): number {
    for (let j = 0; j < n; j++) {
      const e = idx[j]!;
      at += this.plain.copy(out, at, this.starts[e], this.starts[e + 1]);
    }
    return at;
  }

  override clear(): void {
    super.clear();
    this.last = -1;
    this.repeating = false;
    if (this.starts.length > BIG_TABLE / 2 + 1) this.starts = new Int32Array(257);
  }
}

/** INT64 (`width` 8) or INT32 (`width` 4) values, looked up by their 32-bit halves. */
class FixedDictionary extends Dictionary {
  private his = new Int32Array(256);
  private los = new Int32Array(256);
  /** The last entry found or added (values often repeat in runs). */
  private last = -1;
  private lastHi = 0;
  private lastLo = 0;

  constructor(private readonly width: 4 | 8) {
    super();
  }

  /** The entry holding the value `hi * 2^32 + lo` (`lo` as int32 bits; `hi` = 0 for INT32), or -1. */
  find(hi: number, lo: number): number {
    lo |= 0;
    if (lo === this.lastLo && hi === this.lastHi && this.last >= 0) return this.last;
    const { table, mask, los, his } = this;
    for (let i = hash64(hi, lo) & mask; ; i = (i + 1) & mask) {
      const slot = table[i]!;
      if (slot === 0) return -1;
      const e = slot - 1;
      if (los[e] === lo && his[e] === hi) {
        this.last = e;
        this.lastHi = hi;
        this.lastLo = lo;
        return e;
      }
    }
  }

  /** Adds the value (absent); returns its entry. */
  add(hi: number, lo: number): number {
    lo |= 0;
    const e = this.size;
    if (e >= this.los.length) {
      const his = new Int32Array(this.los.length * 2);
      const los = new Int32Array(this.los.length * 2);
      his.set(this.his);
      los.set(this.los);
      this.his = his;
      this.los = los;
    }
    this.his[e] = hi;
    this.los[e] = lo;
    this.ensurePlain(this.width);
    const o = this.bytes;
    const plain = this.plain;
    plain[o] = lo;
    plain[o + 1] = lo >>> 8;
    plain[o + 2] = lo >>> 16;
    plain[o + 3] = lo >>> 24;
    if (this.width === 8) {
      plain[o + 4] = hi;
      plain[o + 5] = hi >>> 8;
      plain[o + 6] = hi >>> 16;
      plain[o + 7] = hi >>> 24;
    }
    this.bytes = o + this.width;
    this.index(e, hash64(hi, lo));
    this.last = e;
    this.lastHi = hi;
    this.lastLo = lo;
    return e;
  }

  copyEntries(idx: Uint16Array, n: number, out: Buffer, at: number): number {
    const w = this.width;
    const plain = this.plain;
    for (let j = 0; j < n; j++) {
      const p = idx[j]! * w;
      for (let k = 0; k < w; k++) out[at + k] = plain[p + k]!;
      at += w;
    }
    return at;
  }

  override clear(): void {
    super.clear();
    this.last = -1;
    if (this.los.length > BIG_TABLE / 2) {
      this.his = new Int32Array(256);
      this.los = new Int32Array(256);
    }
  }
}

/** Bytes of the unsigned varint of `x` (x < 2^28). */
function varintLength(x: number): number {
  return x < 0x80 ? 1 : x < 0x4000 ? 2 : x < 0x200000 ? 3 : 4;
}

function putVarint(out: Buffer, o: number, x: number): number {
  while (x >= 0x80) {
    out[o++] = (x & 0x7f) | 0x80;
    x >>>= 7;
  }
  out[o++] = x;
  return o;
}

/** Scratch space of {@link encodeIndices}. */
let indexScratch = Buffer.allocUnsafe(64 * 1024);

/** Bit-packs `idx[s, e)` at width `w` as one bit-packed run (zero-padded to a multiple of 8 values). */
function packRun(idx: Uint16Array, s: number, e: number, w: number, out: Buffer, o: number): number {
  const groups = (e - s + 7) >>> 3;
  o = putVarint(out, o, groups * 2 + 1);
  const end = o + groups * w; // groups of 8 values of w bits: w bytes each
  let acc = 0;
  let bits = 0;
  for (let i = s; i < e; i++) {
    acc |= idx[i]! << bits;
    bits += w;
    while (bits >= 8) {
      out[o++] = acc;
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out[o++] = acc;
  while (o < end) out[o++] = 0; // the last group's padding
  return o;
}

/**
 * Encodes the dictionary indices `idx[0, n)` with the RLE/bit-packed hybrid at bit width `w` (1–16) into a scratch
 * buffer; returns it and the encoded length. Runs of equal indices become RLE runs only when that saves bytes: a run
 * of `r` values (after lending up to 7 of them to complete the preceding bit-packed run's last group of 8) is
 * RLE-encoded iff ⌊r/8⌋·w ≥ its RLE size (varint header + ⌈w/8⌉ value bytes) + 3 (the header of the bit-packed run
 * that may follow it). So the output is never longer than one bit-packed run of all values: ⌈n/8⌉·w + 3 bytes.
 */
function encodeIndices(idx: Uint16Array, n: number, w: number): { buf: Buffer; length: number } {
  const bound = Math.ceil(n / 8) * w + 16;
  if (indexScratch.length < bound) indexScratch = Buffer.allocUnsafe(Math.max(bound, indexScratch.length * 2));
  const out = indexScratch;
  const valueBytes = (w + 7) >>> 3;
  let o = 0;
  let packStart = 0;
  let i = 0;
  while (i < n) {
    const x = idx[i]!;
    let j = i + 1;
    while (j < n && idx[j] === x) j++;
    if (j - i >= 8) {
      const lend = (8 - ((i - packStart) & 7)) & 7;
      const r = j - i - lend;
      if (r > 0 && (r >>> 3) * w >= varintLength(r * 2) + valueBytes + 3) {
        if (i + lend > packStart) o = packRun(idx, packStart, i + lend, w, out, o);
        o = putVarint(out, o, r * 2);
        out[o++] = x;
        if (valueBytes === 2) out[o++] = x >>> 8;
        packStart = j;
      }
    }
    i = j;
  }
  if (packStart < n) o = packRun(idx, packStart, n, w, out, o);
  return { buf: out, length: o };
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
  /** Values of the current page, PLAIN-encoded (non-null values only; empty while the page is dictionary-encoded). */
  protected v: Buffer;
  protected vlen = 0;
  /** Presence bitmap of the current page (bit i set = value i not null); OPTIONAL columns only. */
  protected d: Uint8Array;
  /** Values (incl. nulls) in the current page. */
  protected count = 0;
  protected nulls = 0;
  /** The current page is full: cut it before the next append. */
  protected cutDue = false;
  private pages: Buffer[] = [];
  private pagesBytes = 0;
  private chunkValues = 0;
  private chunkNulls = 0;
  protected readonly nullable: boolean;
  protected readonly pageBytes: number;
  private readonly initialCapacity: number;

  // ---- dictionary encoding (see the file header) -----------------------------------------------------------------
  /** The column chunk's dictionary, if the column may be dictionary-encoded. */
  protected readonly dict: Dictionary | undefined;
  /** D_PLAIN, D_TRIAL or D_DICT: how the next non-null value is encoded. */
  protected dstate: number;
  /**
   * What a PLAIN value adds to {@link Accounting.varBytes} besides string payloads: its PLAIN width when the
   * writer's per-row estimate leaves the column out (dictionary-capable columns), else 0.
   */
  protected readonly plainCost: number;
  private readonly maxDictBytes: number;
  /** Dictionary indices of the current page's non-null values (dictionary-encoded pages only). */
  private idx = new Uint16Array(0);
  private nIdx = 0;
  /** Bit width of the current page's indices (D_DICT). */
  private pageWidth = 0;
  /** Bytes {@link Accounting.varBytes} counts per index: pageWidth / 8, or TRIAL_WIDTH / 8 during the trial. */
  private indexCost = TRIAL_WIDTH / 8;
  /** The current page is full when it holds this many indices (D_DICT). */
  private indexLimit = 0;
  /** The trial's next checkpoint (values in the page). */
  private trialCheckAt = TRIAL_FIRST_CHECK;
  /** PLAIN size of the chunk's dictionary-encoded values. */
  private dictPlainBytes = 0;
  /** Encoded size of the indices of the chunk's dictionary-encoded pages already cut. */
  private dictIndexBytes = 0;
  private dictPages = 0;
  private plainPages = 0;

  constructor(
    readonly column: ParquetColumn,
    options: BuilderOptions,
    protected readonly acc: Accounting,
    dict?: Dictionary,
  ) {
    this.nullable = column.nullable;
    this.pageBytes = options.pageBytes;
    this.initialCapacity = Math.min(this.pageBytes + 64, 64 * 1024);
    this.v = ColumnBuilder.alloc(this.initialCapacity);
    this.d = new Uint8Array(this.nullable ? 1024 : 0);
    this.dict = options.dictionary ? dict : undefined;
    this.dstate = this.dict ? D_TRIAL : D_PLAIN;
    this.plainCost = this.dict ? FIXED_WIDTH[column.type] : 0;
    this.maxDictBytes = options.dictionaryPageBytes;
  }

  /** A zero-filled buffer with its own ArrayBuffer (offset 0, so DataView scans are aligned and cheap). */
  private static alloc(n: number): Buffer {
    return Buffer.alloc(n);
  }

  // ---- the appenders (overridden by the builders that support them) ----------------------------------------------

  appendNull(): void {
    if (!this.nullable) throw new TypeError(`${describe(this.column)} cannot take null`);
    if (this.cutDue) this.cutPage();
    const i = this.count >>> 3;
    if (i >= this.d.length) this.growD();
    this.count++;
    this.nulls++;
    if (this.count >= MAX_PAGE_VALUES) this.cutDue = true;
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

  /**
   * Marks one non-null value appended (its bytes are already in `v`). A full page is cut when the next value comes
   * (every appender starts with `if (this.cutDue) this.cutPage()`), so one append never cuts more than one page.
   */
  protected present(): void {
    const c = this.count;
    if (this.nullable) {
      const i = c >>> 3;
      if (i >= this.d.length) this.growD();
      this.d[i] = this.d[i]! | (1 << (c & 7));
    }
    this.count = c + 1;
    if (this.vlen >= this.pageBytes || this.count >= MAX_PAGE_VALUES) this.cutDue = true;
  }

  /**
   * Encodes the current page (header + levels + values) into its own buffer and starts a new page. A page whose
   * non-null values are dictionary indices is RLE_DICTIONARY-encoded, any other (PLAIN values, or only nulls) PLAIN.
   */
  protected cutPage(): void {
    this.cutDue = false;
    if (this.count === 0) return;
    if (this.dstate === D_TRIAL) this.endTrial();
    const count = this.count;
    const n = this.nIdx;
    let indices: { buf: Buffer; length: number } | undefined;
    let valuesLen: number;
    if (n > 0) {
      indices = encodeIndices(this.idx, n, this.pageWidth);
      valuesLen = 1 + indices.length; // the bit width byte, then the hybrid-encoded indices
    } else {
      valuesLen = this.valuesLength();
    }
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
      .fieldI32(2, indices ? Encoding.RLE_DICTIONARY : Encoding.PLAIN)
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
    if (indices) {
      page[at++] = this.pageWidth;
      indices.buf.copy(page, at, 0, indices.length);
      this.dictPages++;
      this.dictIndexBytes += valuesLen;
      this.nIdx = 0;
    } else {
      this.v.copy(page, at, 0, valuesLen);
      this.scanPage();
      this.plainPages++;
    }
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
    // Re-check the dictionary at every dictionary-encoded page: past the trial it must still beat PLAIN, counted over
    // the whole chunk, or the rest of the chunk is written PLAIN.
    if (indices && this.dstate === D_DICT && this.dict!.bytes + this.dictIndexBytes >= this.dictPlainBytes) {
      this.dstate = D_PLAIN;
    }
  }

  /** Values (incl. nulls) appended to the current row group. */
  get bufferedValues(): number {
    return this.chunkValues + this.count;
  }

  // ---- dictionary encoding ----------------------------------------------------------------------------------------

  /**
   * Asks to add a new dictionary entry of `entryBytes` PLAIN bytes (D_TRIAL or D_DICT). False: the dictionary is
   * full, the column chunk went on PLAIN and the caller must append the value PLAIN. True: the caller adds the entry
   * (its bytes are accounted here) and appends its index with {@link pushIndex}.
   */
  protected admit(entryBytes: number): boolean {
    const dict = this.dict!;
    if (dict.size >= MAX_DICTIONARY_ENTRIES || dict.bytes + entryBytes > this.maxDictBytes) {
      this.fallBack();
      return false;
    }
    if (this.dstate === D_DICT) {
      const w = widthFor(dict.size);
      if (w > this.pageWidth) {
        // The new index needs one more bit. Re-count the page's indices at the new width if that is cheap (≤ 64
        // bytes), else cut the page so the indices already counted keep their width.
        if (this.nIdx <= 512) this.acc.varBytes += (this.nIdx * (w - this.pageWidth)) / 8;
        else {
          this.cutPage();
          if (this.dstate !== D_DICT) return false;
        }
        this.setWidth(w);
      }
    }
    this.acc.varBytes += entryBytes;
    return true;
  }

  /** Appends the dictionary index `e` of a non-null value whose PLAIN size is `plainBytes`. */
  protected pushIndex(e: number, plainBytes: number): void {
    const k = this.nIdx;
    if (k === this.idx.length) this.growIdx();
    this.idx[k] = e;
    this.nIdx = k + 1;
    this.dictPlainBytes += plainBytes;
    this.acc.varBytes += this.indexCost;
    const c = this.count;
    if (this.nullable) {
      const i = c >>> 3;
      if (i >= this.d.length) this.growD();
      this.d[i] = this.d[i]! | (1 << (c & 7));
    }
    this.count = c + 1;
    if (this.dstate === D_TRIAL) {
      if (c + 1 < this.trialCheckAt && this.dictPlainBytes < this.pageBytes) return;
      if (!this.checkTrial()) return;
      if (this.dstate === D_PLAIN) {
        if (this.vlen >= this.pageBytes || this.count >= MAX_PAGE_VALUES) this.cutDue = true;
        return;
      }
    }
    if (k + 1 >= this.indexLimit || c + 1 >= MAX_PAGE_VALUES) this.cutDue = true;
  }

  private growIdx(): void {
    const next = new Uint16Array(Math.max(1024, this.idx.length * 2));
    next.set(this.idx);
    this.idx = next;
  }

  private setWidth(w: number): void {
    this.pageWidth = w;
    this.indexCost = w / 8;
    this.indexLimit = Math.max(1, Math.ceil((this.pageBytes * 8) / w));
  }

  /**
   * At a trial checkpoint: ends the trial early if the dictionary already halves the values' size, or at its end
   * (16 Ki values, or a page's worth of PLAIN bytes) whatever the outcome; returns false if the trial goes on.
   */
  private checkTrial(): boolean {
    if (this.count < TRIAL_VALUES && this.dictPlainBytes < this.pageBytes) {
      const dict = this.dict!;
      if (2 * (dict.bytes + (this.nIdx * widthFor(dict.size - 1)) / 8) > this.dictPlainBytes) {
        this.trialCheckAt *= 2;
        return false;
      }
    }
    this.endTrial();
    return true;
  }

  /**
   * Ends the trial (the chunk's first page with values): keeps the dictionary if it makes the values smaller than
   * PLAIN would (dictionary + indices at their real width < PLAIN), else rewrites the page PLAIN and drops it.
   */
  private endTrial(): void {
    const n = this.nIdx;
    if (n === 0) return; // nothing seen yet
    const dict = this.dict!;
    const w = widthFor(dict.size - 1);
    if (dict.bytes + (n * w) / 8 < this.dictPlainBytes) {
      this.acc.varBytes += (n * (w - TRIAL_WIDTH)) / 8;
      this.dstate = D_DICT;
      this.setWidth(w);
      return;
    }
    // PLAIN, now the page's only encoding: its values are the dictionary entries in index order.
    this.ensure(this.dictPlainBytes);
    this.vlen = dict.copyEntries(this.idx, n, this.v, this.vlen);
    this.acc.varBytes += this.dictPlainBytes - dict.bytes - n * this.indexCost;
    dict.clear();
    this.nIdx = 0;
    this.dictPlainBytes = 0;
    this.dstate = D_PLAIN;
  }

  /** The dictionary is full: the values so far stay dictionary-encoded (or go PLAIN if still in the trial and the
   * dictionary does not pay), the rest of the column chunk is PLAIN. */
  private fallBack(): void {
    if (this.dstate === D_TRIAL) {
      this.endTrial();
      if (this.dstate === D_PLAIN) return;
    }
    this.cutPage();
    this.dstate = D_PLAIN;
  }

  /** Encodes the dictionary page (PLAIN values). */
  private dictionaryPage(): Buffer {
    const dict = this.dict!;
    const header = new CompactWriter(48)
      .structBegin()
      .fieldI32(1, PAGE_TYPE_DICTIONARY_PAGE)
      .fieldI32(2, dict.bytes)
      .fieldI32(3, dict.bytes)
      .fieldStructBegin(7)
      .fieldI32(1, dict.size)
      .fieldI32(2, Encoding.PLAIN)
      .structEnd()
      .structEnd()
      .finish();
    const page = Buffer.allocUnsafe(header.length + dict.bytes);
    header.copy(page, 0);
    dict.plain.copy(page, header.length, 0, dict.bytes);
    return page;
  }

  /** Folds the dictionary's entries (every one used by the chunk) into the chunk statistics. */
  protected scanDictionary(_dict: Dictionary): void {}

  /** Finishes the column chunk of the current row group and resets the builder for the next one. */
  finishChunk(): FinishedChunk {
    this.cutPage();
    let dictionaryPageBytes = 0;
    if (this.dictPages > 0) {
      const page = this.dictionaryPage();
      this.pages.unshift(page);
      this.pagesBytes += page.length;
      dictionaryPageBytes = page.length;
      this.scanDictionary(this.dict!);
    }
    const { min, max, nanCount } = this.takeMinMax();
    const stats: ChunkStats = { nullCount: this.chunkNulls };
    if (min && max && min.length <= STRING_STATS_MAX_BYTES && max.length <= STRING_STATS_MAX_BYTES) {
      stats.min = min;
      stats.max = max;
    }
    if (nanCount !== undefined) stats.nanCount = nanCount;
    const chunk: FinishedChunk = {
      pages: this.pages,
      bytes: this.pagesBytes,
      values: this.chunkValues,
      stats,
      dictionaryPageBytes,
      plainPages: this.plainPages,
      dictionaryPages: this.dictPages,
    };
    this.pages = [];
    this.pagesBytes = 0;
    this.chunkValues = 0;
    this.chunkNulls = 0;
    if (this.dict) {
      this.dict.clear();
      this.dstate = D_TRIAL;
      this.trialCheckAt = TRIAL_FIRST_CHECK;
      this.indexCost = TRIAL_WIDTH / 8;
      this.pageWidth = 0;
      this.dictPlainBytes = 0;
      this.dictIndexBytes = 0;
      if (this.idx.length > 1 << 18) this.idx = new Uint16Array(0);
    }
    this.dictPages = 0;
    this.plainPages = 0;
    return chunk;
  }
}

/** BOOLEAN: values bit-packed LSB first into `v`. */
class BooleanBuilder extends ColumnBuilder {
  private bits = 0;
  private sawTrue = false;
  private sawFalse = false;

  override appendBool(b: boolean): void {
    if (this.cutDue) this.cutPage();
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
  private readonly fdict: FixedDictionary | undefined;

  constructor(column: ParquetColumn, options: BuilderOptions, acc: Accounting) {
    super(column, options, acc, options.dictionary ? new FixedDictionary(4) : undefined);
    this.fdict = this.dict as FixedDictionary | undefined;
  }

  protected put32(n: number): void {
    if (this.cutDue) this.cutPage();
    if (this.dstate !== D_PLAIN) {
      this.dict32(n);
      return;
    }
    if (this.vlen + 4 > this.v.length) this.ensure(4);
    const v = this.v;
    const o = this.vlen;
    v[o] = n;
    v[o + 1] = n >> 8;
    v[o + 2] = n >> 16;
    v[o + 3] = n >> 24;
    this.vlen = o + 4;
    this.acc.varBytes += this.plainCost;
    this.present();
  }
  private dict32(n: number): void {
    const dict = this.fdict!;
    let e = dict.find(0, n);
    if (e < 0) {
      if (!this.admit(4)) {
        this.put32(n);
        return;
      }
      e = dict.add(0, n);
    }
    this.pushIndex(e, 4);
  }
  override appendInt32(n: number): void {
    if (!isI32(n)) throw new RangeError(`${describe(this.column)}: ${show(n)} is not an int32`);
    this.put32(n);
  }
  override appendInt16BE(b: Uint8Array, p: number): void {
    this.put32(((b[p]! << 24) >> 16) | b[p + 1]!);
  }
  override appendInt32BE(b: Uint8Array, p: number): void {
    if (this.cutDue) this.cutPage();
    if (this.dstate !== D_PLAIN) {
      this.dict32((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
      return;
    }
    if (this.vlen + 4 > this.v.length) this.ensure(4);
    const v = this.v;
    const o = this.vlen;
    v[o] = b[p + 3]!;
    v[o + 1] = b[p + 2]!;
    v[o + 2] = b[p + 1]!;
    v[o + 3] = b[p]!;
    this.vlen = o + 4;
    this.acc.varBytes += this.plainCost;
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
    this.scanValues(this.v, this.vlen);
  }
  protected override scanDictionary(dict: Dictionary): void {
    this.scanValues(dict.plain, dict.bytes);
  }
  private scanValues(buf: Buffer, len: number): void {
    const n = len >>> 2;
    if (n === 0) return;
    const view = new DataView(buf.buffer, buf.byteOffset, len);
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
  private readonly fdict: FixedDictionary | undefined;

  constructor(column: ParquetColumn, options: BuilderOptions, acc: Accounting) {
    super(column, options, acc, options.dictionary ? new FixedDictionary(8) : undefined);
    this.fdict = this.dict as FixedDictionary | undefined;
  }

  /** Appends the i64 `hi * 2^32 + lo` (`hi` signed, `lo` unsigned 32-bit). */
  protected put64(hi: number, lo: number): void {
    if (this.cutDue) this.cutPage();
    if (this.dstate !== D_PLAIN) {
      this.dict64(hi, lo);
      return;
    }
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
    this.acc.varBytes += this.plainCost;
    this.present();
  }
  private dict64(hi: number, lo: number): void {
    const dict = this.fdict!;
    let e = dict.find(hi, lo);
    if (e < 0) {
      if (!this.admit(8)) {
        this.put64(hi, lo);
        return;
      }
      e = dict.add(hi, lo);
    }
    this.pushIndex(e, 8);
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
    if (this.cutDue) this.cutPage();
    if (this.dstate !== D_PLAIN) {
      this.dict64(
        (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!,
        (b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!,
      );
      return;
    }
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
    this.acc.varBytes += this.plainCost;
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
    this.scanValues(this.v, this.vlen);
  }
  protected override scanDictionary(dict: Dictionary): void {
    this.scanValues(dict.plain, dict.bytes);
  }
  private scanValues(buf: Buffer, len: number): void {
    const n = len >>> 3;
    if (n === 0) return;
    const view = new DataView(buf.buffer, buf.byteOffset, len);
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
    if (this.cutDue) this.cutPage();
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
    if (this.cutDue) this.cutPage();
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

/** UTF-8 of a string appended while dictionary-encoding. */
let stringScratch = Buffer.allocUnsafe(1024);

/** BYTE_ARRAY (UTF-8 strings): 4-byte little-endian length + bytes. */
class StringBuilder extends ColumnBuilder {
  private chunkMin: Buffer | undefined;
  private chunkMax: Buffer | undefined;
  private readonly bdict: BytesDictionary | undefined;

  constructor(column: ParquetColumn, options: BuilderOptions, acc: Accounting) {
    super(column, options, acc, options.dictionary ? new BytesDictionary() : undefined);
    this.bdict = this.dict as BytesDictionary | undefined;
  }

  override appendBytes(buf: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (!(n >= 0) || end > buf.length) throw new RangeError(`${describe(this.column)}: bad byte range`);
    if (this.cutDue) this.cutPage();
    if (this.dstate !== D_PLAIN) {
      const dict = this.bdict!;
      let e = dict.find(buf, start, n);
      if (e < 0) {
        if (!this.admit(4 + n)) {
          this.appendBytes(buf, start, end); // the chunk went PLAIN
          return;
        }
        e = dict.add(buf, start, n);
      }
      this.pushIndex(e, 4 + n);
      return;
    }
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
    this.acc.varBytes += n + this.plainCost;
    this.present();
  }
  override appendString(s: string): void {
    if (typeof s !== 'string') throw cannot(this.column, show(s));
    const max = s.length * 3;
    if (this.cutDue) this.cutPage();
    if (this.dstate !== D_PLAIN) {
      if (stringScratch.length < max) stringScratch = Buffer.allocUnsafe(Math.max(max, stringScratch.length * 2));
      this.appendBytes(stringScratch, 0, stringScratch.write(s, 0, 'utf8'));
      return;
    }
    if (this.vlen + 4 + max > this.v.length) this.ensure(4 + max);
    const n = this.v.write(s, this.vlen + 4, 'utf8');
    this.v.writeUInt32LE(n, this.vlen);
    this.vlen += 4 + n;
    this.acc.varBytes += n + this.plainCost;
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
    this.scanValues(this.v, this.vlen);
  }
  protected override scanDictionary(dict: Dictionary): void {
    this.scanValues(dict.plain, dict.bytes);
  }
  private scanValues(v: Buffer, end: number): void {
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

function builderFor(col: ParquetColumn, options: BuilderOptions, acc: Accounting): ColumnBuilder {
  switch (col.type) {
    case 'boolean':
      return new BooleanBuilder(col, options, acc);
    case 'int32':
      return new Int32Builder(col, options, acc);
    case 'date':
      return new DateBuilder(col, options, acc);
    case 'int64':
      return new Int64Builder(col, options, acc);
    case 'timestamp':
      return new TimestampBuilder(col, options, acc);
    case 'double':
      return new DoubleBuilder(col, options, acc);
    case 'string':
      return new StringBuilder(col, options, acc);
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
    const dictionary = chunk.dictionaryPageBytes > 0;
    // PLAIN: values of PLAIN data pages and of the dictionary page; RLE: definition levels; RLE_DICTIONARY: indices.
    const encodings: number[] = [];
    if (chunk.plainPages > 0 || dictionary) encodings.push(Encoding.PLAIN);
    if (col.nullable) encodings.push(Encoding.RLE);
    if (chunk.dictionaryPages > 0) encodings.push(Encoding.RLE_DICTIONARY);
    // PageEncodingStats (page type, encoding, count), so readers know whether every data page uses the dictionary.
    const pageStats: Array<[number, number, number]> = [];
    if (dictionary) pageStats.push([PAGE_TYPE_DICTIONARY_PAGE, Encoding.PLAIN, 1]);
    if (chunk.dictionaryPages > 0)
      pageStats.push([PAGE_TYPE_DATA_PAGE, Encoding.RLE_DICTIONARY, chunk.dictionaryPages]);
    if (chunk.plainPages > 0) pageStats.push([PAGE_TYPE_DATA_PAGE, Encoding.PLAIN, chunk.plainPages]);
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
      .fieldI64(9, offset + chunk.dictionaryPageBytes);
    if (dictionary) w.fieldI64(11, offset);
    // Statistics
    const s = chunk.stats;
    w.fieldStructBegin(12).fieldI64(3, s.nullCount);
    if (s.min && s.max) w.fieldBinary(5, s.max).fieldBinary(6, s.min);
    if (s.nanCount !== undefined) w.fieldI64(9, s.nanCount);
    w.structEnd(); // Statistics
    w.fieldListBegin(13, ElementType.STRUCT, pageStats.length);
    for (const [type, encoding, count] of pageStats) {
      w.structBegin().fieldI32(1, type).fieldI32(2, encoding).fieldI32(3, count).structEnd();
    }
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
  /**
   * Estimated encoded bytes per row of the fixed-width parts (presence bits; values and length prefixes of the
   * columns that are never dictionary-encoded).
   */
  private readonly fixedRowBytes: number;
  /** {@link PAGE_OVERHEAD_BOUND} for the dictionary page header of every dictionary-capable column. */
  private readonly dictionaryPageBound: number;
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
    const builderOptions: BuilderOptions = {
      pageBytes: positive(options.pageBytes, DEFAULT_PAGE_BYTES, 'pageBytes'),
      dictionary: options.dictionary ?? true,
      dictionaryPageBytes: positive(options.dictionaryPageBytes, DEFAULT_DICTIONARY_PAGE_BYTES, 'dictionaryPageBytes'),
    };
    this.createdBy = options.createdBy ?? 'fabrica';
    this.keyValueMetadata = Object.entries(options.keyValueMetadata ?? {});
    this.builders = this.columns.map((c) => builderFor(c, builderOptions, this.acc));
    // Dictionary-capable columns account their values themselves (in acc.varBytes), the others per row.
    const dictionaryColumns = builderOptions.dictionary ? this.columns.filter((c) => DICTIONARY_TYPES.has(c.type)) : [];
    this.dictionaryPageBound = dictionaryColumns.length * PAGE_OVERHEAD_BOUND;
    this.fixedRowBytes = this.columns.reduce(
      (s, c) => s + (dictionaryColumns.includes(c) ? 0 : FIXED_WIDTH[c.type]) + (c.nullable ? 1 / 8 : 0),
      0,
    );
    this.rowGroupMetaBound =
      64 +
      this.columns.reduce(
        (s, c) => s + 192 + 2 * Buffer.byteLength(c.name) + 2 * (c.type === 'string' ? STRING_STATS_MAX_BYTES + 3 : 12),
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
   * An upper bound of the encoded size of the buffered row group's pages. It counts
   * - per row: the values of the columns that are never dictionary-encoded (boolean, double; every column with
   *   `dictionary: false`) at their PLAIN width, NULLs too (so nullable columns overestimate), plus one presence bit
   *   per nullable column; and string payloads;
   * - for the dictionary-capable columns (string, int64, timestamp, int32, date, with `dictionary` on): each PLAIN
   *   value at its PLAIN size (a NULL only by its presence bit), each dictionary entry at its PLAIN size, each index
   *   at its page's bit width / 8 (14 bits during the trial, above any width the trial can reach), and
   *   {@link PAGE_OVERHEAD_BOUND} for the chunk's dictionary page header (≤ 23 bytes);
   * - {@link PAGE_OVERHEAD_BOUND} per page, cut or open: a data page's header is ≤ 28 bytes, its levels add ≤ 9
   *   bytes to the presence bits counted (length, run header, rounding), and dictionary indices ≤ 18 bytes to their
   *   count × width / 8 (the bit width byte; the hybrid encoding is ≤ ⌈n/8⌉·w + 3 bytes): ≤ 55 in all.
   * Nothing counted is ever replaced by something larger: the trial drops its dictionary (rewriting the values PLAIN)
   * only if PLAIN is not larger than dictionary + indices at their real width, and it counted the indices at ≥ that
   * width; already encoded pages are never rewritten. So with dictionaries the estimate follows the encoded size
   * (within a few bits per value plus the page-overhead bounds); without them it is what it always was.
   */
  get bufferedBytes(): number {
    return Math.ceil(
      this.rows * this.fixedRowBytes +
        this.acc.varBytes +
        (this.acc.pages + this.builders.length) * PAGE_OVERHEAD_BOUND +
        this.dictionaryPageBound,
    );
  }

  /**
   * An upper bound of the file's size if it were closed now: the bytes of the flushed row groups, {@link bufferedBytes}
   * and the footer (exact for the flushed row groups, bounded for the buffered one). It always includes the bounds of
   * a buffered row group, even an empty one, so it never jumps when a row group starts.
   *
   * Appending a row raises it by at most E(row) + 64 bytes per column + 2 bytes per dictionary-capable column, where
   * E(row) is the row's PLAIN size (NULLs at their type's width, strings 4 + byte length) plus a presence bit per
   * nullable column: a row cuts at most one page per column (a full page is cut when the next value comes); a
   * dictionary-encoded value costs its index (≤ 2 bytes), plus its PLAIN size if it is a new entry; re-counting a
   * page's indices at a wider bit width costs ≤ 64 bytes and happens only in a row that cuts no page of the column;
   * ending a trial never raises it. One exception: a row that flushes a row group may also add the fixed bounds of the
   * next, still empty, row group (64 bytes per column and per dictionary-capable column, and its metadata bound) —
   * bounds of nothing a `close()` right then would write. So a file closed as soon as this reaches a limit is at most
   * E(last row) + 66 bytes per column over the limit.
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
