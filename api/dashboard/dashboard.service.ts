import { Inject, Injectable } from '@nestjs/common';
import { Client } from '@temporalio/client';
import pg from 'pg';
import { getPipeline, PIPELINES } from '../../activities/registry/pipelines.js';
import type { FabricaConfig } from '../../worker/config.js';
import { backfillProgressQuery, type BackfillProgress } from '../../workflows/backfill-messages.js';
import {
  isExpectedPeriod,
  isPeriod,
  parsePartition,
  partitionKey,
  partitionWindow,
  periodAt,
  shiftPeriod,
  type Partitioning,
} from '../../workflows/partitions.js';
import type { PipelineSpec } from '../../workflows/spec.js';
import { InvalidInputError, NotFoundError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import { WAREHOUSE } from '../database/database.module.js';
import { TEMPORAL_DEADLINE_MS } from '../temporal/deadline.js';
import { temporalUiLink } from '../temporal/links.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import type {
  DayRangeQueryDto,
  HeatmapQueryDto,
  NowQueryDto,
  PartitionQueryDto,
  PipelinesQueryDto,
  ScrapQueryDto,
  TrendsQueryDto,
} from './dto/dashboard-query.dto.js';
import {
  cellStatus,
  fileNameMatcher,
  type CellStatus,
  type LatestLanded,
  type LatestRun,
  type OpenAlert,
} from './partition-status.js';

/** The machine-signal pipeline the plant pages show. */
export const FACTORY_PIPELINE = 'factory-machine-signals';
/** The QA lab's pipeline (its reject rates are shown when it is registered). */
export const LAB_PIPELINE = 'quality-lab-inspections';
/** Landing → published latency target (minutes). */
export const LATENCY_SLA_MINUTES = 10;
/** Longest range of days the trend endpoints accept. */
export const MAX_RANGE_DAYS = 400;

const ALL_DAYS: Partitioning['calendar'] = { weekdays: [0, 1, 2, 3, 4, 5, 6] };
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** One cell of the heatmap. */
export interface HeatmapCell {
  machine: string;
  hour: number;
  partition: string;
  status: CellStatus;
  reason: string | null;
  yieldPct: number | null;
  items: number | null;
  ok: number | null;
  scrap: number | null;
  failureType: string | null;
}

/** A partition the page lists as missing or incomplete, with the reason. */
export interface ProblemPartition {
  pipeline: string;
  partition: string;
  entity: string | null;
  status: CellStatus;
  reason: string | null;
  runId: string | null;
  links: { temporalUi: string | null; partition: string };
}

/** Read-only queries behind the dashboard's pages (PostgreSQL warehouse and Temporal visibility). */
@Injectable()
export class DashboardService {
  constructor(
    @Inject(CONFIG) private readonly config: FabricaConfig,
    @Inject(WAREHOUSE) private readonly db: pg.Pool,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
  ) {}

  private nowMs(q: NowQueryDto): number {
    if (q.now === undefined) return Date.now();
    const ms = Date.parse(q.now);
    if (Number.isNaN(ms)) throw new InvalidInputError('now', 'is not a valid instant');
    return ms;
  }

  private spec(id: string): PipelineSpec {
    const spec = getPipeline(id);
    if (!spec) throw new NotFoundError('pipeline', id);
    return spec;
  }

  /** `[start, end)` of plant-local days `from..to` in the zone, ISO instants. */
  private days(zone: string, from: string, to: string, field?: string): { start: string; end: string } {
    const day: Partitioning = { kind: 'day', timeZone: zone, calendar: ALL_DAYS };
    const a = isPeriod(day, from) ? partitionWindow(day, from) : undefined;
    if (!a) throw new InvalidInputError(field ?? 'from', 'is not a real date');
    const b = isPeriod(day, to) ? partitionWindow(day, to) : undefined;
    if (!b) throw new InvalidInputError(field ?? 'to', 'is not a real date');
    if (to < from) throw new InvalidInputError('to', 'must not be before from');
    if ((Date.parse(b.end) - Date.parse(a.start)) / 86_400_000 > MAX_RANGE_DAYS + 1)
      throw new InvalidInputError('to', `range is over ${MAX_RANGE_DAYS} days`);
    return { start: a.start, end: b.end };
  }

