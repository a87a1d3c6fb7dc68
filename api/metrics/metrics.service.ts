import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { Gauge, Registry } from 'prom-client';
import { PIPELINES } from '../../activities/registry/pipelines.js';
import { WAREHOUSE } from '../database/database.module.js';
import { METRICS_REGISTRY } from './http-metrics.js';

const RUN_STATUSES = ['running', 'succeeded', 'unchanged', 'failed'];
const ALERT_KINDS = ['run_failed', 'freshness', 'incomplete_file'];

type Counts = { key: string; sub?: string; n: string }[];

/**
 * Pipeline metrics read from the run catalog at scrape time (gauges, so they are right after an API restart and
 * across several API replicas). Every registered pipeline, status, alert kind and dataset has a series, 0 when empty,
 * so alert rules never see a series vanish.
 */
@Injectable()
export class MetricsService {
  private readonly runs: Gauge<'pipeline' | 'status'>;
  private readonly alerts: Gauge<'kind'>;
  private readonly rows: Gauge<'dataset'>;
  private readonly partitions: Gauge<'dataset'>;
  private readonly lastLoad: Gauge<'pipeline'>;

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(WAREHOUSE) private readonly db: pg.Pool,
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
  }

  /** Content type of {@link render}'s output (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reads the catalog, then renders every metric (HTTP and pipeline) in the Prometheus text format. */
  async render(): Promise<string> {
    const q = (sql: string) => this.db.query<Counts[number]>(sql).then((r) => r.rows);
    const [runs, alerts, datasets, loads] = await Promise.all([
      q('SELECT pipeline AS key, status AS sub, count(*) AS n FROM ops.runs GROUP BY 1, 2'),
      q('SELECT kind AS key, count(*) AS n FROM ops.alerts WHERE resolved_at IS NULL GROUP BY 1'),
      q('SELECT dataset AS key, count(*) AS sub, sum(rows) AS n FROM ops.partition_state GROUP BY 1'),
      q(`SELECT r.pipeline AS key, extract(epoch FROM max(l.loaded_at)) AS n
         FROM ops.load_ledger l JOIN ops.runs r USING (run_id) GROUP BY 1`),
    ]);
    this.setAll(runs, alerts, datasets, loads);
    return this.registry.metrics();
  }

  // Synchronous, so two concurrent scrapes never interleave a reset with another's values.
  private setAll(runs: Counts, alerts: Counts, datasets: Counts, loads: Counts): void {
    for (const g of [this.runs, this.alerts, this.rows, this.partitions, this.lastLoad]) g.reset();
    for (const p of PIPELINES) {
      for (const status of RUN_STATUSES) this.runs.set({ pipeline: p.id, status }, 0);
      for (const dataset of p.load.datasets) {
        this.rows.set({ dataset }, 0);
        this.partitions.set({ dataset }, 0);
      }
    }
    for (const kind of ALERT_KINDS) this.alerts.set({ kind }, 0);
    for (const r of runs) this.runs.set({ pipeline: r.key, status: r.sub! }, Number(r.n));
    for (const r of alerts) this.alerts.set({ kind: r.key }, Number(r.n));
    for (const r of datasets) {
      this.rows.set({ dataset: r.key }, Number(r.n));
      this.partitions.set({ dataset: r.key }, Number(r.sub));
    }
    for (const r of loads) this.lastLoad.set({ pipeline: r.key }, Math.floor(Number(r.n)));
  }
}
