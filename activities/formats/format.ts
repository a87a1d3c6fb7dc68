import type { CopyValue } from './copy-text.js';

/**
 * The generic file formats (delimited text, JSON Lines) are configured by data: a format config is plain JSON that
 * travels in the pipeline spec. A parser turns one landed file into typed rows (values in the config's column order,
 * ready for COPY text) and quarantined rows with their reasons, or throws `ContractBrokenError` when the file as a
 * whole breaks its contract (a required column missing or renamed).
 */

/** Types a declared column can have; each maps to one PostgreSQL type (see `PG_TYPES`). */
export type ColumnType = 'text' | 'integer' | 'bigint' | 'decimal' | 'double' | 'boolean' | 'date' | 'timestamp';

/** The PostgreSQL type of each column type (the staged table's and the datasets' columns). */
export const PG_TYPES: Readonly<Record<ColumnType, string>> = {
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  decimal: 'numeric',
  double: 'double precision',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamp with time zone',
};

/** One column a format reads. */
export interface FormatColumn {
  /** Name in the staged rows (snake_case). */
  name: string;
  /** Name in the file's header line (delimited) or the JSON field (JSON Lines); default `name`. */
  source?: string;
  type: ColumnType;
  /** The column must be in the file (a missing or renamed one breaks the whole file). Default true. */
  required?: boolean;
  /** An empty value (or JSON null / absent field) is allowed and stored as NULL. Default false. */
  nullable?: boolean;
  /**
   * For `date` and `timestamp` read from text: a Luxon format such as `dd/MM/yyyy HH:mm`, read in the format's
   * `timeZone`; default ISO-8601 (a timestamp without an offset is read in `timeZone`).
   */
  pattern?: string;
  /** For `boolean` read from text: the true and false spellings; default `true`/`false`. */
  booleanValues?: { true: string[]; false: string[] };
}

/** Row-level rules, checked after typing; a violating row is quarantined with the rule's reason. */
export type RowRule =
  | { kind: 'range'; column: string; min?: number; max?: number }
  | { kind: 'allowed'; column: string; values: string[] }
  | { kind: 'requiredWhen'; column: string; when: { column: string; in: string[] } }
  | { kind: 'emptyUnless'; column: string; when: { column: string; in: string[] } };

/**
 * What to do with rows that share a key: `first` keeps the first line; `latest` keeps the row with the greatest
 * `by` value (ties: the later line). Every other row with the key counts as a duplicate (not quarantined).
 */
export interface DedupPolicy {
  key: string[];
  keep: 'first' | 'latest';
  by?: string;
}

/** Options common to the generic formats. */
export interface GenericFormatBase {
  columns: FormatColumn[];
  /** IANA zone local dates and times are read in, e.g. `America/Sao_Paulo`. */
  timeZone: string;
  /** Columns in the file that are not declared: `accept` (ignored, recorded in the summary) or `reject` (breaks the file). */
  extraColumns?: 'accept' | 'reject';
  rules?: RowRule[];
  dedup?: DedupPolicy;
  /** Longest accepted line in bytes (bounds memory); a longer line breaks the contract. Default 1 MiB. */
  maxLineBytes?: number;
}

/** A delimited text format (CSV-like), configured by data. */
export interface DelimitedFormatConfig extends GenericFormatBase {
  kind: 'delimited';
  /** One character, e.g. `;` or `,` or `\t`. */
  delimiter: string;
  /** Quote character (RFC 4180 style, doubled to escape); default `"`. */
  quote?: string;
  /** The first line names the columns (mapping is by name, never by position). Only `true` is supported. */
  header: true;
  encoding: 'utf-8' | 'windows-1252' | 'iso-8859-1';
  /** Decimal separator of numbers: `.` (default) or `,` (then `.` is not accepted as a thousands separator). */
  decimal?: '.' | ',';
}

/** A JSON Lines format: one JSON object per line, declared fields and types. */
export interface JsonLinesFormatConfig extends GenericFormatBase {
  kind: 'jsonl';
}

/** A generic format config. */
export type GenericFormatConfig = DelimitedFormatConfig | JsonLinesFormatConfig;

/** Why a row was quarantined. */
export type GenericRejectReason =
  | 'field_count'
  | 'bad_encoding'
  | 'bad_json'
  | 'bad_type'
  | 'bad_number'
  | 'bad_datetime'
  | 'bad_date'
  | 'bad_boolean'
  | 'missing_value'
  | 'unexpected_value'
  | 'bad_value'
  | 'out_of_range';

/** A quarantined line. */
export interface GenericRejected {
  /** 1-based line number in the file (the header is line 1 of a delimited file). */
  lineNo: number;
  reason: GenericRejectReason;
  column?: string;
  /** Message naming file, line and column, e.g. `inspections_20261120.csv:57: column peso_g: not a number: "12,x"`. */
  detail: string;
  /** The line as read (without its line break), decoded with the file's encoding. */
  raw: string;
}

/** What a parsed file held; the `end` event's payload. */
export interface GenericSummary {
  /** Columns as named in the file (header order); for JSON Lines the union of keys seen. */
  columns: string[];
  /** Columns in the file that the config does not declare (accepted and recorded). */
  extraColumns: string[];
  encoding: string;
  /** Data lines read (header and blank lines excluded), bad ones included. */
  dataLines: number;
  /** Rows emitted (after dedup). */
  goodRows: number;
  rejectedRows: number;
  rejectedByReason: Partial<Record<GenericRejectReason, number>>;
  /** Valid rows dropped by the dedup policy. */
  duplicateRows: number;
  bytes: number;
}

/** What a generic parser emits: rows and rejects (in any order), then one `end`. */
export type GenericEvent =
  | { kind: 'columns'; columns: string[]; extraColumns: string[] }
  | { kind: 'row'; lineNo: number; values: CopyValue[] }
  | { kind: 'rejected'; rejected: GenericRejected }
  | { kind: 'end'; summary: GenericSummary };

/** Options of a parse. */
export interface GenericParseOptions {
  /** File name used in every message. */
  fileName: string;
}

/**
 * How the values of a row are represented in `values` (the config's column order, ready for `encodeCopyRow`):
 * text → string; integer, bigint, double → number; decimal → string in plain `.` notation (exact, e.g. `12.50`
 * stays `12.50`); boolean → `'t'` / `'f'`; date → `YYYY-MM-DD`; timestamp → ISO instant in UTC
 * (`2026-11-20T13:05:00.000Z`); NULL → null.
 */
export type GenericValue = CopyValue;
