import { IANAZone } from 'luxon';
import {
  PG_TYPES,
  type ColumnType,
  type DedupPolicy,
  type DelimitedFormatConfig,
  type FormatColumn,
  type GenericFormatConfig,
  type RowRule,
} from '../format.js';
import { show } from './reject.js';

/** Records one problem at a path of the config. */
type Report = (path: string, message: string) => void;

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const NUMERIC: ReadonlySet<string> = new Set<ColumnType>(['integer', 'bigint', 'decimal', 'double']);
const ENCODINGS: ReadonlySet<string> = new Set<DelimitedFormatConfig['encoding']>([
  'utf-8',
  'windows-1252',
  'iso-8859-1',
]);

/**
 * The problems of a format config (plain JSON, so every field is checked), each naming the field at fault, e.g.
 * `columns[3].type: unknown type "decimall"`; empty when the config is valid.
 */
export function genericFormatProblems(config: GenericFormatConfig): string[] {
  const problems: string[] = [];
  const report: Report = (path, message) => problems.push(`${path}: ${message}`);
  if (!isObject(config)) return ['config: must be an object'];
  const kind: unknown = config.kind;
  if (config.kind === 'delimited') delimitedProblems(config, report);
  else if (kind !== 'jsonl') report('kind', `unknown kind ${show(kind)} (expected "delimited" or "jsonl")`);
  const columns = columnsProblems(config.columns, report);
  if (!IANAZone.isValidZone(config.timeZone)) report('timeZone', `not an IANA time zone: ${show(config.timeZone)}`);
  if (config.extraColumns !== undefined && config.extraColumns !== 'accept' && config.extraColumns !== 'reject') {
    report('extraColumns', `must be "accept" or "reject", found ${show(config.extraColumns)}`);
  }
  if (config.maxLineBytes !== undefined && !(Number.isSafeInteger(config.maxLineBytes) && config.maxLineBytes > 0)) {
    report('maxLineBytes', `must be a positive integer, found ${show(config.maxLineBytes)}`);
  }
  rulesProblems(config.rules, columns, report);
  dedupProblems(config.dedup, columns, report);
  return problems;
}

/** Throws when a config has problems: a parser never runs with an invalid one. */
export function assertGenericFormat(config: GenericFormatConfig): void {
  const problems = genericFormatProblems(config);
  if (problems.length > 0) throw new Error(`invalid format config: ${problems.join('; ')}`);
}

/** Checks the delimited-only fields. */
function delimitedProblems(config: DelimitedFormatConfig, report: Report): void {
  const { delimiter, quote = '"' } = config;
  if (!isOneCharacter(delimiter))
    report('delimiter', `must be one character (not a line break), found ${show(delimiter)}`);
  if (!isOneCharacter(quote)) report('quote', `must be one character (not a line break), found ${show(quote)}`);
  else if (quote === delimiter) report('quote', `must differ from the delimiter ${show(delimiter)}`);
  if (config.header !== true) report('header', 'only true is supported (columns are mapped by name)');
  if (!ENCODINGS.has(config.encoding)) {
    report('encoding', `unknown encoding ${show(config.encoding)} (expected ${[...ENCODINGS].join(', ')})`);
  }
  if (config.decimal !== undefined && config.decimal !== '.' && config.decimal !== ',') {
    report('decimal', `must be "." or ",", found ${show(config.decimal)}`);
  }
}

/** Checks the columns; returns the type of each well-named column. */
function columnsProblems(columns: FormatColumn[], report: Report): Map<string, ColumnType> {
  const declared = new Map<string, ColumnType>();
  if (!Array.isArray(columns) || columns.length === 0) {
    report('columns', 'must be a non-empty array');
    return declared;
  }
  const sources = new Set<string>();
  columns.forEach((column, i) => {
    const at = `columns[${i}]`;
    if (!isObject(column)) return report(at, 'must be an object');
    if (typeof column.name !== 'string' || !NAME.test(column.name)) {
      report(`${at}.name`, `${show(column.name)} is not a snake_case name of at most 63 characters`);
    } else if (declared.has(column.name)) {
      report(`${at}.name`, `${show(column.name)} is declared twice`);
    } else {
      declared.set(column.name, column.type);
    }
    const source = column.source ?? column.name;
    if (typeof source !== 'string' || source === '') report(`${at}.source`, 'must be a non-empty string');
    else if (sources.has(source)) report(`${at}.source`, `${show(source)} is read by two columns`);
    sources.add(source);
    columnProblems(column, at, report);
  });
  return declared;
}

