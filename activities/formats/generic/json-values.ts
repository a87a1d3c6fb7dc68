import type { FormatColumn } from '../format.js';
import { columnFault } from './reject.js';
import { checkInteger, emptyValue, textTyper, type Typer, type TypingOptions } from './values.js';

/**
 * Types the JSON value of one field of `column` (`undefined`: the field is absent). Strict: numeric columns take
 * JSON numbers, booleans `true`/`false`, text, dates and timestamps JSON strings (read as in delimited text). Null
 * and `""` are empty values (NULL, or `missing_value` when not nullable); an absent field is NULL unless the column
 * is required and not nullable.
 */
export function jsonColumnTyper(column: FormatColumn, options: TypingOptions): Typer<unknown> {
  const typer = jsonTyper(column, options);
  const mustBePresent = column.required !== false && column.nullable !== true;
  const absent = `field ${column.source ?? column.name} absent`;
  return (value) => {
    if (value === undefined) {
      if (mustBePresent) throw columnFault('missing_value', column.name, absent);
      return null;
    }
    if (value === null || value === '') return emptyValue(column, value === null ? 'null' : 'empty');
    return typer(value);
  };
}

/** Types one present, non-empty JSON value. */
function jsonTyper(column: FormatColumn, options: TypingOptions): Typer<unknown> {
  const { name, type } = column;
  const expect = (wanted: string, value: unknown) =>
    columnFault('bad_type', name, `expected ${wanted}, found ${jsonKind(value)}`);
  switch (type) {
    case 'text':
      return (value) => {
        if (typeof value !== 'string') throw expect('a string', value);
        return value;
      };
    case 'integer':
    case 'bigint':
      return (value) => {
        if (typeof value !== 'number') throw expect('a number', value);
        return checkInteger(name, type, value, String(value));
      };
    case 'decimal':
    case 'double':
      return (value) => {
        if (typeof value !== 'number') throw expect('a number', value);
        return type === 'decimal' ? plainDecimal(value) : value;
      };
    case 'boolean':
      return (value) => {
        if (typeof value !== 'boolean') throw expect('true or false', value);
        return value ? 't' : 'f';
      };
    case 'date':
    case 'timestamp': {
      const fromText = textTyper(column, options);
      return (value) => {
        if (typeof value !== 'string') throw expect('a string', value);
        return fromText(value);
      };
    }
  }
}

/** The JSON kind of a value, for messages: `number 12`, `string`, `object`… */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return `a ${typeof value}`;
}

/** A number in plain `.` notation (`1e-7` → `0.0000001`, `1e21` → `1000000000000000000000`). */
export function plainDecimal(n: number): string {
  const text = String(n);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const sign = n < 0 ? '-' : '';
  const [int = '', fraction = ''] = text.slice(sign.length, e).split('.');
  const digits = int + fraction;
  const point = int.length + Number(text.slice(e + 1));
  return point <= 0 ? `${sign}0.${'0'.repeat(-point)}${digits}` : `${sign}${digits.padEnd(point, '0')}`;
}
