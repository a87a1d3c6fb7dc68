import type { ViewKind } from './args.js';
import { between, cell, duration, fields, table, time, type Cell } from './format.js';
import { progressLine, type BackfillView } from './progress.js';

type Obj = Record<string, unknown>;
type Run = {
  runId?: string;
  pipeline?: string;
  partition?: string;
  runKind?: string;
  status?: string;
  failure?: { type?: string | null; message?: string | null } | null;
  startedAt?: string;
  finishedAt?: string | null;
  links?: { temporalUi?: string };
  steps?: Obj[];
  quality?: Obj[];
};

const list = (x: unknown): Obj[] => (Array.isArray(x) ? (x as Obj[]) : []);
const num = (v: unknown): Cell => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : (v as Cell));
const empty = (v: unknown) => v === undefined || v === null || v === '';
const failureText = (f: Run['failure']) => (f?.type ? `${f.type}: ${f.message ?? ''}`.trim() : '');

/** An indented, titled block; nothing when `rows` is empty. */
function section(title: string, rows: unknown[], lines: () => string[]): string[] {
  return rows.length ? ['', `${title}:`, ...lines().map((l) => `  ${l}`)] : [];
}

/** A table of runs without the columns no run has a value for (a pipeline's latest runs carry fewer fields). */
function runTable(runs: Run[]): string[] {
  const columns: [string, (r: Run) => unknown][] = [
    ['run id', (r) => r.runId],
    ['pipeline', (r) => r.pipeline],
    ['partition', (r) => r.partition],
    ['kind', (r) => r.runKind],
    ['status', (r) => r.status],
    ['started', (r) => r.startedAt && time(r.startedAt)],
    ['took', (r) => r.startedAt && r.finishedAt && between(r.startedAt, r.finishedAt)],
    ['failure', (r) => failureText(r.failure)],
  ];
  const shown = columns.filter(([name, get]) => name === 'run id' || runs.some((r) => !empty(get(r))));
  return table(
    shown.map(([name]) => name),
    runs.map((r) => shown.map(([, get]) => get(r))),
  );
}

function qualityTable(checks: Obj[]): string[] {
  const rows = checks.map((q) => [q.check_name ?? q.check, q.passed, num(q.observed), num(q.threshold)]);
  return table(['check', 'passed', 'observed', 'threshold'], rows);
}

function pipelines(items: Obj[]): string[] {
  return table(
    ['pipeline', 'version', 'datasets', 'last run'],
    items.map((p) => {
      const last = list(p.latestRuns)[0] as Run | undefined;
      const lastText = last ? `${last.partition} ${last.status} ${time(last.startedAt)}` : '';
      return [p.id, p.version, (p.datasets as string[] | undefined)?.join(','), lastText];
    }),
  );
}

function partitioning(p: unknown): string {
  const q = p as { kind?: string; entity?: string; entities?: string[]; timeZone?: string } | undefined;
  const c = (p as { calendar?: { weekdays?: number[]; hours?: number[] } } | undefined)?.calendar;
  if (!q?.kind || !c?.weekdays) return cell(p);
  const periods = c.hours?.length ? `hours ${c.hours[0]}-${c.hours.at(-1)}` : 'days';
  const who = q.kind === 'day' ? '' : `${q.entities?.length ?? 0} ${q.entity ? `${q.entity}s` : 'entities'} × `;
  return `${q.kind}: ${who}${periods}, weekdays ${c.weekdays.join(',')} (${q.timeZone})`;
}

function pipeline(p: Obj): string[] {
  const { latestRuns, partitioning: parts, freshness, datasets, ...rest } = p;
  const runs = list(latestRuns) as Run[];
  const staleness = (freshness as { maxStalenessMinutes?: number } | undefined)?.maxStalenessMinutes;
  return [
    ...fields({
      ...rest,
      partitioning: partitioning(parts),
      freshness: staleness === undefined ? freshness : `data at most ${staleness} min old`,
      datasets: Array.isArray(datasets) ? datasets.join(', ') : datasets,
    }),
    ...section('latest runs', runs, () => runTable(runs)),
  ];
}

