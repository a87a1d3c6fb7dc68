import type { Placement } from '../spec.js';

/**
 * An external source (a database table, an HTTP JSON API) is declared once as plain serializable data, like a
 * `PipelineSpec`: the spec travels as workflow input, so Temporal's history shows exactly what was synced, and the
 * generic extract/commit activities need nothing else. Another table or endpoint is one new spec file plus a
 * migration for its target tables.
 */

/** Column types a source can declare (PostgreSQL names; the target tables use the same types). */
export type SourceColumnType =
  'bigint' | 'integer' | 'text' | 'numeric' | 'double precision' | 'boolean' | 'timestamptz';

/** One column (database) or field (HTTP item) of a source, copied as is into the target tables. */
export interface SourceColumn {
  name: string;
  type: SourceColumnType;
  /** May be null/absent (default: required). */
  nullable?: boolean;
  /** Allowed values of a text column (anything else is a data fault). */
  values?: string[];
}

/** How a sync learns about rows deleted at the source. */
export type SourceDeletes =
  /** Every sync also reads all keys of the source (same snapshot) and tombstones mirror rows whose key disappeared. */
  | 'reconcile-keys'
  /** The source cannot tell: hard deletes are not captured (rows stay in the mirror as last seen). */
  | 'not-captured';

interface SourceSpecBase {
  /** Stable id (kebab-case): workflow ids, lake keys, `ops.source_*` rows. Never rename. */
  id: string;
  /** Bumped when the spec changes meaningfully; recorded with every sync. */
  version: number;
  owner: string;
  description: string;
  /**
   * Configuration setting (environment variable) holding the connection: a `postgres://` URL of a read-only role for
   * a database source, an `http(s)://` base URL for an HTTP source. Specs of one system share it (and its pool).
   */
  connection: string;
  /**
   * Where the extract runs: `cloud` (default) or `edge`, for a source on the plant's network: an edge worker (which
   * holds the connection setting) reads it into the lake, the cloud commits it to the warehouse.
   */
  placement?: Placement;
  /** Columns extracted, in order; they must include `key` and `watermark`. */
  columns: SourceColumn[];
  /** Column identifying a row (primary key of the mirror). */
  key: string;
  /** `timestamptz` column that moves forward whenever a row changes (e.g. `updated_at`). */
  watermark: string;
  /**
   * Each sync re-reads rows whose watermark is up to this many seconds older than the committed watermark: a row
   * stamped at the start of a slow transaction becomes visible after rows stamped later, so without it a sync that
   * ran in between would skip it forever. Re-read rows are no-ops (versions are keyed by key + watermark).
   */
  lookbackSeconds: number;
  /** Rows fetched per query (database) or requested per page (HTTP). */
  batchSize: number;
  /** Warehouse tables: the current mirror (one row per key) and, optionally, every version seen. */
  target: { table: string; versions?: string };
  deletes: SourceDeletes;
  /** A Temporal Schedule syncs the source every `everyMinutes` (absent: on demand only). */
  schedule?: { everyMinutes: number };
}

/** A table in another system's PostgreSQL database, read through a read-only role. */
export interface DatabaseSourceSpec extends SourceSpecBase {
  kind: 'database';
  /** Source table, `schema.table`. */
  table: string;
}

/**
 * An HTTP JSON API: `GET <base><path>?<watermarkParam>=<iso>&<limitParam>=<n>&<tokenParam>=<token>` returning
 * `{ <itemsField>: [...], <nextTokenField>: "<token>" | null }`; items whose watermark is at or after the parameter.
 */
export interface HttpJsonSourceSpec extends SourceSpecBase {
  kind: 'http-json';
  path: string;
  watermarkParam: string;
  paging: { tokenParam: string; limitParam: string; itemsField: string; nextTokenField: string };
  /** Per request: timeout, then bounded retries with exponential backoff inside the activity. */
  request: {
    timeoutMs: number;
    /** Attempts per request (5xx, timeouts, connection errors, 429) before the activity fails and Temporal retries. */
    maxAttempts: number;
    initialBackoffMs: number;
    maxBackoffMs: number;
    /** A `Retry-After` longer than this fails the attempt (Temporal retries later) instead of waiting. */
    maxRetryAfterSeconds: number;
  };
}

/** Any source. */
export type SourceSpec = DatabaseSourceSpec | HttpJsonSourceSpec;

/** How a sync was started. */
export type SourceTrigger = 'manual' | 'schedule';

/** Input of `sourceSyncWorkflow`. */
export interface SourceSyncInput {
  sourceId: string;
  /** The spec to sync with; when absent, the registry's (`workflows/sources/index.ts`). */
  spec?: SourceSpec;
  trigger?: SourceTrigger;
}

/** Identifies one sync; passed to every activity of it. */
export interface SourceSyncContext {
  sourceId: string;
  workflowId: string;
  runId: string;
  trigger: SourceTrigger;
}

/** A position in a source's change stream: (watermark, key), both as text; null before the first commit. */
export interface SourcePosition {
  /** ISO-8601 UTC instant with microseconds, e.g. `2026-11-20T10:00:00.123456Z`. */
  ts: string | null;
  key: string | null;
}

