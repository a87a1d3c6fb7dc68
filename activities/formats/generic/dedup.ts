import type { ColumnType, GenericFormatBase, GenericValue } from '../format.js';
import { isNull } from './rules.js';

/** A valid, typed row and the line it came from. */
export interface TypedRow {
  lineNo: number;
  values: GenericValue[];
}

/** Applies a format's dedup policy to the valid rows of one file. */
export interface Deduplicator {
  /** The row to emit now; undefined when it is a duplicate or is held until {@link flush}. */
  offer(row: TypedRow): TypedRow | undefined;
  /** The rows held until the end of the file, in line order. */
  flush(): TypedRow[];
  /** Valid rows dropped so far. */
  readonly duplicates: number;
}

/** The key of a row: the value itself for one key column, else the values' JSON (exact, typed). */
type KeyOf = (values: readonly GenericValue[]) => GenericValue;

/** The deduplicator of a format (one that keeps every row when it has no policy). */
export function deduplicator(config: GenericFormatBase): Deduplicator {
  const { dedup, columns } = config;
  if (!dedup) return new KeepAll();
  const index = (name: string) => columns.findIndex((c) => c.name === name);
  const keys = dedup.key.map(index);
  const keyOf: KeyOf =
    keys.length === 1 ? (values) => values[keys[0]!] : (values) => JSON.stringify(keys.map((i) => values[i]));
  if (dedup.keep === 'first') return new KeepFirst(keyOf);
  const by = index(dedup.by!);
  return new KeepLatest(keyOf, by, comparator(columns[by]!.type));
}

/** No policy: every row is emitted at once. */
class KeepAll implements Deduplicator {
  readonly duplicates = 0;

  /** The row itself. */
  offer(row: TypedRow): TypedRow {
    return row;
  }

  /** Nothing is held. */
  flush(): TypedRow[] {
    return [];
  }
}

/** `first`: streams each key's first row and remembers only the keys. */
class KeepFirst implements Deduplicator {
  duplicates = 0;
  private readonly seen = new Set<GenericValue>();

  constructor(private readonly keyOf: KeyOf) {}

  /** The row when its key is new; a duplicate otherwise. */
  offer(row: TypedRow): TypedRow | undefined {
    const key = this.keyOf(row.values);
    if (this.seen.has(key)) {
      this.duplicates++;
      return undefined;
    }
    this.seen.add(key);
    return row;
  }

  /** Nothing is held. */
  flush(): TypedRow[] {
    return [];
  }
}

/** `latest`: holds each key's row with the greatest `by` value (ties: the later line) until the end of the file. */
class KeepLatest implements Deduplicator {
  duplicates = 0;
  private readonly kept = new Map<GenericValue, TypedRow>();

  constructor(
    private readonly keyOf: KeyOf,
    private readonly by: number,
    private readonly compare: Comparator,
  ) {}

  /** Holds the row when it is its key's latest so far; either way nothing is emitted yet. */
  offer(row: TypedRow): undefined {
    const key = this.keyOf(row.values);
    const kept = this.kept.get(key);
    if (kept !== undefined) {
      this.duplicates++;
      if (this.compare(row.values[this.by], kept.values[this.by]) < 0) return undefined;
    }
    this.kept.set(key, row);
    return undefined;
  }

  /** The kept rows, in line order. */
  flush(): TypedRow[] {
    return [...this.kept.values()].sort((a, b) => a.lineNo - b.lineNo);
  }
}

/** Orders two values of one column; NULL comes first. */
type Comparator = (a: GenericValue, b: GenericValue) => number;

/** The order of a column type's values: numeric, exact decimal, or by text (ISO dates and instants sort as text). */
function comparator(type: ColumnType): Comparator {
  const compare: (a: GenericValue, b: GenericValue) => number =
    type === 'integer' || type === 'bigint' || type === 'double'
      ? (a, b) => Number(a) - Number(b)
      : type === 'decimal'
        ? (a, b) => compareDecimals(String(a), String(b))
        : (a, b) => compareText(String(a), String(b));
  return (a, b) => (isNull(a) || isNull(b) ? Number(!isNull(a)) - Number(!isNull(b)) : compare(a, b));
}

/** Compares two strings by code unit. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two decimals in plain `.` notation (`-12.50`) exactly. */
export function compareDecimals(a: string, b: string): number {
  const x = decimalParts(a);
  const y = decimalParts(b);
  if (x.sign !== y.sign) return x.sign - y.sign;
  const magnitude = x.int.length - y.int.length || compareText(x.int, y.int) || compareText(x.fraction, y.fraction);
  return x.sign * magnitude;
}

/** A decimal's sign (-1, 0, 1), integer digits without leading zeros and fraction digits without trailing zeros. */
function decimalParts(text: string): { sign: number; int: string; fraction: string } {
  const negative = text.startsWith('-');
  const [int = '', fraction = ''] = text.slice(negative ? 1 : 0).split('.');
  const parts = { int: int.replace(/^0+/, ''), fraction: fraction.replace(/0+$/, '') };
  const zero = parts.int === '' && parts.fraction === '';
  return { sign: zero ? 0 : negative ? -1 : 1, ...parts };
}
