/**
 * PostgreSQL `COPY (<select>) TO STDOUT (FORMAT binary)` → Parquet, streaming, with bounded memory.
 *
 * The binary COPY stream is: the 11-byte signature `PGCOPY\n\xff\r\n\0`, an int32 flags word (bit 16 = OIDs
 * included, rejected here), an int32 header-extension length and that many bytes (skipped); then per tuple an int16
 * field count, and per field an int32 byte length (-1 = NULL) followed by the value in the type's binary "send"
 * format; finally the trailer, an int16 -1. All integers are big-endian.
 *
 * {@link BinaryCopyDecoder} is a resumable state machine over that stream: each field goes straight into the
 * column builders of a {@link ParquetWriter} (no per-row JS objects, no per-value allocations: strings' bytes are
 * looked up in the column's dictionary, or copied once into the page buffer, straight from the COPY buffer). Chunks
 * may split anywhere — inside the header, a length or a value; the bytes of the one unit (header, count, length or
 * value) that straddles two chunks are kept in a small carry buffer (it grows to the largest value that straddled).
 *
 * Types. Before copying, {@link copyBinaryToParquet} plans the query once (`SELECT * FROM (<sql>) LIMIT 0`) to learn
 * the PostgreSQL type of every output column, resolves each type's binary send function in `pg_type` (so domains and
 * enums resolve too), and checks it against the Parquet column. Accepted pairs:
 *     boolean   ← bool
 *     int32     ← int2, int4
 *     int64     ← int2, int4, int8
 *     double    ← float4, float8
 *     string    ← text, varchar, bpchar, name, citext, json (not jsonb), enums, unknown literals
 *     timestamp ← timestamptz, timestamp (a timestamp without time zone is taken as UTC)
 *     date      ← date
 * Anything else is rejected before any data is read, naming the column and suggesting a cast: `numeric` has a complex
 * binary format and is not decoded — cast it to `float8` (or `text`) in the SELECT; `jsonb`, `uuid`, arrays… → `::text`.
 * `infinity`/`-infinity` timestamps and dates cannot be represented and fail the export with a RangeError. Text is
 * copied as the server sends it: node-postgres connects with client_encoding UTF8, so strings are UTF-8.
 *
 * Parameters. COPY takes no bind parameters, so `$1…$n` placeholders are replaced client-side by SQL literals that
 * mimic bind parameters: every value becomes a quoted literal of type `unknown` (as node-postgres sends parameters
 * untyped), resolved by its context exactly like a parameter. Strings are quoted by doubling `'` (and, when they hold a
 * backslash, as `E'…'` with doubled backslashes, which is correct whatever `standard_conforming_strings` is); numbers
 * (finite), bigints and booleans become their text; Dates their ISO-8601 UTC text; Buffers/Uint8Arrays bytea hex
 * (`'\x…'`); null/undefined `NULL`. Any other value (objects, arrays, NaN, strings with NUL) is rejected. Placeholders
 * are found by a small scanner that skips quoted strings (`'…'`, `E'…'`), quoted identifiers, dollar-quoted bodies and
 * comments, so a `$1` inside any of those is left alone (the query text itself is assumed to be written with
 * `standard_conforming_strings = on`, the default).
 *
 * File rolling. Each file is written by a fresh writer from `newWriter()` — opened lazily when the first row of the
 * file arrives — and closed (`close()` awaited) before the next one is opened and before the function returns. After
 * every row the current file is closed when
 * - its rows reach `maxRowsPerFile` (so every file has at most `maxRowsPerFile` rows — exact), or
 * - its `projectedBytes` reach `maxBytesPerFile`. `projectedBytes` is an upper bound of the size the file would have
 *   if closed now (flushed bytes + an overestimate of the buffered row group — which follows the dictionary-encoded
 *   size of dictionary-encoded columns — + a bound of the footer), it was below the bound before the last row, and
 *   one row raises it by at most E(row) + 66 bytes per column, where E(row) is the row's PLAIN-encoded size counting
 *   NULLs at their type's width (8 bytes at most for fixed-width types, 4 + byte length for strings) plus one
 *   presence bit per nullable column (see `ParquetWriter.projectedBytes`). So every file ends up smaller than
 *   `maxBytesPerFile` + E(its last row) + 66 × columns — and in practice a little below `maxBytesPerFile` (the
 *   estimates are conservative). A single row larger than the bound still gets its own file.
 * Row groups themselves are flushed by the writer's own `rowGroupRows`/`rowGroupBytes` (a file closed early just ends
 * with a smaller row group). If the query returns no rows, one valid zero-row file (schema only) is still written.
 *
 * Errors, aborts. On an error or when `signal` aborts, the COPY is abandoned mid-stream: the current writer is left
 * unclosed (the caller discards its partial file) and the connection is still in COPY mode — the caller must destroy
 * it (`poolClient.release(true)` / `client.end()`), never return it to a pool as is.
 */
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { ColumnBuilder, ParquetColumn, ParquetColumnType, ParquetWriter } from './parquet/parquet-writer.js';