function run(r: Run): string[] {
  const steps = list(r.steps).map((s) => [
    s.step,
    s.status,
    s.attempt,
    typeof s.duration_ms === 'number' ? duration(s.duration_ms) : '',
    num(s.rows_in),
    num(s.rows_out),
    num(s.rows_quarantined),
  ]);
  return [
    `run ${r.runId}  ${r.pipeline} ${r.partition}  ${r.status}${r.runKind ? ` (${r.runKind})` : ''}`,
    ...(r.startedAt ? [`started ${time(r.startedAt)}, took ${between(r.startedAt, r.finishedAt)}`] : []),
    ...(r.failure?.type ? [`failure ${failureText(r.failure)}`] : []),
    ...section('steps', steps, () =>
      table(['step', 'status', 'attempt', 'took', 'rows in', 'rows out', 'quarantined'], steps),
    ),
    ...section('quality', list(r.quality), () => qualityTable(list(r.quality))),
    ...(r.links?.temporalUi ? ['', r.links.temporalUi] : []),
  ];
}

function runs(page: Obj): string[] {
  const items = list(page.items) as Run[];
  const pageNo = Number(page.page ?? 1);
  const first = items.length ? (pageNo - 1) * Number(page.pageSize ?? items.length) + 1 : 0;
  return [
    ...(items.length ? runTable(items) : ['no runs']),
    `page ${pageNo}: ${first}-${first + Math.max(0, items.length - 1)} of ${Number(page.total ?? items.length)}`,
  ];
}

function accepted(r: Run): string[] {
  const head = `run ${r.runId}  ${r.pipeline} ${r.partition}  ${r.status}`;
  return [head, ...(r.links?.temporalUi ? [r.links.temporalUi] : [])];
}

/** Summary, progress and failures of a backfill. */
export function backfill(b: BackfillView): string[] {
  const failures = b.failures ?? [];
  const range = b.from || b.to ? ` ${b.from ?? '?'}..${b.to ?? '?'}` : '';
  return [
    `backfill ${b.backfillId}  ${b.pipeline ?? ''}${range}${b.mode ? ` mode ${b.mode}` : ''}`,
    progressLine(b),
    ...(failures.length
      ? [
          '',
          ...table(
            ['failed partition', 'type', 'message'],
            failures.map((f) => [f.partition, f.type, f.message]),
          ),
        ]
      : []),
    ...(b.links?.temporalUi ? ['', b.links.temporalUi] : []),
  ];
}

/** An export: what, where it stands, and once done its files with checksums (the manifest is in `--json`). */
function exportView(e: Obj): string[] {
  const progress = e.progress as Obj | undefined;
  const manifest = e.manifest as Obj | undefined;
  const files = list(manifest?.files).map((f) => [f.key, num(f.rows), num(f.bytes), String(f.sha256).slice(0, 16)]);
  return [
    `export ${String(e.exportId)}  ${String(e.featureSet)} v${String(e.version)} ${String(e.from)}..${String(e.to)}` +
      `  ${String(e.format)}${e.training ? ' training' : ''}  ${String(e.status)}`,
    `as of ${(e.asOf as string | null | undefined) ?? (progress?.asOf as string | undefined) ?? '-'}`,
    ...(progress
      ? [
          `chunks ${cell(num(progress.chunksDone))}/${cell(num(progress.chunksTotal))}, ${cell(num(progress.rows))} rows, ` +
            `${cell(num(progress.files))} files so far`,
        ]
      : []),
    ...(manifest
      ? [
          `${cell(num(manifest.rowCount))} rows, ${cell(num(manifest.byteCount))} bytes; manifest ${String(e.manifestKey)}`,
          ...section('files', files, () => table(['key', 'rows', 'bytes', 'sha256'], files)),
        ]
      : []),
    ...(typeof e.error === 'string' ? [`error: ${e.error}`] : []),
    ...((e.links as Obj | undefined)?.temporalUi ? ['', String((e.links as Obj).temporalUi)] : []),
  ];
}

