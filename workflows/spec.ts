import type { GenericFormatConfig } from '../activities/formats/format.js';
import { partitioningProblems, type Partitioning } from './partitions.js';

export type { Partitioning } from './partitions.js';

/**
 * A pipeline is declared once as plain serializable data. The spec travels as workflow input, so Temporal's history
 * shows exactly what ran, and editing a spec never changes a run already in flight.
 */
export interface PipelineSpec {
  /** Stable id (kebab-case): part of workflow ids, lake keys and the catalog. Never rename. */
  id: string;
  /** Bumped when the spec changes meaningfully; recorded with every run. */
  version: number;
  owner: string;
  description: string;
  partitioning: Partitioning;
  source: LandingFilesSource;
  staging: StagingSpec;
  /**
   * Transforms applied to one partition, in order: registered ids (TypeScript functions, activities/transforms) or
   * SQL models declared inline (run in the publishing transaction over the partition's staged rows).
   */
  transforms: TransformRef[];
  /** Warehouse datasets the load publishes, each replaced atomically per partition (declared in the dataset registry). */
  load: { datasets: string[] };
  /** Serving outputs, refreshed after a successful load. */
  serve: ServeOutput[];
  /** Freshness service level. */
  freshness: { maxStalenessMinutes: number };
  /** Temporal Schedules created for the pipeline at worker start-up (absent: none). */
  schedule?: ScheduleSpec;
  /** Quality and processing rules. */
  quality: QualityRules;
}

/**
 * Where a step runs: `cloud` (default) on the workers that run the workflows and reach the warehouse (task queue
 * `FABRICA_TASK_QUEUE`), `edge` on the plant's workers (task queue `<FABRICA_TASK_QUEUE>-edge`), which reach the
 * plant's folders and databases and dial out to Temporal and the lake only. One process runs both by default.
 */
export type Placement = 'cloud' | 'edge';

/** Files dropped in the landing area (a folder or an S3 prefix). */
export interface LandingFilesSource {
  kind: 'landing-files';
  /**
   * `edge`: the landing folder is on the plant's network; each scan first has an edge worker relay its new file
   * versions into the cloud's landing area (`FABRICA_LANDING_RELAY`), where the sensor sees them. Default `cloud`.
   */
  placement?: Placement;
  /** Landing sub-prefix watched for this pipeline ('' for the whole landing area). */
  prefix: string;
  /** File names considered (regular expression source, matched against the name below the prefix). */
  fileNamePattern: string;
  /**
   * The file name of a partition, `{entity}`, `{yyyy}`, `{MM}`, `{dd}` and `{HH}` replaced (e.g.
   * `{entity}_{yyyy}{MM}{dd}T{HH}.txt`): where a run looks when the sensor never saw the partition's file, and, with
   * `partitionFrom: 'file-name'`, how a landed file's partition is read.
   */
  fileName: string;
  /**
   * Where a file's partition comes from: its header (the format reads it), its name (`fileName`), or the values of
   * `partitionColumns` in its first row (rows of another partition are then quarantined as `outside_partition`).
   */
  partitionFrom: 'header' | 'file-name' | 'column';
  /** With `partitionFrom: 'column'`: the staged columns holding the entity and the time (a timestamp or a date). */
  partitionColumns?: { entity?: string; time: string };
  /**
   * When a landed file is complete: its format's trailer, a marker object written after it (`<key><suffix>`), or its
   * size unchanged for `seconds`.
   */
  completeWhen: { kind: 'trailer' } | { kind: 'marker'; suffix: string } | { kind: 'stable-size'; seconds: number };
}

/** How raw files become typed, validated rows. */
export type StagingSpec =
  /** A code-registered format (activities/formats/registry), e.g. the machine-signal contract v1. */
  | { format: string; config?: undefined }
  /** A generic format configured by data; its rows are staged with exactly the config's columns. */
  | { format: 'generic'; config: GenericFormatConfig };

/** A transform: a registered id, or an inline SQL model. */
export type TransformRef = string | SqlModel;

/**
 * A SQL model: a `SELECT` producing the rows of one dataset for one partition, in the dataset's column order, run
 * inside the load's publishing transaction. Placeholders: `{{staged}}` (the partition's staged rows, a temporary
 * table), `{{partition_key}}`, `{{entity}}`, `{{partition_start}}` and `{{partition_end}}` (timestamptz),
 * `{{partition_date}}` (date), `{{source_sha256}}`, `{{run_id}}`. Datasets of other pipelines it reads are listed in
 * `reads`: when one of their partitions is re-published, this pipeline's partition of the same local date re-runs.
 */
export interface SqlModel {
  kind: 'sql';
  /** Stable id, unique in the pipeline. */
  id: string;
  /** The dataset it publishes. */
  output: string;
  sql: string;
  /** Datasets of other pipelines the model reads (upstream dependencies). */
  reads?: string[];
}

/** Rules a partition must pass; failures are data faults (never retried). */
export interface QualityRules {
  /** Maximum share of a file's data lines that may be quarantined before the partition fails (0.01 = 1 %). */
  maxBadRowRatio: number;
  /** Tolerance, in minutes, for row timestamps outside the partition's period (formats that check it). */
  timestampToleranceMinutes: number;
}

/**
 * When the pipeline runs by itself: a batch a few minutes past each expected period (it processes the period
 * before its scheduled time), and a nightly sweep that catches late or changed files and missing periods.
 */