/** What an extract wrote to the lake. */
export interface SourceExtractResult {
  attempt: number;
  /** Lake keys of the rows (PostgreSQL COPY text of `columns`, in order). */
  parts: string[];
  /** Lake keys of every key present at the source (COPY text, one column), for `reconcile-keys`. */
  keyParts?: string[];
  rows: number;
  keys?: number;
  bytes: number;
  /** Lake folder of this attempt's files (absent in extracts recorded before it was returned). */
  dir?: string;
  /** The committed watermark the extract started from (the commit refuses to apply on another one). */
  from: SourcePosition;
  /** Largest (watermark, key) extracted; null when nothing was. */
  maxSeen: SourcePosition;
  /** When the source was read (the source's clock for a database): the time deletions are detected at. */
  extractedAt: string;
}

/** What a commit did. */
export interface SourceCommitResult {
  status: 'committed' | 'already-committed';
  rowsChanged: number;
  versionsAdded: number;
  deleted: number;
  watermark: SourcePosition;
}

/** Outcome of a sync. */
export interface SourceSyncOutcome {
  sourceId: string;
  status: 'committed' | 'skipped';
  rowsExtracted?: number;
  rowsChanged?: number;
  versionsAdded?: number;
  deleted?: number;
  watermark?: SourcePosition;
  reason?: string;
}

const ID = /^[a-z][a-z0-9-]{1,62}$/;
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
const TABLE = /^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$/;
const SETTING = /^[A-Z][A-Z0-9_]{1,62}$/;
const TYPES: readonly SourceColumnType[] = [
  'bigint',
  'integer',
  'text',
  'numeric',
  'double precision',
  'boolean',
  'timestamptz',
];

/** Returns the problems of a source spec (empty when valid); run by the registry and its guard test. */
export function sourceSpecProblems(spec: SourceSpec): string[] {
  const problems: string[] = [];
  const p = (cond: boolean, msg: string) => cond || problems.push(`${spec.id ?? '?'}: ${msg}`);
  p(ID.test(spec.id), 'id must be kebab-case, 2-63 chars');
  p(Number.isInteger(spec.version) && spec.version > 0, 'version must be a positive integer');
  p(Boolean(spec.owner), 'owner is required');
  p(SETTING.test(spec.connection), 'connection must name a setting (UPPER_SNAKE_CASE)');
  p(
    spec.placement === undefined || spec.placement === 'cloud' || spec.placement === 'edge',
    'placement must be cloud or edge',
  );
  p(spec.columns.length > 0, 'columns must not be empty');
  p(
    spec.columns.every((c) => IDENT.test(c.name) && TYPES.includes(c.type)),
    'columns need lower-case identifiers and a known type',
  );
  const names = spec.columns.map((c) => c.name);
  p(new Set(names).size === names.length, 'column names must be unique');
  const key = spec.columns.find((c) => c.name === spec.key);
  p(Boolean(key && !key.nullable), 'key must be a non-null column');
  const watermark = spec.columns.find((c) => c.name === spec.watermark);
  p(
    Boolean(watermark && watermark.type === 'timestamptz' && !watermark.nullable),
    'watermark: a non-null timestamptz column',
  );
  p(
    spec.columns.every((c) => !c.values || (c.type === 'text' && c.values.length > 0)),
    'values only on text columns',
  );
  p(
    !names.some((n) => ['loaded_at', 'deleted_at', 'deleted', 'run_id'].includes(n)),
    'loaded_at, deleted_at, deleted, run_id are reserved',
  );
  p(Number.isInteger(spec.lookbackSeconds) && spec.lookbackSeconds >= 0, 'lookbackSeconds >= 0');
  p(Number.isInteger(spec.batchSize) && spec.batchSize >= 1 && spec.batchSize <= 100_000, 'batchSize in 1..100000');
  p(TABLE.test(spec.target.table), 'target.table must be schema.table');
  p(spec.target.versions === undefined || TABLE.test(spec.target.versions), 'target.versions must be schema.table');
  p(['reconcile-keys', 'not-captured'].includes(spec.deletes), 'deletes: reconcile-keys or not-captured');
  if (spec.schedule)
    p(Number.isInteger(spec.schedule.everyMinutes) && spec.schedule.everyMinutes >= 1, 'schedule.everyMinutes >= 1');
  if (spec.kind === 'database') {
    p(TABLE.test(spec.table), 'table must be schema.table');
  } else if (spec.kind === 'http-json') {
    p(spec.path.startsWith('/') && !/[?#\s]/.test(spec.path), 'path must start with / and have no query');
    const params = [spec.watermarkParam, spec.paging.tokenParam, spec.paging.limitParam];
    p(
      params.every((x) => /^[A-Za-z_][\w-]*$/.test(x)) && new Set(params).size === 3,
      'query parameters: distinct names',
    );
    p(Boolean(spec.paging.itemsField && spec.paging.nextTokenField), 'paging fields are required');
    const r = spec.request;
    p(r.timeoutMs >= 1 && r.maxAttempts >= 1 && r.initialBackoffMs >= 0, 'request: timeoutMs >= 1, maxAttempts >= 1');
    p(r.maxBackoffMs >= r.initialBackoffMs && r.maxRetryAfterSeconds >= 0, 'request: maxBackoffMs >= initialBackoffMs');
    p(spec.deletes === 'not-captured', 'an HTTP source cannot reconcile keys');
  } else {
    problems.push(`${(spec as SourceSpec).id}: unknown kind`);
  }
  return problems;
}