export type { ParquetColumn, ParquetColumnType } from './parquet/parquet-writer.js';

export interface CopyBinaryToParquetOptions {
  /** Close a file when it holds this many rows (exact bound). */
  maxRowsPerFile?: number;
  /** Close a file once its projected size reaches this many bytes (see the file header for the precise bound). */
  maxBytesPerFile?: number;
  /** Called with the running row count every 16 Ki rows and at the end. */
  onProgress?: (rows: number) => void;
  /** Aborts the export (checked for every chunk received). */
  signal?: AbortSignal;
}

export interface CopyBinaryToParquetResult {
  /** The files written, in order (one per `newWriter()` call), with what their writer's `close()` returned. */
  files: Array<{ rows: number; bytes: number }>;
  rows: number;
}

/** A PostgreSQL binary value kind the decoder knows. */
export type PgBinaryKind = 'bool' | 'int2' | 'int4' | 'int8' | 'float4' | 'float8' | 'text' | 'timestamp' | 'date';

/** An error about the COPY stream or the query's columns (not retryable: the query or the data must change). */
export class CopyBinaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyBinaryError';
  }
}

// Kind codes used in the hot loop (indexes into FIXED_LENGTH).
const K_BOOL = 0;
const K_INT2 = 1;
const K_INT4 = 2;
const K_INT8 = 3;
const K_FLOAT4 = 4;
const K_FLOAT8 = 5;
const K_TEXT = 6;
const K_TIMESTAMP = 7;
const K_DATE = 8;
const KIND_CODE: Record<PgBinaryKind, number> = {
  bool: K_BOOL,
  int2: K_INT2,
  int4: K_INT4,
  int8: K_INT8,
  float4: K_FLOAT4,
  float8: K_FLOAT8,
  text: K_TEXT,
  timestamp: K_TIMESTAMP,
  date: K_DATE,
};
/** Byte length of each kind's binary value (-1: variable). */
const FIXED_LENGTH = [1, 2, 4, 8, 4, 8, -1, 8, 4];

/** Binary send functions (`pg_type.typsend`) → kind. */
const SEND_KIND: Record<string, PgBinaryKind> = {
  boolsend: 'bool',
  int2send: 'int2',
  int4send: 'int4',
  int8send: 'int8',
  float4send: 'float4',
  float8send: 'float8',
  textsend: 'text',
  varcharsend: 'text',
  bpcharsend: 'text',
  namesend: 'text',
  citextsend: 'text',
  enum_send: 'text',
  json_send: 'text',
  unknownsend: 'text',
  timestamptz_send: 'timestamp',
  timestamp_send: 'timestamp',
  date_send: 'date',
};