export interface ScheduleSpec {
  /** IANA time zone the calendar is read in. */
  timeZone: string;
  /** Local hours (0-23) at which the batch fires, at `minute` past, on `daysOfWeek`. */
  hours: number[];
  minute: number;
  daysOfWeek: ('MONDAY' | 'TUESDAY' | 'WEDNESDAY' | 'THURSDAY' | 'FRIDAY' | 'SATURDAY' | 'SUNDAY')[];
  /** Local time of the nightly sweep, every day. */
  sweep: { hour: number; minute: number; lookbackDays: number };
  /** What to do when a batch fires while the previous one still runs. */
  overlap: 'SKIP' | 'BUFFER_ONE' | 'ALLOW_ALL';
  /** How far back missed firings (e.g. the server was down) are caught up. */
  catchupWindow: string;
}

/**
 * A serving output, by kind: `reverse-etl` writes a dataset partition's rows into a table of another database
 * idempotently (replace the partition's rows) and recomputes an aggregate over that table for the keys touched;
 * `lake-snapshot` writes a dataset partition to the lake's serving zone as JSON Lines.
 */
export type ServeOutput = ReverseEtlOutput | { kind: 'lake-snapshot'; dataset: string };

/** Rows of a dataset partition replicated into another database's table. */
export interface ReverseEtlOutput {
  kind: 'reverse-etl';
  /**
   * `edge`: the target database is on the plant's network; the cloud writes the partition's rows to the lake as a
   * hand-off object and an edge worker applies it (newer publications win, by the target's own version table).
   * Default `cloud`: the worker writes the target directly.
   */
  placement?: Placement;
  /** A database connection the worker has (`inventory`). */
  connection: string;
  /** The dataset read, and the columns copied (the same names in the target). */
  dataset: string;
  columns: string[];
  /** The target table and the columns that hold the partition (entity, and the period start instant or date). */
  table: string;
  partitionColumns: { entity?: string; time: string };
  /** Recomputed for every key the old or new rows touch: `aggregate.value = sum(table.sumOf)` per `aggregate.key`. */
  aggregate?: { table: string; key: string; value: string; sumOf: string; updatedAt?: string };
}

/** How a run was started; recorded as the `RunKind` search attribute. */
export type RunKind = 'sensor' | 'manual' | 'backfill' | 'schedule' | 'sweep' | 'dependency';

/** Input of `pipelineRunWorkflow`. */
export interface PipelineRunInput {
  spec: PipelineSpec;
  partition: string;
  runKind: RunKind;
  /** Landing object to ingest; when absent, the latest complete landed file for the partition is used. */
  sourceKey?: string;
  /** Re-process even when the partition already holds this exact content. */
  force?: boolean;
  /** For a `dependency` run: the upstream partition whose re-publication started it (recorded in lineage). */
  trigger?: UpstreamTrigger;
}

/** An upstream dataset partition that was (re-)published. */
export interface UpstreamTrigger {
  pipeline: string;
  dataset: string;
  partition: string;
  runId: string;
}

const ID = /^[a-z][a-z0-9-]{1,62}$/;

/** Returns the problems of a spec's own fields (empty when valid); the registry adds what needs the other registries. */
export function specProblems(spec: PipelineSpec): string[] {
  const problems: string[] = [];
  const p = (cond: boolean, msg: string) => cond || problems.push(`${spec.id ?? '?'}: ${msg}`);
  p(typeof spec.id === 'string' && ID.test(spec.id), 'id must be kebab-case, 2-63 chars');
  const sections = [
    'partitioning',
    'source',
    'staging',
    'transforms',
    'load',
    'serve',
    'freshness',
    'quality',
  ] as const;
  const missing = sections.filter((key) => typeof spec[key] !== 'object' || spec[key] === null);
  for (const key of missing) p(false, `${key} is required`);
  if (missing.length > 0) return problems;
  p(Number.isInteger(spec.version) && spec.version > 0, 'version must be a positive integer');
  p(Boolean(spec.owner), 'owner is required');
  for (const problem of partitioningProblems(spec.partitioning)) p(false, problem);
  p(isRegExp(spec.source.fileNamePattern), 'source.fileNamePattern must be a valid regular expression');
  p(/\{(yyyy|dd)\}/.test(spec.source.fileName ?? ''), 'source.fileName must contain {yyyy} and {dd}');
  p(
    ['header', 'file-name', 'column'].includes(spec.source.partitionFrom),
    'source.partitionFrom: header, file-name or column',
  );
  p(
    spec.source.partitionFrom !== 'column' || !!spec.source.partitionColumns?.time,
    'source.partitionColumns.time is required with partitionFrom: column',
  );
  p(
    ['trailer', 'marker', 'stable-size'].includes(spec.source.completeWhen?.kind),
    'source.completeWhen.kind: trailer, marker or stable-size',
  );
  p(spec.quality.maxBadRowRatio >= 0 && spec.quality.maxBadRowRatio < 1, 'quality.maxBadRowRatio in [0, 1)');
  p(spec.quality.timestampToleranceMinutes >= 0, 'quality.timestampToleranceMinutes >= 0');
  p(spec.load.datasets.length > 0, 'load.datasets must not be empty');
  p(spec.freshness.maxStalenessMinutes > 0, 'freshness.maxStalenessMinutes > 0');
  if (spec.schedule) {
    const s = spec.schedule;
    p(s.hours.length > 0 && s.hours.every((h) => Number.isInteger(h) && h >= 0 && h <= 23), 'schedule.hours 0-23');
    p(Number.isInteger(s.minute) && s.minute >= 0 && s.minute <= 59, 'schedule.minute 0-59');
    p(s.sweep.hour >= 0 && s.sweep.hour <= 23 && s.sweep.minute >= 0 && s.sweep.minute <= 59, 'schedule.sweep time');
    p(s.sweep.lookbackDays >= 1, 'schedule.sweep.lookbackDays >= 1');
  }
  return problems;
}

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