function partition(v: Obj): string[] {
  const pub = v.published as Obj | null;
  const quality = v.quality as { runId: string; checks: Obj[] } | null;
  const short = (sha: unknown) => String(sha).slice(0, 12);
  const loads = list(v.loads).map((l) => [time(l.loadedAt), num(l.rows), short(l.contentSha256), l.runId]);
  const landed = list(v.landedFiles).map((f) => [f.objectKey, f.state, num(f.size), time(f.firstSeenAt), f.detail]);
  // The API lists lineage newest first; a human reads it in the order the data flowed.
  const lineage = list(v.lineage).reverse();
  return [
    `${String(v.dataset)} ${String(v.partition)}  (${(v.pipelines as string[] | undefined)?.join(', ') ?? ''})`,
    pub
      ? `published: ${cell(num(pub.rows))} rows, sha256 ${short(pub.contentSha256)}…, run ${String(pub.runId)}, ${time(pub.loadedAt)}`
      : 'published: nothing',
    ...section('runs', list(v.runs), () => runTable(list(v.runs).map((r) => ({ ...r, partition: undefined })))),
    ...section('loads', loads, () => table(['loaded', 'rows', 'sha256', 'run'], loads)),
    ...section(`quality of run ${quality?.runId}`, quality?.checks ?? [], () => qualityTable(quality!.checks)),
    ...section('landed files', landed, () => table(['key', 'state', 'size', 'seen', 'detail'], landed)),
    ...section('lineage', lineage, () =>
      lineage.map((e) => `${String(e.step).padEnd(9)} ${String(e.input)} → ${String(e.output)}`),
    ),
  ];
}

/** Renders an API response for a human, by view; unknown shapes fall back to `key: value` lines. */
export function render(view: ViewKind, body: unknown): string[] {
  if (body === undefined || body === null) return [];
  switch (view) {
    case 'pipelines':
      return Array.isArray(body) ? pipelines(body as Obj[]) : fields(body);
    case 'pipeline':
      return pipeline(body as Obj);
    case 'run':
      return run(body);
    case 'runs':
      return runs(body as Obj);
    case 'run-accepted':
      return accepted(body);
    case 'backfill':
      return backfill(body as BackfillView);
    case 'partition':
      return partition(body as Obj);
    case 'export':
      return typeof (body as Obj).exportId === 'string' ? exportView(body as Obj) : fields(body);
    case 'schedules':
      return Array.isArray(body) ? (body as Obj[]).flatMap((s) => schedule(s)) : fields(body);
    case 'schedule':
      return schedule(body as Obj);
    case 'alerts':
      return alertTable(list((body as Obj).items));
    case 'alert':
      return alertView(body as Obj);
    case 'deliveries':
      return deliveryTable(list((body as Obj).items));
    case 'silence':
      return fields(body);
  }
}

function alertTable(items: Obj[]): string[] {
  if (items.length === 0) return ['no alerts'];
  return table(
    ['id', 'severity', 'kind', 'pipeline', 'partition', 'raised', 'state', 'message'],
    items.map((a) => [
      a.id,
      a.severity,
      a.kind,
      a.pipeline,
      a.partition,
      time(a.createdAt),
      a.resolvedAt ? 'resolved' : a.acknowledgedAt ? `acked by ${cell(a.acknowledgedBy)}` : 'open',
      String(a.message).slice(0, 100),
    ]),
  );
}

function deliveryTable(items: Obj[]): string[] {
  if (items.length === 0) return ['no deliveries'];
  return table(
    ['id', 'channel', 'event', 'group', 'alerts', 'status', 'attempts', 'delivered', 'last error'],
    items.map((d) => [
      d.id,
      d.channel,
      d.event,
      d.groupKey,
      list(d.alertIds).length,
      d.status,
      d.attempts,
      time(d.deliveredAt),
      d.lastError,
    ]),
  );
}

function alertView(a: Obj): string[] {
  return [
    `alert ${String(a.id)}  [${String(a.severity)}] ${String(a.kind)}  ${String(a.pipeline)} ${cell(a.partition)}`,
    String(a.message),
    `raised ${time(a.createdAt)}  resolved ${time(a.resolvedAt)}  acknowledged ${time(a.acknowledgedAt)}` +
      (a.acknowledgedBy ? ` by ${cell(a.acknowledgedBy)}` : ''),
    ...section('deliveries', list(a.deliveries), () => deliveryTable(list(a.deliveries))),
  ];
}

/** One schedule: id, state, next firings. */
function schedule(s: Obj): string[] {
  const next = Array.isArray(s.nextActionTimes) ? (s.nextActionTimes as string[]).slice(0, 3).join(', ') : '';
  return [
    `${String(s.scheduleId)}  ${s.paused ? 'PAUSED' : 'active'}  taken ${String(s.numActionsTaken)}  next ${next}`,
  ];
}
