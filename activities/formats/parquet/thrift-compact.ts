/**
 * A minimal Thrift Compact Protocol *encoder* — just what the Parquet writer needs to serialize its page headers and
 * footer (`PageHeader`, `FileMetaData` and their nested structs). No decoder, no messages, no maps.
 *
 * Wire rules implemented (from the Thrift compact protocol spec):
 * - i16/i32/i64 are zigzag-encoded, then written as unsigned LEB128 varints; `byte` is one raw byte; enums are i32.
 * - `double` is 8 bytes IEEE-754 little-endian.
 * - `binary`/`string` are a varint byte length followed by the bytes (strings as UTF-8).
 * - A struct is its fields followed by a stop byte (0). A field header is one byte `(delta << 4) | type` when the
 *   field id is 1–15 greater than the previous field id of the same struct (short form), otherwise the type byte
 *   followed by the zigzag varint i16 field id (long form). Nested structs restart the delta at 0 and restore the
 *   outer struct's last field id when they end. A union is a struct with exactly one field set.
 * - A bool *field* carries its value in the header type (1 = true, 2 = false) and has no payload; a bool *list
 *   element* is one byte (1 = true, 0 = false).
 * - A list header is one byte `(size << 4) | elementType` for sizes 0–14, otherwise `0xF0 | elementType` followed by
 *   the size as a varint.
 *
 * i64 values may be given as `number` (exact only within ±2^53 — offsets, sizes and counts always are) or `bigint`.
 */