  private range(
    q: DayRangeQueryDto,
    zone: string,
    defaultDays = 7,
  ): { from: string; to: string; start: string; end: string } {
    const nowDay = periodAt({ kind: 'day', timeZone: zone, calendar: ALL_DAYS }, this.nowMs(q));
    const to = q.to ?? (q.from && q.from > nowDay ? q.from : nowDay);
    let from = q.from;
    if (from === undefined) {
      const day: Partitioning = { kind: 'day', timeZone: zone, calendar: ALL_DAYS };
      if (!isPeriod(day, to)) throw new InvalidInputError('to', 'is not a real date');
      const d = new Date(`${to}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() - (defaultDays - 1));
      from = d.toISOString().slice(0, 10);
    }
    return { from, to, ...this.days(zone, from, to) };
  }

  /** Machines seen (published, run or landed) in the 30 days up to `endIso`; all the calendar's when none. */
  private async machines(spec: PipelineSpec, startIso: string, endIso: string): Promise<string[]> {
    const res = await this.db.query<{ m: string }>(
      `SELECT DISTINCT machine_id AS m FROM factory.machine_yield_hourly
        WHERE partition_hour >= $1::timestamptz - interval '30 days' AND partition_hour < $2
       UNION
       SELECT DISTINCT split_part(partition_key, '@', 1) FROM ops.runs
        WHERE pipeline = $3 AND started_at >= $1::timestamptz - interval '30 days'
          AND split_part(partition_key, '@', 2) >= to_char($1::timestamptz AT TIME ZONE $4, 'YYYY-MM-DD')
          AND split_part(partition_key, '@', 2) < to_char($2::timestamptz AT TIME ZONE $4, 'YYYY-MM-DD"T"HH24')`,
      [startIso, endIso, spec.id, spec.partitioning.timeZone],
    );
    const seen = new Set(res.rows.map((r) => r.m));
    const entities = spec.partitioning.entities ?? [];
    const known = entities.filter((e) => seen.has(e));
    const extra = [...seen].filter((m) => !entities.includes(m)).sort();
    return known.length + extra.length > 0 ? [...known, ...extra] : entities;
  }

  /** Latest run, latest landed file and open alerts of each partition key. */
  private async facts(spec: PipelineSpec, keys: string[]) {
    const toPartition = fileNameMatcher(spec);
    const [runs, landed, waiting, alerts] = await Promise.all([
      this.db.query<LatestRun & { partition_key: string }>(
        `SELECT DISTINCT ON (partition_key) partition_key, run_id, workflow_id, status, failure_type, failure_message,
           started_at
         FROM ops.runs WHERE pipeline = $1 AND partition_key = ANY($2)
         ORDER BY partition_key, started_at DESC, run_id DESC`,
        [spec.id, keys],
      ),
      this.db.query<LatestLanded & { partition_key: string }>(
        `SELECT DISTINCT ON (partition_key) partition_key, object_key, state, detail, first_seen_at
         FROM ops.landed_files WHERE pipeline = $1 AND partition_key = ANY($2)
         ORDER BY partition_key, first_seen_at DESC`,
        [spec.id, keys],
      ),
      // A file still without its trailer/marker has no partition yet: read it from the file name template.
      this.db.query<LatestLanded>(
        `SELECT object_key, state, detail, first_seen_at FROM ops.landed_files
         WHERE pipeline = $1 AND partition_key IS NULL AND state = 'waiting' ORDER BY first_seen_at DESC LIMIT 5000`,
        [spec.id],
      ),
      this.db.query<OpenAlert & { partition_key: string }>(
        `SELECT partition_key, kind, message FROM ops.alerts
         WHERE pipeline = $1 AND partition_key = ANY($2) AND resolved_at IS NULL ORDER BY created_at DESC`,
        [spec.id, keys],
      ),
    ]);
    const landedBy = new Map<string, LatestLanded>(landed.rows.map((r) => [r.partition_key, r]));
    const wanted = new Set(keys);
    for (const w of waiting.rows) {
      const key = toPartition?.(w.object_key);
      const known = key ? landedBy.get(key) : undefined;
      if (key && wanted.has(key) && (!known || known.first_seen_at < w.first_seen_at)) landedBy.set(key, w);
    }
    const alertsBy = new Map<string, OpenAlert[]>();
    for (const a of alerts.rows) alertsBy.set(a.partition_key, [...(alertsBy.get(a.partition_key) ?? []), a]);
    return {
      runs: new Map<string, LatestRun>(runs.rows.map((r) => [r.partition_key, r])),
      landed: landedBy,
      alerts: alertsBy,
    };
  }

  private partitionLink(pipeline: string, partition: string): string {
    return `/#/partition?pipeline=${encodeURIComponent(pipeline)}&partition=${encodeURIComponent(partition)}`;
  }

  /** The first period after `key` the calendar expects (within 31 days), with its end. */
  private nextExpected(p: Partitioning, key: string, entity: string): { key: string; end: string } | undefined {
    const parts = parsePartition(p, key);
    if (!parts) return undefined;
    let period = parts.period;
    for (let i = 0; i < 31 * 24; i++) {
      period = shiftPeriod(p, period, 1);
      if (!isExpectedPeriod(p, period)) continue;
      const next = partitionKey(p, period, entity || undefined);
      const w = partitionWindow(p, next);
      if (w) return { key: next, end: w.end };
    }
    return undefined;
  }

  /** Machines × hours of yield % for one plant-local day, failed/missing/incomplete partitions marked as such. */
  async heatmap(q: HeatmapQueryDto) {
    const spec = this.spec(FACTORY_PIPELINE);
    const p = spec.partitioning;
    const nowMs = this.nowMs(q);
    const day = q.day ?? periodAt(p, nowMs).slice(0, 10);
    const { start, end } = this.days(p.timeZone, day, day, 'day');
    const hours = [...(p.calendar.hours ?? [])].sort((a, b) => a - b);
    const machines = await this.machines(spec, start, end);
    const keys = machines.flatMap((m) => hours.map((h) => partitionKey(p, `${day}T${String(h).padStart(2, '0')}`, m)));
    const [yields, facts] = await Promise.all([
      this.db.query<Record<string, unknown> & { machine_id: string; partition_hour: Date }>(
        `SELECT machine_id, partition_hour, items, ok, scrap, yield_pct FROM factory.machine_yield_hourly
         WHERE partition_hour >= $1 AND partition_hour < $2`,
        [start, end],
      ),
      this.facts(spec, keys),
    ]);
    const yieldBy = new Map(yields.rows.map((r) => [`${r.machine_id}|${r.partition_hour.toISOString()}`, r]));
    const cells: HeatmapCell[] = [];
    const counts: Partial<Record<CellStatus, number>> = {};
    // An hour's window and calendar status are the same for every machine: computed once per hour.
    const perHour = new Map(
      hours.map((hour) => {
        const period = `${day}T${String(hour).padStart(2, '0')}`;
        const w = machines.length ? partitionWindow(p, partitionKey(p, period, machines[0])) : undefined;
        return [
          hour,
          w && {
            period,
            start: new Date(w.start).toISOString(),
            endMs: Date.parse(w.end),
            expected: isExpectedPeriod(p, period),
          },
        ] as const;
      }),
    );
    for (const machine of machines)
      for (const hour of hours) {
        const h = perHour.get(hour);
        if (!h) continue; // a local hour daylight saving skipped
        const partition = partitionKey(p, h.period, machine);
        const y = yieldBy.get(`${machine}|${h.start}`);
        const run = facts.runs.get(partition);
        const { status, reason } = cellStatus(
          {
            published: !!y,
            items: y ? num(y.items) : null,
            run,
            landed: facts.landed.get(partition),
            alerts: facts.alerts.get(partition),
            endMs: h.endMs,
            expected: h.expected,
          },
          nowMs,
        );
        counts[status] = (counts[status] ?? 0) + 1;
        cells.push({
          machine,
          hour,
          partition,
          status,
          reason,
          yieldPct: y ? num(y.yield_pct) : null,
          items: y ? num(y.items) : null,
          ok: y ? num(y.ok) : null,
          scrap: y ? num(y.scrap) : null,
          failureType: !y && run?.status === 'failed' ? run.failure_type : null,
        });
      }
    return {
      pipeline: spec.id,
      day,
      timeZone: p.timeZone,
      now: new Date(nowMs).toISOString(),
      machines,
      hours,
      cells,
      counts,
    };
  }

  /** Per-machine series over a range of days (hourly rows up to 3 days, else daily aggregates) and maintenance. */
  async trends(q: TrendsQueryDto) {
    const spec = this.spec(FACTORY_PIPELINE);
    const zone = spec.partitioning.timeZone;
    const r = this.range(q, zone);
    const days = Math.round((Date.parse(r.end) - Date.parse(r.start)) / 86_400_000);
    const bucket = q.bucket === 'hour' || q.bucket === 'day' ? q.bucket : days <= 3 ? 'hour' : 'day';
    if (bucket === 'hour' && days > 31) throw new InvalidInputError('bucket', 'hour buckets cover at most 31 days');
    const machines = q.machines?.length ? q.machines : null;
    const rows =
      bucket === 'hour'
        ? `SELECT machine_id AS machine, partition_hour AS t, items, ok, scrap, rework, yield_pct AS "yieldPct",
             downtime_minutes AS "downtimeMinutes", cycle_ms_mean AS "cycleMsMean", cycle_ms_p95 AS "cycleMsP95",
             vibration_max AS "vibrationMax", temp_c_mean AS "tempCMean", energy_wh AS "energyWh"
           FROM factory.machine_yield_hourly
           WHERE partition_hour >= $1 AND partition_hour < $2 AND ($3::text[] IS NULL OR machine_id = ANY($3))`
        : `SELECT machine, (d::timestamp AT TIME ZONE $4) AS t, items, ok, scrap, rework, "yieldPct", "downtimeMinutes",
             "cycleMsMean", "cycleMsP95", "vibrationMax", "tempCMean", "energyWh"
           FROM (
             SELECT machine_id AS machine, (partition_hour AT TIME ZONE $4)::date AS d,
               sum(items)::int AS items, sum(ok)::int AS ok, sum(scrap)::int AS scrap, sum(rework)::int AS rework,
               CASE WHEN sum(items) > 0 THEN 100.0 * sum(ok)::float8 / sum(items) END AS "yieldPct",
               sum(downtime_minutes) AS "downtimeMinutes",
               sum(cycle_ms_mean * items) / nullif(sum(items) FILTER (WHERE cycle_ms_mean IS NOT NULL), 0)::float8
                 AS "cycleMsMean",
               max(cycle_ms_p95) AS "cycleMsP95", max(vibration_max) AS "vibrationMax",
               sum(temp_c_mean * items) / nullif(sum(items) FILTER (WHERE temp_c_mean IS NOT NULL), 0)::float8
                 AS "tempCMean",
               sum(energy_wh) AS "energyWh"
             FROM factory.machine_yield_hourly
             WHERE partition_hour >= $1 AND partition_hour < $2 AND ($3::text[] IS NULL OR machine_id = ANY($3))
             GROUP BY 1, 2) daily`;
    // One JSON document per machine, built by PostgreSQL: a year of daily points is ~4,000 rows, which the driver
    // would otherwise parse field by field.
    const [series, maintenance] = await Promise.all([
      this.db.query<{ machine: string; points: Record<string, unknown>[] }>(
        `SELECT machine, json_agg(json_build_object('t', t, 'items', items, 'ok', ok, 'scrap', scrap, 'rework', rework,
             'yieldPct', "yieldPct", 'downtimeMinutes', "downtimeMinutes", 'cycleMsMean', "cycleMsMean",
             'cycleMsP95', "cycleMsP95", 'vibrationMax', "vibrationMax", 'tempCMean', "tempCMean",
             'energyWh', "energyWh") ORDER BY t) AS points
         FROM (${rows}) s GROUP BY machine ORDER BY machine`,
        bucket === 'hour' ? [r.start, r.end, machines] : [r.start, r.end, machines, zone],
      ),
      this.db.query<Record<string, unknown>>(
        `SELECT id::text AS id, machine_id AS machine, kind, started_at AS "startedAt", ended_at AS "endedAt", notes
         FROM sources.maintenance_events
         WHERE deleted_at IS NULL AND started_at < $2 AND coalesce(ended_at, started_at) >= $1
           AND ($3::text[] IS NULL OR machine_id = ANY($3))
         ORDER BY started_at, id LIMIT 2000`,
        [r.start, r.end, machines],
      ),
    ]);
    return {
      pipeline: spec.id,
      from: r.from,
      to: r.to,
      start: r.start,
      end: r.end,
      timeZone: zone,
      bucket,
      machines: series.rows,
      maintenance: maintenance.rows,
      notes: {
        cycleMsP95: bucket === 'day' ? 'largest hourly p95 of the day' : 'p95 of the hour',
        energyWh: 'only machines with energy metering report it (null otherwise)',
      },
    };
  }

  /** The SKUs scrapped most over a range of days, with their cost from the product catalog. */
  async scrap(q: ScrapQueryDto) {
    const spec = this.spec(FACTORY_PIPELINE);
    const r = this.range(q, spec.partitioning.timeZone);
    const res = await this.db.query<Record<string, unknown>>(
      `SELECT sku, max(product_name) AS "productName", max(product_category) AS category,
         sum(scrap_items)::int AS "scrapItems", max(unit_cost)::float8 AS "unitCost",
         CASE WHEN bool_and(unit_cost IS NOT NULL) THEN sum(scrap_cost)::float8 END AS "scrapCost"
       FROM factory.scrap_cost_hourly WHERE partition_hour >= $1 AND partition_hour < $2
       GROUP BY sku ORDER BY sum(scrap_items) DESC, sku LIMIT $3`,
      [r.start, r.end, q.limit ?? 10],
    );
    return { from: r.from, to: r.to, skus: res.rows };
  }

  /** The QA lab's reject rate per SKU over a range of days (`available: false` without the lab flow). */
  async lab(q: DayRangeQueryDto) {
    const spec = getPipeline(LAB_PIPELINE);
    const zone = spec?.partitioning.timeZone ?? this.spec(FACTORY_PIPELINE).partitioning.timeZone;
    const r = this.range(q, zone);
    const exists = await this.db.query<{ t: string | null }>(
      "SELECT to_regclass('quality.sku_quality_daily')::text AS t",
    );
    if (!spec || !exists.rows[0]?.t) return { from: r.from, to: r.to, available: false, skus: [] };
    const res = await this.db.query<Record<string, unknown>>(
      `SELECT sku, sum(samples)::int AS samples, sum(rejected)::int AS rejected,
         sum(rejected)::float8 / nullif(sum(samples), 0) AS "rejectRate", count(*)::int AS days
       FROM quality.sku_quality_daily WHERE day BETWEEN $1::date AND $2::date GROUP BY sku ORDER BY sku`,
      [r.from, r.to],
    );
    return { from: r.from, to: r.to, available: true, skus: res.rows };
  }

  /**
   * Per pipeline and entity: the last partition published, its staleness (now − the end of that partition) and how
   * long the calendar's next period has been due: red when that is over the pipeline's SLA
   * (`freshness.maxStalenessMinutes`) during working hours (`stale` outside them), or nothing was ever published; the
   * partitions of today (plant-local) that ended but are not published, with the reason.
   */
  async freshness(q: NowQueryDto) {
    const nowMs = this.nowMs(q);
    const pipelines = [];
    for (const spec of PIPELINES) {
      const p = spec.partitioning;
      const nowPeriod = periodAt(p, nowMs);
      const today = periodAt({ kind: 'day', timeZone: p.timeZone, calendar: ALL_DAYS }, nowMs);
      const dayKind = p.kind === 'day';
      const { start, end } = this.days(p.timeZone, today, today);
      const entities = dayKind
        ? ['']
        : spec.id === FACTORY_PIPELINE
          ? await this.machines(spec, start, end)
          : [...(p.entities ?? [])];
      // Every dataset of a partition is published in one transaction: the first one tells. One index probe per entity.
      const last = await this.db.query<{ entity: string; partition_key: string; loaded_at: Date }>(
        dayKind
          ? `SELECT '' AS entity, partition_key, loaded_at FROM ops.partition_state
             WHERE dataset = $1 AND partition_key < $2 ORDER BY partition_key DESC LIMIT 1`
          : `SELECT e.entity, s.partition_key, s.loaded_at FROM unnest($3::text[]) AS e(entity)
             CROSS JOIN LATERAL (
               SELECT partition_key, loaded_at FROM ops.partition_state
               WHERE dataset = $1 AND partition_key > e.entity || '@' AND partition_key < e.entity || '@' || $2
               ORDER BY partition_key DESC LIMIT 1) s`,
        dayKind ? [spec.load.datasets[0], nowPeriod] : [spec.load.datasets[0], nowPeriod, entities],
      );
      const lastBy = new Map(last.rows.map((r) => [r.entity, r]));
      const working = isExpectedPeriod(p, nowPeriod);
      const sla = spec.freshness.maxStalenessMinutes;
      const rows = entities.map((entity) => {
        const l = lastBy.get(entity);
        const w = l ? partitionWindow(p, l.partition_key) : undefined;
        const stalenessMinutes = w ? Math.max(0, Math.round((nowMs - Date.parse(w.end)) / 60_000)) : null;
        const due = l ? this.nextExpected(p, l.partition_key, entity) : undefined;
        const overdueMinutes =
          due && Date.parse(due.end) < nowMs ? Math.round((nowMs - Date.parse(due.end)) / 60_000) : null;
        // Late = the calendar's next period after the last published one ended over the SLA ago (weekends, nights
        // and hours off the calendar are not late).
        const over = l === undefined || (overdueMinutes !== null && overdueMinutes > sla);
        return {
          entity: dayKind ? null : entity,
          lastPartition: l?.partition_key ?? null,
          lastPublishedAt: l?.loaded_at ?? null,
          stalenessMinutes,
          nextDue: due?.key ?? null,
          overdueMinutes,
          status: over ? (working ? 'red' : 'stale') : 'green',
          links: { partition: l ? this.partitionLink(spec.id, l.partition_key) : null },
        };
      });
      // Today's partitions that ended (the calendar expected them) and are not published.
      const keys: string[] = [];
      const periods = dayKind ? [today] : (p.calendar.hours ?? []).map((h) => `${today}T${String(h).padStart(2, '0')}`);
      for (const entity of entities)
        for (const period of periods) {
          if (!isExpectedPeriod(p, period)) continue;
          const key = partitionKey(p, period, entity || undefined);
          const w = partitionWindow(p, key);
          if (w && Date.parse(w.end) <= nowMs) keys.push(key);
        }
      const [published, facts] = await Promise.all([
        this.db.query<{ partition_key: string }>(
          'SELECT DISTINCT partition_key FROM ops.partition_state WHERE dataset = ANY($1) AND partition_key = ANY($2)',
          [spec.load.datasets, keys],
        ),
        this.facts(spec, keys),
      ]);
      const done = new Set(published.rows.map((r) => r.partition_key));
      const problems: ProblemPartition[] = keys
        .filter((k) => !done.has(k))
        .map((key) => {
          const run = facts.runs.get(key);
          const { status, reason } = cellStatus(
            {
              published: false,
              run,
              landed: facts.landed.get(key),
              alerts: facts.alerts.get(key),
              endMs: Date.parse(partitionWindow(p, key)!.end),
              expected: true,
            },
            nowMs,
          );
          return {
            pipeline: spec.id,
            partition: key,
            entity: parsePartition(p, key)?.entity ?? null,
            status,
            reason,
            runId: run?.run_id ?? null,
            links: {
              temporalUi: run ? temporalUiLink(this.config, run.workflow_id, run.run_id) : null,
              partition: this.partitionLink(spec.id, key),
            },
          };
        });
      pipelines.push({
        pipeline: spec.id,
        kind: p.kind,
        slaMinutes: sla,
        workingHours: working,
        today,
        entities: rows,
        missing: problems.filter((x) => x.status !== 'incomplete' && x.status !== 'running'),
        incomplete: problems.filter((x) => x.status === 'incomplete'),
        inFlight: problems.filter((x) => x.status === 'running'),
      });
    }
    // Open alerts (ops.alerts, kinds freshness and incomplete_file): the alerting module (ops.alert_*) owns delivery
    // and acknowledgement; the page only lists what is open.
    const alerts = await this.db.query<Record<string, unknown>>(
      `SELECT id::text AS id, kind, severity, pipeline, partition_key AS partition, message, created_at AS "createdAt"
       FROM ops.alerts WHERE resolved_at IS NULL AND kind IN ('freshness', 'incomplete_file') AND created_at <= $1
       ORDER BY created_at DESC LIMIT 200`,
      [new Date(Math.max(nowMs, Date.now())).toISOString()],
    );
    return { now: new Date(nowMs).toISOString(), pipelines, alerts: alerts.rows };
  }

  /**
   * Operations over the `hours` before `now`: runs per hour by status, failures with links, quarantined rows by
   * reason per hour (by publication time), landing → published latency against the 10-minute SLA.
   */
  async pipelines(q: PipelinesQueryDto) {
    const nowMs = this.nowMs(q);
    const hours = q.hours ?? 24;
    const from = new Date(nowMs - hours * 3_600_000).toISOString();
    const to = new Date(nowMs).toISOString();
    if (q.pipeline) this.spec(q.pipeline);
    const pipeline = q.pipeline ?? null;
    const [runs, failures, latency, latencyHourly] = await Promise.all([
      this.db.query<{ hour: Date; status: string; n: number }>(
        `SELECT date_trunc('hour', started_at) AS hour, status, count(*)::int AS n FROM ops.runs
         WHERE started_at >= $1 AND started_at < $2 AND ($3::text IS NULL OR pipeline = $3)
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [from, to, pipeline],
      ),
      this.db.query<Record<string, string | Date | null>>(
        `SELECT run_id, workflow_id, pipeline, partition_key, run_kind, failure_type, failure_message, started_at,
           finished_at
         FROM ops.runs WHERE status = 'failed' AND started_at >= $1 AND started_at < $2
           AND ($3::text IS NULL OR pipeline = $3)
         ORDER BY started_at DESC, run_id LIMIT 200`,
        [from, to, pipeline],
      ),
      this.db.query<Record<string, unknown>>(
        `${LATENCY_CTE}
         SELECT pipeline, count(*)::int AS runs,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS "p50Seconds",
           percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS "p95Seconds",
           max(seconds) AS "maxSeconds", count(*) FILTER (WHERE seconds > $4)::int AS "overSla"
         FROM lat GROUP BY pipeline ORDER BY pipeline`,
        [from, to, pipeline, LATENCY_SLA_MINUTES * 60],
      ),
      this.db.query<Record<string, unknown>>(
        `${LATENCY_CTE}
         SELECT date_trunc('hour', finished_at) AS hour,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS "p50Seconds",
           percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS "p95Seconds", count(*)::int AS runs
         FROM lat GROUP BY 1 ORDER BY 1`,
        [from, to, pipeline],
      ),
    ]);
    const quarantine = await this.quarantineByHour(from, to, pipeline);
    return {
      now: to,
      from,
      hours,
      latencySlaSeconds: LATENCY_SLA_MINUTES * 60,
      runsPerHour: runs.rows,
      failures: failures.rows.map((r) => ({
        runId: r.run_id,
        workflowId: r.workflow_id,
        pipeline: r.pipeline,
        partition: r.partition_key,
        runKind: r.run_kind,
        type: r.failure_type,
        message: r.failure_message,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        links: {
          temporalUi: temporalUiLink(this.config, r.workflow_id as string, r.run_id as string),
          partition: this.partitionLink(r.pipeline as string, r.partition_key as string),
        },
      })),
      quarantine,
      latency: latency.rows.map((r) => ({
        ...r,
        p50Seconds: num(r.p50Seconds),
        p95Seconds: num(r.p95Seconds),
        maxSeconds: num(r.maxSeconds),
      })),
      latencyHourly: latencyHourly.rows.map((r) => ({
        ...r,
        p50Seconds: num(r.p50Seconds),
        p95Seconds: num(r.p95Seconds),
      })),
    };
  }

  private async quarantineByHour(from: string, to: string, pipeline: string | null) {
    const out: { hour: Date; pipeline: string; reason: string; n: number }[] = [];
    if (pipeline === null || pipeline === FACTORY_PIPELINE) {
      const zone = this.spec(FACTORY_PIPELINE).partitioning.timeZone;
      const res = await this.db.query<{ hour: Date; pipeline: string; reason: string; n: number }>(
        `WITH loaded AS (
           SELECT split_part(partition_key, '@', 1) AS machine_id,
             (split_part(partition_key, '@', 2) || ':00')::timestamp AT TIME ZONE $3 AS partition_hour, loaded_at
           FROM ops.partition_state WHERE dataset = 'quarantined_rows' AND loaded_at >= $1 AND loaded_at < $2)
         SELECT date_trunc('hour', l.loaded_at) AS hour, $4::text AS pipeline, q.reason, count(*)::int AS n
         FROM loaded l JOIN factory.quarantined_rows q ON q.machine_id = l.machine_id AND q.partition_hour = l.partition_hour
         GROUP BY 1, 3 ORDER BY 1, 3`,
        [from, to, zone, FACTORY_PIPELINE],
      );
      out.push(...res.rows);
    }
    for (const spec of PIPELINES) {
      if (spec.id === FACTORY_PIPELINE || (pipeline !== null && pipeline !== spec.id)) continue;
      const res = await this.db.query<{ hour: Date; pipeline: string; reason: string; n: number }>(
        `WITH loaded AS (
           SELECT partition_key, max(loaded_at) AS loaded_at FROM ops.partition_state
           WHERE dataset = ANY($3) AND loaded_at >= $1 AND loaded_at < $2 GROUP BY partition_key)
         SELECT date_trunc('hour', l.loaded_at) AS hour, q.pipeline, q.reason, count(*)::int AS n
         FROM loaded l JOIN ops.quarantined_rows q ON q.pipeline = $4 AND q.partition_key = l.partition_key
         GROUP BY 1, 2, 3 ORDER BY 1, 3`,
        [from, to, spec.load.datasets, spec.id],
      );
      out.push(...res.rows);
    }
    return out;
  }

  /** Running (and paused) backfills of this deployment's task queue, from Temporal visibility, with progress. */
  async backfills() {
    const query = `WorkflowType = 'backfillWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${this.config.temporal.taskQueue.replace(/'/g, "''")}'`;
    const found: { workflowId: string; runId: string; startTime: Date; memo: unknown }[] = [];
    await this.client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, async () => {
      for await (const w of this.client.workflow.list({ query, pageSize: 100 })) {
        found.push({ workflowId: w.workflowId, runId: w.runId, startTime: w.startTime, memo: w.memo?.backfill });
        if (found.length >= 100) break;
      }
    });
    const ns = encodeURIComponent(this.config.temporal.namespace);
    const backfills = await Promise.all(
      found.map(async (w) => {
        const progress = await this.client
          .withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
            this.client.workflow.getHandle(w.workflowId).query(backfillProgressQuery),
          )
          .catch(() => undefined as BackfillProgress | undefined);
        const memo = (w.memo ?? {}) as Record<string, unknown>;
        return {
          backfillId: w.workflowId,
          pipeline: memo.pipeline ?? null,
          from: memo.from ?? null,
          to: memo.to ?? null,
          machines: memo.machines ?? null,
          mode: memo.mode ?? null,
          startedAt: w.startTime,
          status: progress?.status ?? 'running',
          progress: progress
            ? {
                total: progress.total,
                done: progress.done,
                failed: progress.failed,
                skipped: progress.skipped,
                running: progress.running,
                remaining: progress.remaining,
                partitionsPerMinute: progress.partitionsPerMinute,
                etaSeconds: progress.etaSeconds,
                maxConcurrency: progress.maxConcurrency,
              }
            : null,
          links: {
            temporalUi: `${this.config.temporal.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(w.workflowId)}`,
          },
        };
      }),
    );
    return { backfills: backfills.sort((a, b) => a.backfillId.localeCompare(b.backfillId)) };
  }

  /** Recent feature exports with their manifests. */
  async exports() {
    const res = await this.db.query<Record<string, unknown>>(
      `SELECT export_id AS "exportId", feature_set AS "featureSet", version, range_from::text AS "from",
         range_to::text AS "to", as_of AS "asOf", format, training, status, rows::float8 AS rows, bytes::float8 AS bytes,
         manifest_key AS "manifestKey", manifest, error, started_at AS "startedAt", finished_at AS "finishedAt"
       FROM ops.feature_exports ORDER BY started_at DESC LIMIT 20`,
    );
    return { exports: res.rows };
  }

  /** What happened to one partition: files landed, runs with their steps, quality, quarantined rows, lineage. */
  async partition(q: PartitionQueryDto) {
    const spec = this.spec(q.pipeline ?? FACTORY_PIPELINE);
    const p = spec.partitioning;
    const w = partitionWindow(p, q.partition);
    if (!w) throw new InvalidInputError('partition', `is not a partition of ${spec.id} (${p.kind}, a real period)`);
    const parts = parsePartition(p, q.partition)!;
    const toPartition = fileNameMatcher(spec);
    const factory = spec.id === FACTORY_PIPELINE;
    const [runs, steps, quality, landed, published, lineage, quarantine, yieldRow] = await Promise.all([
      this.db.query<Record<string, string | Date | null>>(
        `SELECT run_id, workflow_id, run_kind, status, failure_type, failure_message, source_key, content_sha256,
           started_at, finished_at
         FROM ops.runs WHERE pipeline = $1 AND partition_key = $2 ORDER BY started_at DESC, run_id LIMIT 100`,
        [spec.id, q.partition],
      ),
      this.db.query<Record<string, unknown>>(
        `SELECT s.run_id AS "runId", s.step, s.status, s.attempt, s.started_at AS "startedAt",
           s.finished_at AS "finishedAt", s.duration_ms AS "durationMs", s.rows_in::float8 AS "rowsIn",
           s.rows_out::float8 AS "rowsOut", s.rows_quarantined::float8 AS "rowsQuarantined", s.bytes::float8 AS bytes,
           s.details
         FROM ops.run_steps s JOIN ops.runs r ON r.run_id = s.run_id
         WHERE r.pipeline = $1 AND r.partition_key = $2 ORDER BY s.started_at`,
        [spec.id, q.partition],
      ),
      this.db.query<Record<string, unknown>>(
        `SELECT run_id AS "runId", check_name AS "check", passed, observed, threshold, details FROM ops.quality_results
         WHERE pipeline = $1 AND partition_key = $2 ORDER BY created_at, check_name`,
        [spec.id, q.partition],
      ),
      this.db.query<Record<string, unknown> & { object_key: string; partition_key: string | null }>(
        `SELECT object_key, partition_key, etag, size::float8 AS size, state, detail, content_sha256,
           first_seen_at AS "firstSeenAt", completed_at AS "completedAt"
         FROM ops.landed_files WHERE pipeline = $1 AND (partition_key = $2 OR (partition_key IS NULL AND object_key LIKE $3))
         ORDER BY first_seen_at`,
        [spec.id, q.partition, `%${parts.date.replace(/-/g, '')}%`],
      ),
      this.db.query<Record<string, unknown>>(
        `SELECT dataset, content_sha256 AS "contentSha256", rows::float8 AS rows, run_id AS "runId", loaded_at AS "loadedAt"
         FROM ops.partition_state WHERE dataset = ANY($1) AND partition_key = $2 ORDER BY dataset`,
        [spec.load.datasets, q.partition],
      ),
      this.db.query<Record<string, unknown>>(
        `SELECT run_id AS "runId", step, input_uri AS input, output_uri AS output, created_at AS "createdAt"
         FROM ops.lineage WHERE pipeline = $1 AND partition_key = $2 ORDER BY created_at, step LIMIT 500`,
        [spec.id, q.partition],
      ),
      factory
        ? this.db.query<Record<string, unknown>>(
            `SELECT line_no AS "lineNo", reason, column_name AS "column", detail, raw FROM factory.quarantined_rows
             WHERE machine_id = $1 AND partition_hour = $2 ORDER BY line_no LIMIT 1000`,
            [parts.entity, w.start],
          )
        : this.db.query<Record<string, unknown>>(
            `SELECT line_no AS "lineNo", reason, column_name AS "column", detail, raw FROM ops.quarantined_rows
             WHERE pipeline = $1 AND partition_key = $2 ORDER BY line_no LIMIT 1000`,
            [spec.id, q.partition],
          ),
      factory
        ? this.db.query<Record<string, unknown>>(
            'SELECT * FROM factory.machine_yield_hourly_enriched WHERE machine_id = $1 AND partition_hour = $2',
            [parts.entity, w.start],
          )
        : Promise.resolve(undefined),
    ]);
    const stepsBy = new Map<string, Record<string, unknown>[]>();
    for (const s of steps.rows) stepsBy.set(s.runId as string, [...(stepsBy.get(s.runId as string) ?? []), s]);
    const byReason: Record<string, number> = {};
    for (const r of quarantine.rows) byReason[r.reason as string] = (byReason[r.reason as string] ?? 0) + 1;
    const latest = runs.rows[0];
    const y = yieldRow?.rows[0];
    return {
      pipeline: spec.id,
      partition: q.partition,
      entity: parts.entity ?? null,
      window: w,
      timeZone: p.timeZone,
      status: published.rows.length
        ? 'published'
        : latest
          ? `${latest.status as string}${latest.failure_type ? `: ${latest.failure_type as string}` : ''}`
          : 'never run',
      published: published.rows,
      landedFiles: landed.rows
        .filter((l) => l.partition_key === q.partition || toPartition?.(l.object_key) === q.partition)
        .map((l) => {
          const { object_key, partition_key, content_sha256, ...rest } = l;
          return { objectKey: object_key, partition: partition_key, contentSha256: content_sha256, ...rest };
        }),
      runs: runs.rows.map((r) => ({
        runId: r.run_id,
        workflowId: r.workflow_id,
        runKind: r.run_kind,
        status: r.status,
        failure: r.failure_type ? { type: r.failure_type, message: r.failure_message } : null,
        sourceKey: r.source_key,
        contentSha256: r.content_sha256,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        steps: stepsBy.get(r.run_id as string) ?? [],
        links: { temporalUi: temporalUiLink(this.config, r.workflow_id as string, r.run_id as string) },
      })),
      quality: quality.rows,
      quarantine: { total: quarantine.rows.length, byReason, rows: quarantine.rows.slice(0, 200) },
      lineage: lineage.rows,
      yield: y
        ? Object.fromEntries(
            Object.entries(y).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v]),
          )
        : null,
    };
  }
}

/** Successful runs that finished in the window, with the seconds from their file landing to publication. */
const LATENCY_CTE = `WITH lat AS (
  SELECT r.pipeline, r.finished_at, extract(epoch FROM r.finished_at - l.first_seen_at)::float8 AS seconds
  FROM ops.runs r
  JOIN LATERAL (
    SELECT max(f.first_seen_at) AS first_seen_at FROM ops.landed_files f
    WHERE f.pipeline = r.pipeline AND f.object_key = r.source_key AND f.first_seen_at <= r.started_at
  ) l ON l.first_seen_at IS NOT NULL
  WHERE r.status = 'succeeded' AND r.finished_at >= $1 AND r.finished_at < $2 AND ($3::text IS NULL OR r.pipeline = $3))`;
