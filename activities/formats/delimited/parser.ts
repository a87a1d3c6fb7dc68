import { ContractBrokenError } from '../../failures.js';
import type { DelimitedFormatConfig, GenericEvent, GenericParseOptions, GenericValue } from '../format.js';
import { lineDecoder, type LineDecoder } from '../generic/encoding.js';
import { show } from '../generic/reject.js';
import { RowStage } from '../generic/rows.js';
import { DEFAULT_MAX_LINE_BYTES, parseLines, type GenericSource, type LineParser } from '../generic/stream.js';
import { assertGenericFormat } from '../generic/validate.js';
import { textColumnTyper } from '../generic/values.js';

/** How the header maps the file's fields to the declared columns. */
interface Layout {
  /** Column names in header order. */
  columns: string[];
  /** Header columns the config does not declare. */
  extraColumns: string[];
  /** Types a data line's fields into values in the config's column order. */
  typeRow: (fields: string[]) => GenericValue[];
}

/**
 * Splits a line into fields, RFC 4180 style: a field starting with `quote` may hold the delimiter and doubled
 * quotes. Undefined when the quoting is malformed (an unclosed quote, or text after a closing quote); a quote inside
 * an unquoted field is an ordinary character.
 */
export function splitFields(text: string, delimiter: string, quote: string): string[] | undefined {
  if (!text.includes(quote)) return text.split(delimiter);
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] !== quote) {
      const next = text.indexOf(delimiter, i);
      fields.push(text.slice(i, next < 0 ? undefined : next));
      if (next < 0) return fields;
      i = next + 1;
      continue;
    }
    let value = '';
    for (let from = i + 1; ;) {
      const close = text.indexOf(quote, from);
      if (close < 0) return undefined;
      value += text.slice(from, close);
      if (text[close + 1] !== quote) {
        i = close + 1;
        break;
      }
      value += quote;
      from = close + 2;
    }
    fields.push(value);
    if (i === text.length) return fields;
    if (text[i] !== delimiter) return undefined;
    i++;
  }
}

/**
 * Streams a delimited text file (CSV-like, configured by data): yields `columns` once the header is read, then one
 * `row` or `rejected` event per data line (a `latest` dedup policy holds the rows until the end), and `end` with the
 * summary. Chunks may be cut anywhere; memory is bounded by the longest line (plus the held rows).
 *
 * Throws {@link ContractBrokenError} for an empty file or no header, a required column missing or renamed, an
 * extra column when `extraColumns` is `reject`, a repeated column, or a line over `maxLineBytes`.
 */
export async function* parseDelimitedFile(
  source: GenericSource,
  config: DelimitedFormatConfig,
  options: GenericParseOptions,
): AsyncGenerator<GenericEvent, void, undefined> {
  assertGenericFormat(config);
  const { fileName } = options;
  const maxLineBytes = config.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  yield* parseLines(source, new DelimitedParser(config, fileName), {
    fileName,
    maxLineBytes,
    utf8: config.encoding === 'utf-8',
  });
}

/** The delimited state machine: the first non-blank line is the header, the others data lines. */
class DelimitedParser implements LineParser {
  private layout: Layout | undefined;
  private readonly decode: LineDecoder;
  private readonly quote: string;
  private readonly stage: RowStage;

  constructor(
    private readonly config: DelimitedFormatConfig,
    private readonly fileName: string,
  ) {
    this.decode = lineDecoder(config.encoding);
    this.quote = config.quote ?? '"';
    this.stage = new RowStage(config, fileName);
  }

  /** The header line, or a data line: split, counted against the header, typed and checked. */
  line(lineNo: number, bytes: Buffer): GenericEvent | undefined {
    const text = this.decode(bytes);
    if (!this.layout) return this.header(lineNo, text);
    if (text === undefined) {
      return this.stage.reject(lineNo, 'bad_encoding', 'not valid UTF-8', bytes.toString('latin1'));
    }
    const fields = splitFields(text, this.config.delimiter, this.quote);
    if (!fields) {
      const why = `malformed quoting (an unclosed ${this.quote} or text after a closing one)`;
      return this.stage.reject(lineNo, 'field_count', why, text);
    }
    const expected = this.layout.columns.length;
    if (fields.length !== expected) {
      return this.stage.reject(lineNo, 'field_count', `expected ${expected} fields, found ${fields.length}`, text);
    }
    return this.stage.line(lineNo, text, fields, this.layout.typeRow);
  }

  /** The held rows and the summary; a file without a header breaks the contract. */
  finish(bytes: number): Iterable<GenericEvent> {
    if (!this.layout) throw this.broken(bytes === 0 ? 'empty file' : 'no header line (only blank lines)', 1);
    const { columns, extraColumns } = this.layout;
    return this.stage.finish({ columns, extraColumns, encoding: this.config.encoding, bytes });
  }

  /** Reads the header line into the layout; emits `columns`. */
  private header(lineNo: number, text: string | undefined): GenericEvent {
    if (text === undefined) throw this.broken('the header line is not valid UTF-8', lineNo);
    const columns = splitFields(text, this.config.delimiter, this.quote);
    if (!columns) throw this.broken(`malformed header line: ${show(text)}`, lineNo);
    this.layout = this.mapColumns(columns, lineNo);
    return { kind: 'columns', columns, extraColumns: this.layout.extraColumns };
  }

  /**
   * Maps the header's columns to the declared ones by name. A required column missing (removed or renamed), a
   * repeated column, or an extra one when extras are rejected breaks the contract.
   */
  private mapColumns(columns: string[], lineNo: number): Layout {
    const declared = this.config.columns;
    const sources = declared.map((c) => c.source ?? c.name);
    const known = new Set(sources);
    const missing = declared.filter((c) => c.required !== false && !columns.includes(c.source ?? c.name));
    const unexpected = columns.filter((c) => !known.has(c));
    const repeated = [...new Set(columns.filter((c, i) => columns.indexOf(c) !== i))];
    const rejectExtra = this.config.extraColumns === 'reject' && unexpected.length > 0;
    if (missing.length > 0 || repeated.length > 0 || rejectExtra) {
      const missingColumns = missing.map((c) => c.source ?? c.name);
      const names = (list: string[]) => list.map((n) => (n === '' ? '""' : n)).join(', ');
      const parts = [
        missingColumns.length > 0 ? `missing column(s) ${names(missingColumns)}` : '',
        unexpected.length > 0 ? `unexpected column(s) ${names(unexpected)}` : '',
        repeated.length > 0 ? `repeated column(s) ${names(repeated)}` : '',
      ].filter((p) => p !== '');
      throw this.broken(`breaking schema change: ${parts.join('; ')}`, lineNo, {
        columns,
        missingColumns,
        unexpectedColumns: unexpected,
        repeatedColumns: repeated,
      });
    }
    const index = sources.map((s) => columns.indexOf(s));
    const decimal = this.config.decimal ?? '.';
    const typers = declared.map((c) => textColumnTyper(c, { timeZone: this.config.timeZone, decimal }));
    const typeRow = (fields: string[]) => index.map((at, i) => (at < 0 ? null : typers[i]!(fields[at]!)));
    return { columns, extraColumns: unexpected, typeRow };
  }

  /** A contract break of this file, its message naming the file. */
  private broken(why: string, line: number, details: Record<string, unknown> = {}): ContractBrokenError {
    const { fileName } = this;
    return new ContractBrokenError(`${fileName}: ${why}`, { fileName, line, ...details });
  }
}