/** Field types (the low nibble of a field header). */
export const FieldType = {
  BOOLEAN_TRUE: 1,
  BOOLEAN_FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

/** Element types of lists (the low nibble of a list header). Same numbers as field types, but bool is 2. */
export const ElementType = {
  BOOL: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;
export type ElementTypeCode = (typeof ElementType)[keyof typeof ElementType];

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** Zigzag of a 32-bit signed integer, as an unsigned 32-bit number. */
export function zigzag32(n: number): number {
  if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) throw new RangeError(`not an i32: ${n}`);
  return ((n << 1) ^ (n >> 31)) >>> 0;
}

/** Zigzag of a 64-bit signed integer. */
export function zigzag64(n: bigint | number): bigint {
  const v = typeof n === 'bigint' ? n : BigInt(checkSafeInteger(n));
  if (v < I64_MIN || v > I64_MAX) throw new RangeError(`not an i64: ${v}`);
  return v >= 0n ? v << 1n : (-v << 1n) - 1n;
}

function checkSafeInteger(n: number): number {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a safe integer: ${n}`);
  return n;
}

/** An append-only Thrift compact encoder into a growable buffer. */
export class CompactWriter {
  private buf: Buffer;
  private pos = 0;
  /** Last field id written in the struct being encoded. */
  private lastFieldId = 0;
  /** Last field ids of the enclosing structs. */
  private readonly stack: number[] = [];

  constructor(initialCapacity = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialCapacity));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** A copy of the encoded bytes. Throws if a struct is still open. */
  finish(): Buffer {
    if (this.stack.length !== 0) throw new Error(`thrift: ${this.stack.length} struct(s) still open`);
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** Forgets everything written (keeps the buffer). */
  reset(): this {
    this.pos = 0;
    this.lastFieldId = 0;
    this.stack.length = 0;
    return this;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  // ---- raw values -------------------------------------------------------------------------------------------------

  /** One raw byte. */
  byte(b: number): this {
    this.ensure(1);
    this.buf[this.pos++] = b & 0xff;
    return this;
  }

  /** An unsigned varint (ULEB128) of a non-negative safe integer. */
  varint(u: number): this {
    if (!Number.isSafeInteger(u) || u < 0) throw new RangeError(`not a non-negative safe integer: ${u}`);
    this.ensure(8);
    while (u >= 0x80) {
      // `%`/division instead of bit ops: values may exceed 32 bits.
      this.buf[this.pos++] = (u % 0x80) | 0x80;
      u = Math.floor(u / 0x80);
    }
    this.buf[this.pos++] = u;
    return this;
  }

  /** An unsigned varint of a non-negative bigint (up to 64 bits). */
  varintBig(u: bigint): this {
    if (u < 0n || u >= 2n ** 64n) throw new RangeError(`not a u64: ${u}`);
    this.ensure(10);
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
    return this;
  }

  /** Pre-encoded bytes, verbatim (e.g. a struct encoded by another writer, as a list element). */
  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  // ---- element values (list elements; also the payload of fields) -------------------------------------------------

  i16(n: number): this {
    if (!Number.isInteger(n) || n < -32768 || n > 32767) throw new RangeError(`not an i16: ${n}`);
    return this.varint(zigzag32(n));
  }

  i32(n: number): this {
    return this.varint(zigzag32(n));
  }

  i64(n: bigint | number): this {
    // Fast path without bigint while the zigzag (|2n| + 1) is still a safe integer; offsets and sizes always are.
    if (typeof n === 'number' && n < 2 ** 51 && n > -(2 ** 51)) {
      if (!Number.isInteger(n)) throw new RangeError(`not an integer: ${n}`);
      return this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
    }
    return this.varintBig(zigzag64(n));
  }

  double(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }

  binary(bytes: Uint8Array): this {
    this.varint(bytes.length);
    return this.raw(bytes);
  }

  string(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }

  /** A bool list element: one byte, 1 or 0. */
  bool(b: boolean): this {
    return this.byte(b ? 1 : 0);
  }

  /** Starts a struct (the top-level one, a list element, or the payload of {@link fieldStructBegin}). */
  structBegin(): this {
    this.stack.push(this.lastFieldId);
    this.lastFieldId = 0;
    return this;
  }

  /** Ends the current struct: writes the stop byte and restores the enclosing struct's field-id delta base. */
  structEnd(): this {
    const outer = this.stack.pop();
    if (outer === undefined) throw new Error('thrift: structEnd without structBegin');
    this.byte(0);
    this.lastFieldId = outer;
    return this;
  }

  /** A list header (elements follow, written with the element methods). */
  listBegin(elementType: ElementTypeCode, size: number): this {
    if (!Number.isSafeInteger(size) || size < 0 || size > 2147483647) throw new RangeError(`bad list size ${size}`);
    if (size < 15) return this.byte((size << 4) | elementType);
    this.byte(0xf0 | elementType);
    return this.varint(size);
  }

  // ---- fields ----------------------------------------------------------------------------------------------------

  /** A field header. Prefer the typed `field*` methods. */
  fieldHeader(type: number, id: number): this {
    if (!Number.isInteger(id) || id < -32768 || id > 32767) throw new RangeError(`bad field id ${id}`);
    const delta = id - this.lastFieldId;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.i16(id);
    }
    this.lastFieldId = id;
    return this;
  }

  fieldBool(id: number, b: boolean): this {
    return this.fieldHeader(b ? FieldType.BOOLEAN_TRUE : FieldType.BOOLEAN_FALSE, id);
  }

  fieldByte(id: number, b: number): this {
    return this.fieldHeader(FieldType.BYTE, id).byte(b);
  }

  fieldI16(id: number, n: number): this {
    return this.fieldHeader(FieldType.I16, id).i16(n);
  }

  fieldI32(id: number, n: number): this {
    return this.fieldHeader(FieldType.I32, id).i32(n);
  }

  fieldI64(id: number, n: bigint | number): this {
    return this.fieldHeader(FieldType.I64, id).i64(n);
  }

  fieldDouble(id: number, v: number): this {
    return this.fieldHeader(FieldType.DOUBLE, id).double(v);
  }

  fieldBinary(id: number, bytes: Uint8Array): this {
    return this.fieldHeader(FieldType.BINARY, id).binary(bytes);
  }

  fieldString(id: number, s: string): this {
    return this.fieldHeader(FieldType.BINARY, id).string(s);
  }

  /** A struct-valued field: writes its header and opens the nested struct (close it with {@link structEnd}). */
  fieldStructBegin(id: number): this {
    return this.fieldHeader(FieldType.STRUCT, id).structBegin();
  }

  /** An empty struct-valued field (Parquet's marker structs, e.g. `StringType {}`). */
  fieldEmptyStruct(id: number): this {
    return this.fieldStructBegin(id).structEnd();
  }

  /** A list-valued field: writes the field header and the list header; write the elements next. */
  fieldListBegin(id: number, elementType: ElementTypeCode, size: number): this {
    return this.fieldHeader(FieldType.LIST, id).listBegin(elementType, size);
  }
}