/** Which PostgreSQL kinds each Parquet type accepts. */
const ACCEPTS: Record<ParquetColumnType, readonly PgBinaryKind[]> = {
  boolean: ['bool'],
  int32: ['int2', 'int4'],
  int64: ['int2', 'int4', 'int8'],
  double: ['float4', 'float8'],
  string: ['text'],
  timestamp: ['timestamp'],
  date: ['date'],
};

const CAST_HINT: Record<ParquetColumnType, string> = {
  boolean: '::bool',
  int32: '::int4',
  int64: '::int8',
  double: '::float8',
  string: '::text',
  timestamp: '::timestamptz',
  date: '::date',
};

/** The Parquet column type a PostgreSQL kind maps to by default (for building a schema from a query). */
export function parquetTypeOf(kind: PgBinaryKind): ParquetColumnType {
  switch (kind) {
    case 'bool':
      return 'boolean';
    case 'int2':
    case 'int4':
      return 'int32';
    case 'int8':
      return 'int64';
    case 'float4':
    case 'float8':
      return 'double';
    case 'text':
      return 'string';
    case 'timestamp':
      return 'timestamp';
    case 'date':
      return 'date';
  }
}

/** The kind of a binary send function name, or undefined if the decoder cannot read that type. */
export function pgBinaryKind(typsend: string): PgBinaryKind | undefined {
  return Object.hasOwn(SEND_KIND, typsend) ? SEND_KIND[typsend] : undefined;
}

// ---- parameters ------------------------------------------------------------------------------------------------

function quoteLiteral(s: string): string {
  if (s.includes('\0')) throw new CopyBinaryError('a query parameter contains a NUL character');
  const doubled = s.replace(/'/g, "''");
  return s.includes('\\') ? ` E'${doubled.replace(/\\/g, '\\\\')}'` : `'${doubled}'`;
}

/** A parameter value as an SQL literal (see the file header). */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return quoteLiteral(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CopyBinaryError(`query parameter ${value} is not a finite number`);
    return `'${String(value)}'`;
  }
  if (typeof value === 'bigint' || typeof value === 'boolean') return `'${String(value)}'`;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new CopyBinaryError('a query parameter is an invalid Date');
    return `'${value.toISOString()}'`;
  }
  if (value instanceof Uint8Array) return quoteLiteral(`\\x${Buffer.from(value).toString('hex')}`);
  throw new CopyBinaryError(`unsupported query parameter type: ${Object.prototype.toString.call(value)}`);
}

function isIdentChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || // 0-9
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    c === 0x5f || // _
    c === 0x24 || // $
    c >= 0x80
  );
}

const PLACEHOLDER = /\$(\d+)/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/**
 * Replaces `$1…$n` in `sql` by the literals of `params` (see the file header), skipping strings, quoted identifiers,
 * dollar-quoted bodies and comments. Throws on a placeholder without a parameter or an unterminated quote/comment.
 */
