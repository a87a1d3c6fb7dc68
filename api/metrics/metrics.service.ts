import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { Client } from '@temporalio/client';
import pg from 'pg';
import { Gauge, Histogram, Registry } from 'prom-client';
import { pipelineOfDataset, PIPELINES } from '../../activities/registry/pipelines.js';
import type { FabricaConfig } from '../../worker/config.js';
import { backfillProgressQuery, type BackfillProgress } from '../../workflows/backfill-messages.js';
import { partitionWindow } from '../../workflows/partitions.js';
import { CONFIG } from '../config/config.module.js';
import { WAREHOUSE } from '../database/database.module.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import { METRICS_REGISTRY } from './http-metrics.js';

const RUN_STATUSES = ['running', 'succeeded', 'unchanged', 'failed', 'cancelled'];
const ALERT_KINDS = ['run_failed', 'freshness', 'incomplete_file'];
const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'silenced'];
const BACKFILL_STATES = ['done', 'failed', 'skipped', 'running', 'remaining'] as const;
/** Landing → published latency buckets (seconds), around the 10-minute SLA. */
export const LATENCY_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
/** Publications the latency histogram covers: the trailing window, so a scrape stays cheap on a large catalog. */
const LATENCY_WINDOW = '7 days';
/** How long a scrape waits on Temporal for the backfills' progress (Prometheus' default scrape timeout is 10 s). */
const BACKFILL_DEADLINE_MS = 5_000;
/** Running backfills a scrape reports at most (each is one query to a worker). */
const MAX_BACKFILLS = 50;

type Counts = { key: string; sub?: string; n: string }[];
type MachineHour = { machine: string; hour: number; yield_ratio: number | null; scrap: number; downtime_s: number };
type Published = { dataset: string; entity: string; key: string };
type Latency = { pipeline: string; seconds: number };
type Backfills = { ok: boolean; progress: BackfillProgress[] };

/** What one scrape read from the catalog and from Temporal. */
interface Snapshot {
  runs: Counts;
  alerts: Counts;
  datasets: Counts;
  loads: Counts;
  machines: MachineHour[];
  published: Published[];
  latencies: Latency[];
  quarantined: Counts;
  deliveries: Counts;
  backfills: Backfills;
  nowMs: number;
}

/** The pipeline whose datasets include the machine yield mart (the machines' calendar). */
const yieldPipeline = () => pipelineOfDataset('machine_yield_hourly');

/**
 * Pipeline metrics read from the run catalog at scrape time (gauges, so they are right after an API restart and
 * across several API replicas). Every registered pipeline, status, alert kind, dataset, machine and entity has a
 * series, 0 when empty, so alert rules never see a series vanish. Backfill progress is asked of Temporal (the
 * backfills' state lives in their workflows) with a short deadline.
 */
@Injectable()
export class MetricsService implements BeforeApplicationShutdown {
  /** Reads of Temporal still going (a scrape answers at its deadline and leaves them to finish). */
  private readonly inflight = new Set<Promise<unknown>>();

