import type { GenericEvent, GenericParseOptions, GenericValue, JsonLinesFormatConfig } from '../format.js';
import { decodeUtf8 } from '../generic/encoding.js';
import { jsonColumnTyper } from '../generic/json-values.js';
import { show } from '../generic/reject.js';
import { RowStage } from '../generic/rows.js';
import { DEFAULT_MAX_LINE_BYTES, parseLines, type GenericSource, type LineParser } from '../generic/stream.js';
import { assertGenericFormat } from '../generic/validate.js';

/** A parsed JSON object (own keys only, as `JSON.parse` builds it). */
type JsonObject = Record<string, unknown>;

/**
 * Streams a JSON Lines file (UTF-8, one JSON object per line): yields `columns` (the declared field names) first,
 * then one `row` or `rejected` event per data line (a `latest` dedup policy holds the rows until the end), and `end`
 * with the summary, whose `columns` are the keys seen. Undeclared keys are recorded as extra columns, or quarantine
 * their row (`unexpected_value`) when `extraColumns` is `reject`. Throws {@link ContractBrokenError} for a line
 * over `maxLineBytes`.
 */
export async function* parseJsonLinesFile(
  source: GenericSource,
  config: JsonLinesFormatConfig,
  options: GenericParseOptions,
): AsyncGenerator<GenericEvent, void, undefined> {
  assertGenericFormat(config);
  const { fileName } = options;
  const parser = new JsonLinesParser(config, fileName);
  yield { kind: 'columns', columns: parser.sources, extraColumns: [] };
  yield* parseLines(source, parser, {
    fileName,
    maxLineBytes: config.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    utf8: true,
  });
}

/** Parses a line as a JSON object; otherwise says why it is not one. */
function parseObject(text: string): { object: JsonObject } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `not JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: `not a JSON object: ${show(text)}` };
  }
  return { object: value as JsonObject };
}

/** The JSON Lines state machine: each non-blank line is one object. */
class JsonLinesParser implements LineParser {
  /** Declared field names, in the config's column order. */
  readonly sources: string[];
  private readonly declared: ReadonlySet<string>;
  private readonly seen = new Set<string>();
  private readonly columns: string[] = [];
  private readonly extraColumns: string[] = [];
  private readonly rejectExtra: boolean;
  private readonly stage: RowStage;
  private readonly typeObject: (object: JsonObject) => GenericValue[];

  constructor(config: JsonLinesFormatConfig, fileName: string) {
    this.sources = config.columns.map((c) => c.source ?? c.name);
    this.declared = new Set(this.sources);
    this.rejectExtra = config.extraColumns === 'reject';
    this.stage = new RowStage(config, fileName);
    const typers = config.columns.map((c) => jsonColumnTyper(c, { timeZone: config.timeZone, decimal: '.' }));
    const { sources } = this;
    this.typeObject = (object) => typers.map((type, i) => type(fieldOf(object, sources[i]!)));
  }

  /** One object: decoded, parsed, its keys recorded, typed and checked. */
  line(lineNo: number, bytes: Buffer): GenericEvent | undefined {
    const text = decodeUtf8(bytes);
    if (text === undefined) {
      return this.stage.reject(lineNo, 'bad_encoding', 'not valid UTF-8', bytes.toString('latin1'));
    }
    const parsed = parseObject(text);
    if ('error' in parsed) return this.stage.reject(lineNo, 'bad_json', parsed.error, text);
    const extra = this.undeclaredKey(parsed.object);
    if (extra !== undefined && this.rejectExtra) {
      return this.stage.reject(lineNo, 'unexpected_value', `unexpected field ${show(extra)}`, text, extra);
    }
    return this.stage.line(lineNo, text, parsed.object, this.typeObject);
  }

  /** The held rows and the summary, with the keys seen. */
  finish(bytes: number): Iterable<GenericEvent> {
    return this.stage.finish({ columns: this.columns, extraColumns: this.extraColumns, encoding: 'utf-8', bytes });
  }

  /** Records the object's keys (first seen first); returns its first undeclared key, if any. */
  private undeclaredKey(object: JsonObject): string | undefined {
    let undeclared: string | undefined;
    for (const key in object) {
      const known = this.declared.has(key);
      if (!this.seen.has(key)) {
        this.seen.add(key);
        this.columns.push(key);
        if (!known && !this.rejectExtra) this.extraColumns.push(key);
      }
      if (!known) undeclared ??= key;
    }
    return undeclared;
  }
}

/** An own field of a parsed object (never one inherited, such as `constructor`); undefined when absent. */
function fieldOf(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}
