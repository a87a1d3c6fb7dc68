import type { FormatColumn, GenericValue } from '../format.js';
import { columnFault, show, type RowReject } from './reject.js';
import { dateReader, inYearRange, timestampReader, ZoneOffsets } from './time.js';

/** Types one non-empty value of a column, or throws a `RowReject`. */
export type Typer<T> = (value: T) => GenericValue;

/** File-wide settings the typing of values depends on. */
export interface TypingOptions {
  /** IANA zone local date-times are read in. */
  timeZone: string;
  /** Decimal separator of numbers in text. */
  decimal: '.' | ',';
}

const INTEGER = /^-?\d+$/;
const DECIMAL = { '.': /^-?\d+(?:\.\d+)?$/, ',': /^-?\d+(?:,\d+)?$/ } as const;
const DOUBLE = { '.': /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/, ',': /^-?\d+(?:,\d+)?(?:[eE][+-]?\d+)?$/ } as const;
/** Integer column types and their ranges (`bigint` is bounded by what a JavaScript number holds exactly). */
const INTEGER_RANGES = {
  integer: [-(2 ** 31), 2 ** 31 - 1],
  bigint: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
} as const;

/** Types the text of one field: empty text is NULL (or `missing_value` when the column is not nullable). */
export function textColumnTyper(column: FormatColumn, options: TypingOptions): Typer<string> {
  const typer = textTyper(column, options);
  return (text) => (text === '' ? emptyValue(column, 'empty') : typer(text));
}

/** NULL for a nullable column; otherwise throws `missing_value` saying what was found (`empty`, `null`…). */
export function emptyValue(column: FormatColumn, found: string): null {
  if (column.nullable === true) return null;
  throw columnFault('missing_value', column.name, found);
}

/** Types one non-empty text value into the column type's representation (see `GenericValue`). */
export function textTyper(column: FormatColumn, options: TypingOptions): Typer<string> {
  const { name } = column;
  switch (column.type) {
    case 'text':
      return (text) => text;
    case 'integer':
    case 'bigint':
      return integerTyper(name, column.type);
    case 'decimal':
      return decimalTyper(name, options.decimal);
    case 'double':
      return doubleTyper(name, options.decimal);
    case 'boolean':
      return booleanTyper(column);
    case 'date':
      return dateTyper(column);
    case 'timestamp':
      return timestampTyper(column, options.timeZone);
  }
}

/** Checks that a number is an integer within its column type's range. */
export function checkInteger(name: string, type: keyof typeof INTEGER_RANGES, n: number, text: string): number {
  const [min, max] = INTEGER_RANGES[type];
  if (!Number.isInteger(n)) throw columnFault('bad_number', name, `not an integer: ${text}`);
  if (n < min || n > max) throw columnFault('bad_number', name, `outside the ${type} range: ${text}`);
  return n;
}

/** Integers written `^-?\d+$`. */
function integerTyper(name: string, type: keyof typeof INTEGER_RANGES): Typer<string> {
  return (text) => {
    if (!INTEGER.test(text)) throw columnFault('bad_number', name, `not an integer: ${show(text)}`);
    return checkInteger(name, type, Number(text), show(text));
  };
}

/** Exact decimals, kept as written but in `.` notation (no exponent, no thousands separators). */
function decimalTyper(name: string, separator: '.' | ','): Typer<string> {
  const form = DECIMAL[separator];
  return (text) => {
    if (!form.test(text)) throw notANumber(name, separator, text);
    return separator === ',' ? text.replace(',', '.') : text;
  };
}

/** Finite doubles (an exponent is allowed). */
function doubleTyper(name: string, separator: '.' | ','): Typer<string> {
  const form = DOUBLE[separator];
  return (text) => {
    const n = form.test(text) ? Number(separator === ',' ? text.replace(',', '.') : text) : NaN;
    if (!Number.isFinite(n)) throw notANumber(name, separator, text);
    return n;
  };
}

/** The reject of a text that is not a number; it mentions a decimal comma (a `12.50` is then the likely fault). */
function notANumber(name: string, separator: '.' | ',', text: string): RowReject {
  const note = separator === ',' ? ' with a decimal comma' : '';
  return columnFault('bad_number', name, `not a number${note}: ${show(text)}`);
}

/** Booleans spelled as the column declares (default `true` / `false`), typed `'t'` / `'f'`. */
function booleanTyper(column: FormatColumn): Typer<string> {
  const spellings = column.booleanValues ?? { true: ['true'], false: ['false'] };
  const values = new Map<string, string>([
    ...spellings.true.map((s): [string, string] => [s, 't']),
    ...spellings.false.map((s): [string, string] => [s, 'f']),
  ]);
  const expected = [...values.keys()].map(show).join(', ');
  return (text) => {
    const value = values.get(text);
    if (value === undefined) throw columnFault('bad_boolean', column.name, `not one of ${expected}: ${show(text)}`);
    return value;
  };
}

/** Dates as `YYYY-MM-DD`: the wall-clock date as written (no zone can shift it). */
function dateTyper(column: FormatColumn): Typer<string> {
  const { name, pattern } = column;
  const read = dateReader(pattern);
  return (text) => {
    const reading = read(text);
    if (reading === undefined || !inYearRange(reading.wallMs)) {
      throw columnFault('bad_date', name, `not a date (${pattern ?? 'yyyy-MM-dd'}): ${show(text)}`);
    }
    return new Date(reading.wallMs).toISOString().slice(0, 10);
  };
}

/**
 * Timestamps as UTC ISO instants. A time without an offset is local to `zone`; one that does not exist there
 * (skipped by a daylight-saving jump, which Luxon would silently move forward) is rejected.
 */
function timestampTyper(column: FormatColumn, zone: string): Typer<string> {
  const { name, pattern } = column;
  const read = timestampReader(pattern);
  const offsets = new ZoneOffsets(zone);
  const invalid = (text: string) =>
    columnFault('bad_datetime', name, `not a timestamp (${pattern ?? 'ISO-8601'}): ${show(text)}`);
  return (text) => {
    const reading = read(text);
    if (reading === undefined || !inYearRange(reading.wallMs)) throw invalid(text);
    const { wallMs, offsetMs } = reading;
    const instant = offsetMs === undefined ? offsets.instantOf(wallMs) : wallMs - offsetMs;
    if (instant === undefined) {
      throw columnFault('bad_datetime', name, `${show(text)} does not exist in ${zone} (a daylight-saving gap)`);
    }
    if (!inYearRange(instant)) throw invalid(text);
    return new Date(instant).toISOString();
  };
}