export function inlineParams(sql: string, params: readonly unknown[]): string {
  const n = sql.length;
  let out = '';
  let last = 0;
  let i = 0;
  const unterminated = (what: string) => new CopyBinaryError(`unterminated ${what} in the query`);
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 0x27) {
      // '…' (E'…' when prefixed by a standalone E: backslash escapes)
      const prev = sql.charCodeAt(i - 1);
      const escapes = (prev === 0x45 || prev === 0x65) && !isIdentChar(sql.charCodeAt(i - 2));
      let j = i + 1;
      for (;;) {
        if (j >= n) throw unterminated('string literal');
        const d = sql.charCodeAt(j);
        if (escapes && d === 0x5c) j += 2;
        else if (d === 0x27) {
          if (sql.charCodeAt(j + 1) === 0x27) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
    } else if (c === 0x22) {
      // "identifier" ("" inside)
      let j = i + 1;
      for (;;) {
        if (j >= n) throw unterminated('quoted identifier');
        if (sql.charCodeAt(j) === 0x22) {
          if (sql.charCodeAt(j + 1) === 0x22) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
    } else if (c === 0x2d && sql.charCodeAt(i + 1) === 0x2d) {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (c === 0x2f && sql.charCodeAt(i + 1) === 0x2a) {
      // /* … */, nested
      let depth = 1;
      let j = i + 2;
      while (depth > 0) {
        if (j >= n) throw unterminated('comment');
        if (sql.charCodeAt(j) === 0x2f && sql.charCodeAt(j + 1) === 0x2a) {
          depth++;
          j += 2;
        } else if (sql.charCodeAt(j) === 0x2a && sql.charCodeAt(j + 1) === 0x2f) {
          depth--;
          j += 2;
        } else j++;
      }
      i = j;
    } else if (c === 0x24 && !(i > 0 && isIdentChar(sql.charCodeAt(i - 1)))) {
      PLACEHOLDER.lastIndex = i;
      const p = PLACEHOLDER.exec(sql);
      if (p) {
        const idx = Number(p[1]);
        if (idx < 1 || idx > params.length) {
          throw new CopyBinaryError(`the query uses $${p[1]} but ${params.length} parameter(s) were given`);
        }
        out += sql.slice(last, i) + sqlLiteral(params[idx - 1]);
        i += p[0].length;
        last = i;
        continue;
      }
      DOLLAR_TAG.lastIndex = i;
      const t = DOLLAR_TAG.exec(sql);
      if (t) {
        const close = sql.indexOf(t[0], i + t[0].length);
        if (close < 0) throw unterminated('dollar-quoted string');
        i = close + t[0].length;
      } else i++;
    } else i++;
  }
  return out + sql.slice(last);
}

// ---- type resolution -------------------------------------------------------------------------------------------

/** An output column of a query: its name, its binary kind (undefined if not decodable) and its type name. */
export interface ProbedColumn {
  name: string;
  kind: PgBinaryKind | undefined;
  typeName: string;
}

/** Plans the query (LIMIT 0) and resolves the binary kind of each output column. */
export async function probeColumns(client: pg.ClientBase, sql: string): Promise<ProbedColumn[]> {
  const probe = await client.query({ text: `SELECT * FROM (\n${sql}\n) AS fabrica_probe LIMIT 0`, rowMode: 'array' });
  const oids = [...new Set(probe.fields.map((f) => f.dataTypeID))];
  const types = await client.query<{ oid: string; send: string; name: string }>(
    'SELECT t.oid::text AS oid, t.typsend::text AS send, format_type(t.oid, NULL) AS name FROM pg_type t WHERE t.oid = ANY($1::oid[])',
    [oids],
  );
  const byOid = new Map(types.rows.map((r) => [Number(r.oid), r]));
  return probe.fields.map((f) => {
    const t = byOid.get(f.dataTypeID);
    return { name: f.name, kind: t ? pgBinaryKind(t.send) : undefined, typeName: t?.name ?? `oid ${f.dataTypeID}` };
  });
}

/** Checks the probed columns against the Parquet columns; returns the kind of each. */
export function matchColumns(probed: readonly ProbedColumn[], columns: readonly ParquetColumn[]): PgBinaryKind[] {
  if (probed.length !== columns.length) {
    throw new CopyBinaryError(
      `the query returns ${probed.length} column(s) (${probed.map((p) => p.name).join(', ')}) but ${columns.length} Parquet column(s) were given`,
    );
  }
  return columns.map((col, i) => {
    const p = probed[i]!;
    const hint = `cast it in the SELECT, e.g. ${p.name}${CAST_HINT[col.type]}`;
    if (!p.kind) {
      const extra = p.typeName === 'numeric' ? ' (numeric is not decoded: cast it to float8 or text)' : '';
      throw new CopyBinaryError(
        `query column ${i + 1} "${p.name}" has type ${p.typeName}, which cannot be read from binary COPY${extra}; ${hint}`,
      );
    }
    if (!ACCEPTS[col.type].includes(p.kind)) {
      throw new CopyBinaryError(
        `query column ${i + 1} "${p.name}" has type ${p.typeName}, incompatible with Parquet column "${col.name}" (${col.type}); ${hint}`,
      );
    }
    return p.kind;
  });
}

// ---- the decoder -----------------------------------------------------------------------------------------------

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const S_HEADER = 0;
const S_EXTENSION = 1;
const S_TUPLE = 2;
const S_LENGTH = 3;
const S_VALUE = 4;
const S_DONE = 5;
const PROGRESS_EVERY = 1 << 14;
const CARRY_KEEP_BYTES = 1 << 20;

function int32(b: Uint8Array, p: number): number {
  return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
}

/** What the decoder calls around rows: where rows go, and file rolling. */
export interface BinaryCopyTarget {
  /** The builders of the current file, opening it if needed (called at the start of every row). */
  beginRow(): readonly ColumnBuilder[] | Promise<readonly ColumnBuilder[]>;
  /** Called after the last field of a row was appended. */
  endRow(): void | Promise<void>;
}

/**
 * The resumable binary COPY decoder: `push` every chunk (awaiting each), then `finish`. Fields go straight into the
 * builders the target returns.
 */
export class BinaryCopyDecoder {
  private state = S_HEADER;
  /** Bytes the current unit needs. */
  private need = SIGNATURE.length + 8;
  private carry = Buffer.allocUnsafe(256);
  private carryLen = 0;
  private field = 0;
  private length = 0;
  private builders: readonly ColumnBuilder[] = [];
  private readonly kinds: number[];
  private readonly fixed: number[];
  /** Rows decoded. */
  rows = 0;

  constructor(
    kinds: readonly PgBinaryKind[],
    private readonly target: BinaryCopyTarget,
  ) {
    this.kinds = kinds.map((k) => KIND_CODE[k]);
    this.fixed = this.kinds.map((k) => FIXED_LENGTH[k]!);
  }

  /** Decodes one chunk of the stream. Await it before pushing the next. */
  async push(chunk: Uint8Array): Promise<void> {
    let pos = 0;
    if (this.carryLen > 0) {
      const take = Math.min(this.need - this.carryLen, chunk.length);
      this.carry.set(chunk.subarray(0, take), this.carryLen);
      this.carryLen += take;
      pos = take;
      if (this.carryLen < this.need) return;
      this.carryLen = 0;
      const r = this.unit(this.carry, 0);
      if (r) await r;
      // Do not keep a carry grown by one huge straddling value.
      if (this.carry.length > CARRY_KEEP_BYTES) this.carry = Buffer.allocUnsafe(256);
    }
    const end = chunk.length;
    for (;;) {
      const need = this.need;
      if (end - pos < need || this.state === S_DONE) break;
      const r = this.unit(chunk, pos);
      pos += need;
      if (r) await r;
    }
    if (pos < end) {
      if (this.state === S_DONE) throw new CopyBinaryError('unexpected data after the binary COPY trailer');
      if (this.carry.length < this.need) this.carry = Buffer.allocUnsafe(Math.max(this.need, this.carry.length * 2));
      this.carry.set(chunk.subarray(pos, end), 0);
      this.carryLen = end - pos;
    }
  }

  /** Checks that the stream ended exactly after its trailer. */
  finish(): void {
    if (this.state !== S_DONE || this.carryLen > 0) {
      throw new CopyBinaryError(`the binary COPY stream ended early (after ${this.rows} rows, without its trailer)`);
    }
  }

  /** Handles the unit of `this.need` bytes at `buf[p]`, sets the next state; returns a promise to await, if any. */
  private unit(buf: Uint8Array, p: number): Promise<void> | void {
    switch (this.state) {
      case S_VALUE: {
        const f = this.field;
        const b = this.builders[f]!;
        switch (this.kinds[f]) {
          case K_TEXT:
            b.appendBytes(buf, p, p + this.length);
            break;
          case K_INT4:
            b.appendInt32BE(buf, p);
            break;
          case K_INT8:
            b.appendInt64BE(buf, p);
            break;
          case K_FLOAT8:
            b.appendDoubleBE(buf, p);
            break;
          case K_TIMESTAMP:
            b.appendPgTimestamp(buf, p);
            break;
          case K_DATE:
            b.appendPgDate(buf, p);
            break;
          case K_BOOL:
            b.appendBool(buf[p] !== 0);
            break;
          case K_INT2:
            b.appendInt16BE(buf, p);
            break;
          case K_FLOAT4:
            b.appendFloatBE(buf, p);
            break;
        }
        return this.nextField();
      }
      case S_LENGTH: {
        const len = int32(buf, p);
        if (len === -1) {
          this.builders[this.field]!.appendNull();
          return this.nextField();
        }
        const fixed = this.fixed[this.field]!;
        if (len < 0 || (fixed >= 0 && len !== fixed)) {
          throw new CopyBinaryError(`row ${this.rows + 1}, field ${this.field + 1}: bad value length ${len}`);
        }
        this.length = len;
        this.state = S_VALUE;
        this.need = len;
        return;
      }
      case S_TUPLE: {
        const count = ((buf[p]! << 24) >> 16) | buf[p + 1]!;
        if (count === -1) {
          this.state = S_DONE;
          this.need = 0;
          return;
        }
        if (count !== this.kinds.length) {
          throw new CopyBinaryError(`row ${this.rows + 1} has ${count} fields, expected ${this.kinds.length}`);
        }
        this.field = 0;
        this.state = S_LENGTH;
        this.need = 4;
        const builders = this.target.beginRow();
        if (builders instanceof Promise) {
          return builders.then((b) => {
            this.builders = b;
          });
        }
        this.builders = builders;
        return;
      }
      case S_HEADER: {
        for (let i = 0; i < SIGNATURE.length; i++) {
          if (buf[p + i] !== SIGNATURE[i]) throw new CopyBinaryError('not a PostgreSQL binary COPY stream');
        }
        const flags = int32(buf, p + SIGNATURE.length);
        if (flags & (1 << 16)) throw new CopyBinaryError('binary COPY with OIDs is not supported');
        const ext = int32(buf, p + SIGNATURE.length + 4);
        if (ext < 0) throw new CopyBinaryError('bad binary COPY header extension length');
        this.state = ext > 0 ? S_EXTENSION : S_TUPLE;
        this.need = ext > 0 ? ext : 2;
        return;
      }
      case S_EXTENSION:
        this.state = S_TUPLE;
        this.need = 2;
        return;
      default:
        throw new CopyBinaryError('unexpected data after the binary COPY trailer');
    }
  }

  private nextField(): Promise<void> | void {
    if (++this.field < this.kinds.length) {
      this.state = S_LENGTH;
      this.need = 4;
      return;
    }
    this.state = S_TUPLE;
    this.need = 2;
    this.rows++;
    return this.target.endRow();
  }
}

// ---- the export ------------------------------------------------------------------------------------------------

/** The query with its parameters inlined and without trailing semicolons (it is embedded in `COPY (…)`). */
function queryText(sql: string, params: readonly unknown[] | undefined): string {
  const text = params && params.length > 0 ? inlineParams(sql, params) : sql;
  let end = text.length;
  while (end > 0 && /[\s;]/.test(text[end - 1]!)) end--;
  return text.slice(0, end);
}

/**
 * The Parquet columns a query maps to by default (every column nullable; see {@link parquetTypeOf}), e.g. to build a
 * schema from an ad-hoc SELECT. Throws a {@link CopyBinaryError} for a column of a type the decoder cannot read.
 */
export async function parquetColumnsOf(
  client: pg.PoolClient | pg.Client,
  sql: string,
  params?: unknown[],
): Promise<ParquetColumn[]> {
  const probed = await probeColumns(client, queryText(sql, params));
  const columns = probed.map((p): ParquetColumn => ({
    name: p.name,
    type: p.kind ? parquetTypeOf(p.kind) : 'string',
    nullable: true,
  }));
  matchColumns(probed, columns);
  return columns;
}

function sameColumns(a: readonly ParquetColumn[], b: readonly ParquetColumn[]): boolean {
  return (
    a.length === b.length &&
    a.every((c, i) => c.name === b[i]!.name && c.type === b[i]!.type && c.nullable === b[i]!.nullable)
  );
}

function positiveOrInfinity(v: number | undefined, what: string): number {
  if (v === undefined) return Infinity;
  if (!(v >= 1)) throw new RangeError(`${what} must be at least 1`);
  return v;
}

/**
 * Runs `COPY (<sql>) TO STDOUT (FORMAT binary)` on `client` and writes the rows to Parquet files, rolling files at
 * the bounds of `options` (see the file header for types, parameters, bounds and error handling).
 *
 * @param sql a SELECT (or VALUES / TABLE / WITH … SELECT) whose output columns match `columns` in order
 * @param params values for `$1…$n` in `sql`, inlined as literals; undefined or [] when there are none
 * @param columns the Parquet schema; every writer from `newWriter` must have exactly these columns
 * @param newWriter opens the next file; called lazily, after the previous file's writer was closed
 */
export async function copyBinaryToParquet(
  client: pg.PoolClient | pg.Client,
  sql: string,
  params: unknown[] | undefined,
  columns: ParquetColumn[],
  newWriter: () => ParquetWriter | Promise<ParquetWriter>,
  options: CopyBinaryToParquetOptions = {},
): Promise<CopyBinaryToParquetResult> {
  const maxRows = positiveOrInfinity(options.maxRowsPerFile, 'maxRowsPerFile');
  const maxBytes = positiveOrInfinity(options.maxBytesPerFile, 'maxBytesPerFile');
  const { onProgress, signal } = options;
  signal?.throwIfAborted();
  const text = queryText(sql, params);
  const kinds = matchColumns(await probeColumns(client, text), columns);
  signal?.throwIfAborted();

  const files: Array<{ rows: number; bytes: number }> = [];
  let writer: ParquetWriter | undefined;
  let builders: ColumnBuilder[] = [];
  let total = 0;

  const open = async (): Promise<readonly ColumnBuilder[]> => {
    const w = await newWriter();
    if (!sameColumns(w.columns, columns)) {
      throw new CopyBinaryError('newWriter() returned a writer whose columns differ from the export columns');
    }
    if (w.rowsWritten !== 0 || w.bytesWritten !== 0) throw new CopyBinaryError('newWriter() returned a used writer');
    writer = w;
    builders = columns.map((_, i) => w.column(i));
    return builders;
  };
  const closeFile = async () => {
    const w = writer!;
    writer = undefined;
    files.push(await w.close());
  };
  const roll = async (pending: void | Promise<void>) => {
    if (pending) await pending;
    await closeFile();
  };

  const decoder = new BinaryCopyDecoder(kinds, {
    beginRow: () => (writer ? builders : open()),
    endRow: () => {
      const w = writer!;
      const pending = w.endRow();
      total++;
      if (onProgress && total % PROGRESS_EVERY === 0) onProgress(total);
      if (w.rowsWritten >= maxRows || (maxBytes !== Infinity && w.projectedBytes >= maxBytes)) return roll(pending);
      return pending;
    },
  });

  const stream = client.query(copyTo(`COPY (\n${text}\n) TO STDOUT (FORMAT binary)`));
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      await decoder.push(chunk);
    }
  } finally {
    // On an early exit the client is still in COPY mode; when the caller discards it, pg reports the termination to
    // this stream as an 'error' event, which must not go unhandled.
    stream.on('error', () => undefined);
    if (!stream.destroyed) stream.destroy();
  }
  decoder.finish();
  if (writer) await closeFile();
  if (files.length === 0) {
    await open();
    await closeFile();
  }
  onProgress?.(total);
  return { files, rows: total };
}