  private readonly runs: Gauge<'pipeline' | 'status'>;
  private readonly alerts: Gauge<'kind'>;
  private readonly rows: Gauge<'dataset'>;
  private readonly partitions: Gauge<'dataset'>;
  private readonly lastLoad: Gauge<'pipeline'>;
  private readonly machineYield: Gauge<'machine'>;
  private readonly machineScrap: Gauge<'machine'>;
  private readonly machineDowntime: Gauge<'machine'>;
  private readonly machineHour: Gauge<'machine'>;
  private readonly freshnessLag: Gauge<'pipeline' | 'entity'>;
  private readonly lastPublished: Gauge<'pipeline' | 'entity'>;
  private readonly latency: Histogram<'pipeline'>;
  private readonly quarantined: Gauge<'pipeline' | 'reason'>;
  private readonly backfill: Gauge<'backfill_id' | 'state'>;
  private readonly backfillScrapeOk: Gauge;
  private readonly deliveries: Gauge<'channel' | 'status'>;

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(WAREHOUSE) private readonly db: pg.Pool,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(CONFIG) private readonly config: FabricaConfig,
  ) {
    const gauge = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Gauge<L>({ name, help, labelNames, registers: [registry] });
    this.runs = gauge('fabrica_pipeline_runs', 'Runs in the catalog, by pipeline and status.', ['pipeline', 'status']);
    this.alerts = gauge('fabrica_alerts_open', 'Open (unresolved) alerts, by kind.', ['kind']);
    this.rows = gauge('fabrica_dataset_rows', 'Rows currently published, by dataset.', ['dataset']);
    this.partitions = gauge('fabrica_dataset_partitions_published', 'Partitions published, by dataset.', ['dataset']);
    this.lastLoad = gauge(
      'fabrica_pipeline_last_load_timestamp_seconds',
      'Unix time of the last successful load (publication) of the pipeline.',
      ['pipeline'],
    );
    const lastHour =
      'of the most recent hour published for the machine in factory.machine_yield_hourly (not the wall clock: see ' +
      'fabrica_machine_last_hour_timestamp_seconds); 0 for a machine with no published hour.';
    this.machineYield = gauge('fabrica_machine_yield_ratio', `Yield (good items / items, 0-1) ${lastHour}`, [
      'machine',
    ]);
    this.machineScrap = gauge('fabrica_machine_scrap_units', `Items scrapped ${lastHour}`, ['machine']);
    this.machineDowntime = gauge('fabrica_machine_downtime_seconds', `Downtime in seconds ${lastHour}`, ['machine']);
    this.machineHour = gauge(
      'fabrica_machine_last_hour_timestamp_seconds',
      'Unix time of the start of the most recent hour published for the machine (the hour the other ' +
        'fabrica_machine_* series describe); 0 for a machine with no published hour.',
      ['machine'],
    );
    this.freshnessLag = gauge(
      'fabrica_freshness_lag_seconds',
      'Seconds from the end of the last published partition of the entity (entity "" for pipelines partitioned by ' +
        'day only) to the scrape; counted from the Unix epoch when nothing was ever published.',
      ['pipeline', 'entity'],
    );
    this.lastPublished = gauge(
      'fabrica_freshness_last_published_timestamp_seconds',
      'Unix time of the end of the last published partition of the entity; 0 when nothing was ever published.',
      ['pipeline', 'entity'],
    );
    this.latency = new Histogram<'pipeline'>({
      name: 'fabrica_landing_to_published_seconds',
      help:
        'Seconds from a file landing (first seen by the sensor) to its partition being published, by pipeline, ' +
        `over the publications of the last ${LATENCY_WINDOW} (recomputed from the catalog on every scrape, so ` +
        'not a counter: read it directly, without rate()).',
      labelNames: ['pipeline'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.quarantined = gauge(
      'fabrica_quarantined_rows',
      'Rows quarantined in the currently published partitions, by pipeline and reason.',
      ['pipeline', 'reason'],
    );
    this.backfill = gauge(
      'fabrica_backfill_partitions',
      "Partitions of each running backfill by state (done, failed, skipped, running, remaining), from the workflow's " +
        'progress query.',
      ['backfill_id', 'state'],
    );
    this.backfillScrapeOk = new Gauge({
      name: 'fabrica_backfill_progress_scrape_ok',
      help: "1 when Temporal answered the running backfills' progress in this scrape, else 0 (series may be missing).",
      registers: [registry],
    });
    this.deliveries = gauge(
      'fabrica_alert_deliveries',
      'Alert delivery messages (ops.alert_deliveries), by channel and status.',
      ['channel', 'status'],
    );
  }

  /** Content type of {@link render}'s output (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reads the catalog (and Temporal), then renders every metric (HTTP and pipeline) in the Prometheus text format. */
  async render(): Promise<string> {
    const q = <R extends pg.QueryResultRow = Counts[number]>(sql: string, params: unknown[] = []) =>
      this.db.query<R>(sql, params).then((r) => r.rows);
    const [runs, alerts, datasets, loads, machines, published, latencies, quarantined, deliveries, backfills] =
      await Promise.all([
        q('SELECT pipeline AS key, status AS sub, count(*) AS n FROM ops.runs GROUP BY 1, 2'),
        q('SELECT kind AS key, count(*) AS n FROM ops.alerts WHERE resolved_at IS NULL GROUP BY 1'),
        q('SELECT dataset AS key, count(*) AS sub, sum(rows) AS n FROM ops.partition_state GROUP BY 1'),
        q(`SELECT r.pipeline AS key, extract(epoch FROM max(l.loaded_at)) AS n
           FROM ops.load_ledger l JOIN ops.runs r USING (run_id) GROUP BY 1`),
        // The latest published hour of each machine (the primary key leads with the machine).
        q<MachineHour>(`SELECT DISTINCT ON (machine_id) machine_id AS machine,
             extract(epoch FROM partition_hour)::float8 AS hour, (yield_pct / 100)::float8 AS yield_ratio,
             scrap, (downtime_minutes * 60)::float8 AS downtime_s
           FROM factory.machine_yield_hourly ORDER BY machine_id, partition_hour DESC`),
        // The latest partition key of each entity per dataset (keys sort by period within an entity).
        q<Published>(`SELECT dataset, CASE WHEN strpos(partition_key, '@') > 0 THEN split_part(partition_key, '@', 1)
             ELSE '' END AS entity, max(partition_key) AS key FROM ops.partition_state GROUP BY 1, 2`),
        // One publication per run (its datasets share one transaction), from the latest landing of its file before it.
        q<Latency>(`WITH pub AS (SELECT run_id, max(loaded_at) AS loaded_at FROM ops.load_ledger
               WHERE loaded_at > now() - interval '${LATENCY_WINDOW}' GROUP BY run_id)
           SELECT r.pipeline, extract(epoch FROM pub.loaded_at - f.landed_at)::float8 AS seconds
           FROM pub JOIN ops.runs r USING (run_id)
           CROSS JOIN LATERAL (SELECT max(first_seen_at) AS landed_at FROM ops.landed_files
             WHERE pipeline = r.pipeline AND object_key = r.source_key AND first_seen_at <= pub.loaded_at) f
           WHERE f.landed_at IS NOT NULL`),
        q(
          `SELECT $1::text AS key, reason AS sub, count(*) AS n FROM factory.quarantined_rows GROUP BY 2
           UNION ALL SELECT pipeline, reason, count(*) FROM ops.quarantined_rows GROUP BY 1, 2`,
          [pipelineOfDataset('quarantined_rows')?.id ?? 'factory-machine-signals'],
        ),
        q('SELECT channel AS key, status AS sub, count(*) AS n FROM ops.alert_deliveries GROUP BY 1, 2'),
        this.backfillProgress(),
      ]);
    this.setAll({
      runs,
      alerts,
      datasets,
      loads,
      machines,
      published,
      latencies,
      quarantined,
      deliveries,
      backfills,
      nowMs: Date.now(),
    });
    return this.registry.metrics();
  }

  /** The progress of every running backfill on this task queue, asked of Temporal within a short deadline. */
  private async backfillProgress(): Promise<Backfills> {
    const deadline = Date.now() + BACKFILL_DEADLINE_MS;
    let timer: NodeJS.Timeout | undefined;
    const read = this.client.withDeadline(deadline, async () => {
      const ids: string[] = [];
      const query =
        `WorkflowType = 'backfillWorkflow' AND ExecutionStatus = 'Running' AND ` +
        `TaskQueue = '${this.config.temporal.taskQueue}'`;
      for await (const wf of this.client.workflow.list({ query, pageSize: MAX_BACKFILLS })) {
        ids.push(wf.workflowId);
        if (ids.length >= MAX_BACKFILLS) break;
      }
      const answers = await Promise.allSettled(
        ids.map((id) => this.client.workflow.getHandle(id).query(backfillProgressQuery)),
      );
      const progress = answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
      return { ok: progress.length === ids.length, progress };
    });
    // Tracked until settled: the connection is closed only after them (see beforeApplicationShutdown).
    const settled = read.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(settled);
    void settled.finally(() => this.inflight.delete(settled));
    const late = new Promise<Backfills>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, progress: [] }), BACKFILL_DEADLINE_MS + 500);
    });
    try {
      return await Promise.race([read, late]);
    } catch {
      // Temporal unreachable (or the visibility query refused): the catalog's metrics are still served.
      return { ok: false, progress: [] };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Waits for the reads of Temporal a scrape left behind (each bounded by its deadline) before the Temporal module
   * closes the connection: a read retrying on a closed channel would throw from the SDK's timer.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.inflight]);
  }

  // Synchronous, so two concurrent scrapes never interleave a reset with another's values.
  private setAll(s: Snapshot): void {
    const all = [
      this.runs,
      this.alerts,
      this.rows,
      this.partitions,
      this.lastLoad,
      this.machineYield,
      this.machineScrap,
      this.machineDowntime,
      this.machineHour,
      this.freshnessLag,
      this.lastPublished,
      this.latency,
      this.quarantined,
      this.backfill,
      this.deliveries,
    ];
    for (const g of all) g.reset();
    for (const p of PIPELINES) {
      for (const status of RUN_STATUSES) this.runs.set({ pipeline: p.id, status }, 0);
      for (const dataset of p.load.datasets) {
        this.rows.set({ dataset }, 0);
        this.partitions.set({ dataset }, 0);
      }
      this.latency.zero({ pipeline: p.id });
    }
    for (const kind of ALERT_KINDS) this.alerts.set({ kind }, 0);
    for (const r of s.runs) this.runs.set({ pipeline: r.key, status: r.sub! }, Number(r.n));
    for (const r of s.alerts) this.alerts.set({ kind: r.key }, Number(r.n));
    for (const r of s.datasets) {
      this.rows.set({ dataset: r.key }, Number(r.n));
      this.partitions.set({ dataset: r.key }, Number(r.sub));
    }
    for (const r of s.loads) this.lastLoad.set({ pipeline: r.key }, Math.floor(Number(r.n)));
    this.setMachines(s.machines);
    this.setFreshness(s.published, s.nowMs);
    for (const r of s.latencies) this.latency.observe({ pipeline: r.pipeline }, Math.max(0, r.seconds));
    for (const r of s.quarantined) this.quarantined.set({ pipeline: r.key, reason: r.sub! }, Number(r.n));
    const channels = new Set(s.deliveries.map((r) => r.key));
    for (const channel of channels) for (const status of DELIVERY_STATUSES) this.deliveries.set({ channel, status }, 0);
    for (const r of s.deliveries) this.deliveries.set({ channel: r.key, status: r.sub! }, Number(r.n));
    this.backfillScrapeOk.set(s.backfills.ok ? 1 : 0);
    for (const b of s.backfills.progress)
      for (const state of BACKFILL_STATES) this.backfill.set({ backfill_id: b.backfillId, state }, b[state]);
  }

  private setMachines(rows: MachineHour[]): void {
    const gauges = [this.machineYield, this.machineScrap, this.machineDowntime, this.machineHour];
    for (const machine of yieldPipeline()?.partitioning.entities ?? []) for (const g of gauges) g.set({ machine }, 0);
    for (const r of rows) {
      const machine = r.machine;
      // An hour without items has no yield: NaN, so a low-yield rule neither fires nor resolves on it.
      this.machineYield.set({ machine }, r.yield_ratio ?? Number.NaN);
      this.machineScrap.set({ machine }, Number(r.scrap));
      this.machineDowntime.set({ machine }, r.downtime_s);
      this.machineHour.set({ machine }, r.hour);
    }
  }

  /** Lag and last publication per pipeline and entity: the end of the latest published partition (its window). */
  private setFreshness(rows: Published[], nowMs: number): void {
    const latest = new Map<string, string>();
    for (const r of rows) {
      const p = pipelineOfDataset(r.dataset);
      if (!p) continue;
      const k = `${p.id}\u0000${r.entity}`;
      if ((latest.get(k) ?? '') < r.key) latest.set(k, r.key);
    }
    for (const p of PIPELINES) {
      const entities = p.partitioning.kind === 'day' ? [''] : (p.partitioning.entities ?? []);
      for (const e of entities) latest.set(`${p.id}\u0000${e}`, latest.get(`${p.id}\u0000${e}`) ?? '');
    }
    for (const [k, key] of latest) {
      const [pipeline, entity] = k.split('\u0000') as [string, string];
      const p = PIPELINES.find((x) => x.id === pipeline)!;
      const end = key ? partitionWindow(p.partitioning, key)?.end : undefined;
      const endSeconds = end ? Date.parse(end) / 1000 : 0;
      this.lastPublished.set({ pipeline, entity }, endSeconds);
      this.freshnessLag.set({ pipeline, entity }, nowMs / 1000 - endSeconds);
    }
  }
}
