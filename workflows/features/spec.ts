import { IANAZone } from 'luxon';
/**
 * A feature set is declared once as plain serializable data, like a pipeline: its entity and grain, its columns, the
 * registered warehouse query that computes it, and the label that only training exports carry. The spec travels as
 * workflow input, so an export's history shows exactly which version ran.
 */
export interface FeatureSetSpec {
  /** Stable id (kebab-case): part of export ids and lake keys. Never rename. */
  id: string;
  /** Bumped whenever a column or its computation changes; exports of different versions never share a key. */
  version: number;
  owner: string;
  description: string;
  /**
   * `entity-day`: one row per entity and local calendar day, point-in-time correct as of the end of that day.
   * `events`: the rows of a warehouse dataset as they are (no as-of semantics beyond the export's `asOf`).
   */
  grain: 'entity-day' | 'events';
  /** The entity column (e.g. `machine_id`) and the event-time column (`feature_date` for entity-day sets). */
  entityColumn: string;
  timeColumn: string;
  /** IANA zone of the plant's calendar days (`America/Sao_Paulo`). */
  timeZone: string;
  /** Registered query id (activities/features/queries.ts) that computes the rows. */
  query: string;
  /** Output columns in order; the query returns exactly these (a guard test checks it). */
  columns: FeatureColumn[];
  /** The training label (the last column of training exports only), if the set has one. */
  label?: FeatureColumn & { horizonDays: number };
  /**
   * Where the rows come from, for the manifest's lineage: the pipelines and their warehouse datasets (whose partitions
   * in the range, widened by `lookbackDays` for rolling windows, are listed with the runs that loaded them) and the
   * incremental sources (their last sync at or before the cut-off).
   */
  inputs: { pipelines: string[]; datasets: string[]; lookbackDays: number; sources: string[] };
  /** Largest range one export may cover, in days (bounds the work of one request, not its memory). */
  maxRangeDays: number;
  /** Days of the range exported per activity (progress granularity and retry unit). */
  chunkDays: number;
}

/** Types a feature column can have (they map onto Parquet physical/logical types and CSV text). */
export type FeatureType = 'string' | 'int32' | 'int64' | 'double' | 'boolean' | 'timestamp' | 'date';

/** One output column. */
export interface FeatureColumn {
  name: string;
  type: FeatureType;
  nullable: boolean;
  description: string;
}

/** Formats an export can be written in. */
export type ExportFormat = 'parquet' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['parquet', 'csv'];

const ID = /^[a-z][a-z0-9-]{1,62}$/;
const COLUMN = /^[a-z][a-z0-9_]{0,62}$/;

/** Returns the problems of a feature set spec (empty when valid). */
export function featureSetProblems(spec: FeatureSetSpec): string[] {
  const problems: string[] = [];
  const p = (cond: boolean, msg: string) => cond || problems.push(`${spec.id ?? '?'}: ${msg}`);
  p(ID.test(spec.id), 'id must be kebab-case, 2-63 chars');
  p(Number.isInteger(spec.version) && spec.version > 0, 'version must be a positive integer');
  p(Boolean(spec.owner), 'owner is required');
  p(IANAZone.isValidZone(spec.timeZone), `timeZone: "${spec.timeZone}" is not an IANA time zone`);
  p(spec.columns.length > 0, 'columns must not be empty');
  const names = [...spec.columns, ...(spec.label ? [spec.label] : [])].map((c) => c.name);
  p(
    names.every((n) => COLUMN.test(n)),
    'column names must be snake_case identifiers',
  );
  p(new Set(names).size === names.length, 'column names must be unique');
  p(names.includes(spec.entityColumn), 'entityColumn must be one of the columns');
  p(names.includes(spec.timeColumn), 'timeColumn must be one of the columns');
  p(Number.isInteger(spec.maxRangeDays) && spec.maxRangeDays > 0, 'maxRangeDays must be a positive integer');
  p(Number.isInteger(spec.chunkDays) && spec.chunkDays > 0, 'chunkDays must be a positive integer');
  if (spec.label) p(spec.label.horizonDays > 0, 'label.horizonDays must be positive');
  return problems;
}

/** The columns an export writes: training exports add the label at the end. */
export function exportColumns(spec: FeatureSetSpec, training: boolean): FeatureColumn[] {
  return training && spec.label ? [...spec.columns, spec.label] : spec.columns;
}
