import { partitionKey, type Partitioning } from '../../workflows/partitions.js';
import type { PipelineSpec } from '../../workflows/spec.js';

/**
 * What the dashboard shows for a partition the calendar expects: `ok` (published), `empty` (published, no items),
 * `running`, `failed`, `incomplete` (a file still without its trailer/marker, or failed as IncompleteFile),
 * `missing` (its period ended and nothing usable landed), `pending` (not due yet), `not_expected` (off calendar).
 */
export type CellStatus = 'ok' | 'empty' | 'running' | 'failed' | 'incomplete' | 'missing' | 'pending' | 'not_expected';

/** The latest run of a partition. */
export interface LatestRun {
  run_id: string;
  workflow_id: string;
  status: string;
  failure_type: string | null;
  failure_message: string | null;
  started_at: Date;
}

/** The latest landed file version of a partition. */
export interface LatestLanded {
  object_key: string;
  state: string;
  detail: string | null;
  first_seen_at: Date;
}

/** An open alert on a partition. */
export interface OpenAlert {
  kind: string;
  message: string;
}

/** The facts {@link cellStatus} decides from. */
export interface PartitionFacts {
  published: boolean;
  items?: number | null;
  run?: LatestRun;
  landed?: LatestLanded;
  alerts?: OpenAlert[];
  /** End of the partition's window, ms. */
  endMs: number;
  expected: boolean;
}

/** The status of one partition and, when it is not `ok`, the reason in words. */
export function cellStatus(f: PartitionFacts, nowMs: number): { status: CellStatus; reason: string | null } {
  if (f.published) {
    if (f.items === 0) return { status: 'empty', reason: 'published with no items (the machine made nothing)' };
    return { status: 'ok', reason: null };
  }
  if (!f.expected) return { status: 'not_expected', reason: 'the working calendar expects no data' };
  if (f.run?.status === 'running') return { status: 'running', reason: `run ${f.run.run_id} is in flight` };
  if (f.run?.status === 'failed') {
    const why = `${f.run.failure_type ?? 'failed'}: ${f.run.failure_message ?? ''}`.trim();
    return { status: f.run.failure_type === 'IncompleteFile' ? 'incomplete' : 'failed', reason: why };
  }
  if (f.run && f.run.status !== 'succeeded' && f.run.status !== 'unchanged')
    return { status: 'failed', reason: `run ${f.run.run_id} ${f.run.status}` };
  if (f.landed?.state === 'waiting')
    return { status: 'incomplete', reason: `${f.landed.object_key}: ${f.landed.detail ?? 'waiting'}` };
  if (f.landed?.state === 'rejected')
    return { status: 'failed', reason: `${f.landed.object_key} rejected: ${f.landed.detail ?? ''}` };
  const alert = f.alerts?.find((a) => a.kind === 'incomplete_file') ?? f.alerts?.[0];
  if (alert) return { status: alert.kind === 'incomplete_file' ? 'incomplete' : 'missing', reason: alert.message };
  if (f.landed) return { status: 'running', reason: `${f.landed.object_key} landed, run not recorded yet` };
  if (f.endMs <= nowMs) return { status: 'missing', reason: 'no file landed' };
  return { status: 'pending', reason: 'not due yet' };
}

/** A regular expression of a spec's `source.fileName` template, capturing entity and local period parts. */
export function fileNameMatcher(spec: PipelineSpec): ((objectKey: string) => string | undefined) | undefined {
  const template = spec.source.fileName;
  if (!template) return undefined;
  const groups: string[] = [];
  const re = template.replace(/\{(entity|yyyy|MM|dd|HH)\}|[.*+?^$()|[\]\\]/g, (m: string, g?: string) => {
    if (!g) return `\\${m}`;
    groups.push(g);
    return g === 'entity' ? '([A-Za-z0-9_-]{1,32})' : g === 'yyyy' ? '(\\d{4})' : '(\\d{2})';
  });
  const matcher = new RegExp(`(?:^|/)${re}$`);
  const p: Partitioning = spec.partitioning;
  return (objectKey: string) => {
    const m = matcher.exec(objectKey);
    if (!m) return undefined;
    const v = Object.fromEntries(groups.map((g, i) => [g, m[i + 1]!]));
    const date = `${v.yyyy}-${v.MM}-${v.dd}`;
    const period = p.kind === 'entity-hour' ? `${date}T${v.HH ?? '00'}` : date;
    return partitionKey(p, period, v.entity);
  };
}
