import type { SourceColumn, SourceSpec } from '../../workflows/sources/spec.js';
import { PayloadInvalidError } from '../failures.js';

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const INTEGER = /^-?\d{1,19}$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const INT4 = 2 ** 31;

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * An ISO-8601 instant with an explicit offset (`Z` or `±hh:mm`) in the canonical form the sources use everywhere:
 * UTC with microseconds, `2026-11-20T13:00:00.123456Z` (so positions compare as strings); undefined when invalid.
 */
export function canonicalInstant(text: string): string | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  // Date.parse rolls impossible dates over (Feb 30 → Mar 2): check the wall-clock fields round-trip.
  const wall = `${m[1]}.000Z`;
  if (Number.isNaN(Date.parse(wall)) || new Date(Date.parse(wall)).toISOString() !== wall) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(ms)) return undefined;
  const micros = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return `${new Date(ms).toISOString().slice(0, 19)}.${micros}Z`;
}

/** Fails the sync naming the source, the place and the field. */
function invalid(spec: SourceSpec, where: string, column: SourceColumn, problem: string): never {
  throw new PayloadInvalidError(`${spec.id}: ${where}: field "${column.name}" ${problem}`, {
    source: spec.id,
    where,
    field: column.name,
  });
}

/** Checks a value read as text from a source database (types are the database's; nullability and values are ours). */
export function checkDatabaseValue(spec: SourceSpec, column: SourceColumn, value: string | null, where: string): void {
  if (value === null) {
    if (!column.nullable) invalid(spec, where, column, 'is null');
    return;
  }
  if (column.values && !column.values.includes(value))
    invalid(spec, where, column, `must be one of ${column.values.join(', ')}, got ${preview(value)}`);
}

/**
 * Validates one field of an HTTP item against its column and returns its COPY text value (null for SQL NULL).
 * Numbers may come as JSON numbers or decimal strings; instants must carry an offset.
 */
export function jsonFieldAsText(
  spec: SourceSpec,
  column: SourceColumn,
  item: Readonly<Record<string, unknown>>,
  where: string,
): string | null {
  const value = item[column.name];
  if (value === undefined || value === null) {
    if (column.nullable) return null;
    return invalid(spec, where, column, value === undefined ? 'is missing' : 'is null');
  }
  switch (column.type) {
    case 'text':
      if (typeof value !== 'string') return invalid(spec, where, column, `must be a string, got ${preview(value)}`);
      if (column.values && !column.values.includes(value))
        invalid(spec, where, column, `must be one of ${column.values.join(', ')}, got ${preview(value)}`);
      return value;
    case 'bigint':
    case 'integer': {
      const ok =
        (typeof value === 'number' && Number.isSafeInteger(value)) ||
        (typeof value === 'string' && INTEGER.test(value));
      const n = Number(value);
      if (!ok || (column.type === 'integer' && (n < -INT4 || n >= INT4)))
        return invalid(spec, where, column, `must be an integer (${column.type}), got ${preview(value)}`);
      return String(value);
    }
    case 'numeric':
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value === 'string' && DECIMAL.test(value)) return value;
      return invalid(spec, where, column, `must be a number, got ${preview(value)}`);
    case 'double precision':
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      return invalid(spec, where, column, `must be a number, got ${preview(value)}`);
    case 'boolean':
      if (typeof value === 'boolean') return String(value);
      return invalid(spec, where, column, `must be true or false, got ${preview(value)}`);
    case 'timestamptz': {
      const instant = typeof value === 'string' ? canonicalInstant(value) : undefined;
      if (instant === undefined)
        return invalid(spec, where, column, `must be an ISO-8601 instant with an offset, got ${preview(value)}`);
      return instant;
    }
  }
}
