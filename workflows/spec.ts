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
  partitioning: EntityHourPartitioning;
  source: LandingFilesSource;
  staging: StagingSpec;
  /** Registered transform ids (activities/transforms), applied in order to the staged rows of one partition. */
  transforms: string[];
  /** Warehouse datasets the load publishes, each replaced atomically per partition. */
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
 * Partitions are one entity (e.g. a machine) × one local hour, keyed `<entity>@<YYYY-MM-DDTHH>` in the partitioning's
 * fixed UTC offset, e.g. `M07@2026-11-20T10`. The calendar says which hours are expected to have data.
 */
export interface EntityHourPartitioning {
  kind: 'entity-hour';
  entity: string;
  /** IANA zone of the plant (documentation, schedules). */
  timeZone: string;
  /** Fixed UTC offset used to turn local hours into instants (`-03:00`). */
  utcOffset: string;
  /** Entities expected by the calendar (e.g. the machines on the floor). */
  entities: string[];
  calendar: { weekdays: number[]; hours: number[] };
}

/** Files dropped in the landing area (a folder or an S3 prefix). */
export interface LandingFilesSource {
  kind: 'landing-files';
  /** Landing sub-prefix watched for this pipeline ('' for the whole landing area). */
  prefix: string;
  /** File names considered (regular expression source). The partition comes from the file's header. */
  fileNamePattern: string;
}

/** How raw files become typed, validated rows. */
export interface StagingSpec {
  /** Registered parser id (activities/formats). */
  format: string;
}

/** Rules a partition must pass; failures are data faults (never retried). */
export interface QualityRules {
  /** Maximum share of a file's data lines that may be quarantined before the partition fails (0.01 = 1 %). */
  maxBadRowRatio: number;
  /** Tolerance, in minutes, for item timestamps outside the file's hour. */
  timestampToleranceMinutes: number;
}

/**
 * When the pipeline runs by itself: an hourly batch a few minutes past each expected hour (it processes the hour
 * before its scheduled time), and a nightly sweep that catches late or changed files and missing hours.
 */
export interface ScheduleSpec {
  /** IANA time zone the calendar is read in. */
  timeZone: string;
  /** Local hours (0-23) at which the hourly batch fires, at `minute` past, on `daysOfWeek`. */
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

/** A serving output. */
export type ServeOutput = { kind: 'inventory-db' } | { kind: 'lake-snapshot'; dataset: string };

/** How a run was started; recorded as the `RunKind` search attribute. */
export type RunKind = 'sensor' | 'manual' | 'backfill' | 'schedule' | 'sweep';

/** Input of `pipelineRunWorkflow`. */
export interface PipelineRunInput {
  spec: PipelineSpec;
  partition: string;
  runKind: RunKind;
  /** Landing object to ingest; when absent, the latest complete landed file for the partition is used. */
  sourceKey?: string;
  /** Re-process even when the partition already holds this exact content. */
  force?: boolean;
}

const ID = /^[a-z][a-z0-9-]{1,62}$/;

/** Returns the problems of a spec (empty when valid); run by the registry and its guard test. */
export function specProblems(spec: PipelineSpec): string[] {
  const problems: string[] = [];
  const p = (cond: boolean, msg: string) => cond || problems.push(`${spec.id ?? '?'}: ${msg}`);
  p(ID.test(spec.id), 'id must be kebab-case, 2-63 chars');
  p(Number.isInteger(spec.version) && spec.version > 0, 'version must be a positive integer');
  p(Boolean(spec.owner), 'owner is required');
  p(/^[+-]\d{2}:\d{2}$/.test(spec.partitioning.utcOffset), 'partitioning.utcOffset must look like -03:00');
  p(spec.partitioning.entities.length > 0, 'partitioning.entities must not be empty');
  p(
    spec.partitioning.entities.every((e) => /^[A-Za-z0-9_-]{1,32}$/.test(e)),
    'entities must be short identifiers',
  );
  p(
    spec.partitioning.calendar.hours.every((h) => Number.isInteger(h) && h >= 0 && h <= 23),
    'calendar hours 0-23',
  );
  p(
    spec.partitioning.calendar.weekdays.every((d) => Number.isInteger(d) && d >= 0 && d <= 6),
    'calendar weekdays 0-6',
  );
  p(isRegExp(spec.source.fileNamePattern), 'source.fileNamePattern must be a valid regular expression');
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