/** Checks one column's type and type-specific options. */
function columnProblems(column: FormatColumn, at: string, report: Report): void {
  const { type, pattern, booleanValues } = column;
  if (!Object.hasOwn(PG_TYPES, type)) report(`${at}.type`, `unknown type ${show(type)}`);
  for (const flag of ['required', 'nullable'] as const) {
    if (column[flag] !== undefined && typeof column[flag] !== 'boolean')
      report(`${at}.${flag}`, 'must be true or false');
  }
  if (pattern !== undefined) {
    if (type !== 'date' && type !== 'timestamp')
      report(`${at}.pattern`, 'only date and timestamp columns take a pattern');
    else if (typeof pattern !== 'string' || pattern === '') report(`${at}.pattern`, 'must be a Luxon format');
  }
  if (booleanValues !== undefined) {
    if (type !== 'boolean') report(`${at}.booleanValues`, 'only boolean columns take booleanValues');
    else if (!isObject(booleanValues) || !isWordList(booleanValues.true) || !isWordList(booleanValues.false)) {
      report(`${at}.booleanValues`, 'must be { true: [...], false: [...] } with non-empty strings');
    } else if (booleanValues.true.some((s) => booleanValues.false.includes(s))) {
      report(`${at}.booleanValues`, 'a spelling cannot be both true and false');
    }
  }
}

/** Checks the row rules against the declared columns. */
function rulesProblems(rules: RowRule[] | undefined, columns: Map<string, ColumnType>, report: Report): void {
  if (rules === undefined) return;
  if (!Array.isArray(rules)) return report('rules', 'must be an array');
  rules.forEach((rule, i) => {
    const at = `rules[${i}]`;
    if (!isObject(rule)) return report(at, 'must be an object');
    const kind: unknown = rule.kind;
    columnReference(`${at}.column`, rule.column, columns, report);
    switch (rule.kind) {
      case 'range':
        return rangeProblems(rule, at, columns, report);
      case 'allowed':
        if (!isWordList(rule.values)) report(`${at}.values`, 'must be a non-empty array of strings');
        return;
      case 'requiredWhen':
      case 'emptyUnless':
        if (!isObject(rule.when)) return report(`${at}.when`, 'must be { column, in: [...] }');
        columnReference(`${at}.when.column`, rule.when.column, columns, report);
        if (!isWordList(rule.when.in)) report(`${at}.when.in`, 'must be a non-empty array of strings');
        return;
      default:
        report(`${at}.kind`, `unknown rule ${show(kind)} (expected range, allowed, requiredWhen or emptyUnless)`);
    }
  });
}

/** Checks a range rule: a numeric column and numeric bounds. */
function rangeProblems(
  rule: Extract<RowRule, { kind: 'range' }>,
  at: string,
  columns: Map<string, ColumnType>,
  report: Report,
): void {
  const type = columns.get(rule.column);
  if (type !== undefined && !NUMERIC.has(type)) report(`${at}.column`, `a range needs a numeric column, not ${type}`);
  const { min, max } = rule;
  if (min === undefined && max === undefined) report(at, 'a range needs min, max or both');
  if (min !== undefined && !Number.isFinite(min)) report(`${at}.min`, `must be a number, found ${show(min)}`);
  if (max !== undefined && !Number.isFinite(max)) report(`${at}.max`, `must be a number, found ${show(max)}`);
  if (min !== undefined && max !== undefined && min > max) report(at, `min ${min} is greater than max ${max}`);
}

/** Checks the dedup policy against the declared columns. */
function dedupProblems(dedup: DedupPolicy | undefined, columns: Map<string, ColumnType>, report: Report): void {
  if (dedup === undefined) return;
  if (!isObject(dedup)) return report('dedup', 'must be { key: [...], keep, by? }');
  if (!isWordList(dedup.key)) report('dedup.key', 'must be a non-empty array of column names');
  else dedup.key.forEach((name, i) => columnReference(`dedup.key[${i}]`, name, columns, report));
  if (dedup.keep === 'latest') {
    if (dedup.by === undefined) report('dedup.by', 'required when keep is "latest"');
    else columnReference('dedup.by', dedup.by, columns, report);
  } else if (dedup.keep !== 'first') {
    report('dedup.keep', `must be "first" or "latest", found ${show(dedup.keep)}`);
  } else if (dedup.by !== undefined) {
    report('dedup.by', 'only keep "latest" takes a by column');
  }
}

/** Checks that a rule or policy names a declared column. */
function columnReference(path: string, name: unknown, columns: Map<string, ColumnType>, report: Report): void {
  if (typeof name !== 'string' || !columns.has(name)) report(path, `${show(name)} is not a declared column`);
}

/** Whether a value is one character that is not a line break. */
function isOneCharacter(value: unknown): boolean {
  return typeof value === 'string' && value.length === 1 && value !== '\n' && value !== '\r';
}

/** Whether a value is a non-empty array of non-empty strings (an empty value is NULL, never compared). */
function isWordList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((s) => typeof s === 'string' && s !== '');
}

/** Whether a value is a non-null, non-array object. */
function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
