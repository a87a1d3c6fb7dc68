import type pg from 'pg';
import { parsePartition } from '../workflows/partitions.js';
import type { RunContext, RunOutcome } from '../workflows/steps.js';
import type { AlertSink } from './alerts/sink.js';
import { getPipeline } from './registry/pipelines.js';

/** One step's measurements, written to `ops.run_steps`. */
export interface StepRecord {
  step: 'ingest' | 'stage' | 'transform' | 'load' | 'serve';
  startedAt: Date;
  attempt: number;
  rowsIn?: number;
  rowsOut?: number;
  rowsQuarantined?: number;
  bytes?: number;
  details?: Record<string, unknown>;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/**
 * The group an alert is delivered in: its kind, pipeline and the partition's period (`freshness:machine-signal:
 * 2026-11-20T10`), so 15 machines stale in the same hour are one message; an alert without a partition groups by the
 * hour it was raised in.
 */
export function alertGroupKey(kind: string, pipeline: string, partition: string | undefined, now = new Date()): string {
  const spec = getPipeline(pipeline);
  const period = partition && spec ? parsePartition(spec.partitioning, partition)?.period : undefined;
  return `${kind}:${pipeline}:${period ?? partition ?? now.toISOString().slice(0, 13)}`;
}

/**
 * Writes to the run catalog (`ops` schema). Every write is an upsert keyed by run (and step, check, URI), so an
 * activity retried after a crash rewrites the same rows instead of adding new ones.
 */
export class Catalog {
  /** @param alerts told about raised and resolved alerts (their delivery workflows); none: only the rows. */
  constructor(
    private readonly db: Queryable,
    private readonly alerts?: AlertSink,
  ) {}

  /** Records a run as running. */
  async runStarted(ctx: RunContext): Promise<void> {
    await this.db.query(
      `INSERT INTO ops.runs (run_id, workflow_id, pipeline, partition_key, run_kind, status)
       VALUES ($1, $2, $3, $4, $5, 'running')
       ON CONFLICT (run_id) DO UPDATE SET run_kind = EXCLUDED.run_kind WHERE ops.runs.status = 'running'`,
      [ctx.runId, ctx.workflowId, ctx.pipeline, ctx.partition, ctx.runKind],
    );
  }

  /** Records a run's end; a failure also raises an alert (one per run). */
  async runFinished(ctx: RunContext, outcome: RunOutcome): Promise<void> {
    await this.db.query(
      `INSERT INTO ops.runs (run_id, workflow_id, pipeline, partition_key, run_kind, status, failure_type, failure_message,
         source_key, content_sha256, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
       ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, failure_type = EXCLUDED.failure_type,
         failure_message = EXCLUDED.failure_message, source_key = COALESCE(EXCLUDED.source_key, ops.runs.source_key),
         content_sha256 = COALESCE(EXCLUDED.content_sha256, ops.runs.content_sha256), finished_at = now()`,
      [
        ctx.runId,
        ctx.workflowId,
        ctx.pipeline,
        ctx.partition,
        ctx.runKind,
        outcome.status,
        outcome.failureType ?? null,
        outcome.failureMessage ?? null,
        outcome.sourceKey ?? null,
        outcome.sha256 ?? null,
      ],
    );
    if (outcome.status === 'succeeded') {
      // The partition is published: its freshness, incomplete-file and earlier failure alerts no longer hold.
      const { rows } = await this.db.query<{ group_key: string }>(
        `UPDATE ops.alerts SET resolved_at = now() WHERE pipeline = $1 AND partition_key = $2 AND resolved_at IS NULL
           AND run_id IS DISTINCT FROM $3
         RETURNING group_key`,
        [ctx.pipeline, ctx.partition, ctx.runId],
      );
      await this.alerts?.changed(rows.map((r) => r.group_key));
    }
    if (outcome.status === 'failed') {
      await this.alert({
        dedupKey: `run_failed:${ctx.runId}`,
        kind: 'run_failed',
        severity: 'critical',
        pipeline: ctx.pipeline,
        partition: ctx.partition,
        runId: ctx.runId,
        message: `${ctx.pipeline} ${ctx.partition} failed (${outcome.failureType}): ${outcome.failureMessage}`,
        details: { failureType: outcome.failureType, workflowId: ctx.workflowId },
      });
    }
  }

  /** Upserts one step's measurements; a late write of an older attempt never replaces a newer attempt's. */
  async step(ctx: RunContext, r: StepRecord): Promise<void> {
    const finished = new Date();
    await this.db.query(
      `INSERT INTO ops.run_steps (run_id, step, status, attempt, started_at, finished_at, duration_ms, rows_in, rows_out,
         rows_quarantined, bytes, details)
       VALUES ($1, $2, 'completed', $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (run_id, step) DO UPDATE SET attempt = EXCLUDED.attempt, started_at = EXCLUDED.started_at,
         finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms, rows_in = EXCLUDED.rows_in,
         rows_out = EXCLUDED.rows_out, rows_quarantined = EXCLUDED.rows_quarantined, bytes = EXCLUDED.bytes,
         details = EXCLUDED.details
       WHERE ops.run_steps.attempt <= EXCLUDED.attempt`,
      [
        ctx.runId,
        r.step,
        r.attempt,
        r.startedAt,
        finished,
        finished.getTime() - r.startedAt.getTime(),
        r.rowsIn ?? null,
        r.rowsOut ?? null,
        r.rowsQuarantined ?? null,
        r.bytes ?? null,
        JSON.stringify(r.details ?? {}),
      ],
    );
  }

  /** Records that `output` was derived from `input` by `step`. */
  async lineage(ctx: RunContext, step: string, input: string, output: string): Promise<void> {
    await this.db.query(
      `INSERT INTO ops.lineage (run_id, pipeline, partition_key, input_uri, output_uri, step)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [ctx.runId, ctx.pipeline, ctx.partition, input, output, step],
    );
  }

  /** Records one data-quality check result. */
  async quality(
    ctx: RunContext,
    check: { name: string; passed: boolean; observed?: number; threshold?: number; details?: Record<string, unknown> },
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO ops.quality_results (run_id, pipeline, partition_key, check_name, passed, observed, threshold, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (run_id, check_name) DO UPDATE SET passed = EXCLUDED.passed, observed = EXCLUDED.observed,
         threshold = EXCLUDED.threshold, details = EXCLUDED.details`,
      [
        ctx.runId,
        ctx.pipeline,
        ctx.partition,
        check.name,
        check.passed,
        check.observed ?? null,
        check.threshold ?? null,
        JSON.stringify(check.details ?? {}),
      ],
    );
  }

  /** Raises an alert once per `dedupKey`. */
  async alert(a: {
    dedupKey: string;
    kind: 'run_failed' | 'freshness' | 'incomplete_file';
    severity: 'warning' | 'critical';
    pipeline: string;
    partition?: string;
    runId?: string;
    message: string;
    details?: Record<string, unknown>;
  }): Promise<void> {
    const groupKey = alertGroupKey(a.kind, a.pipeline, a.partition);
    // A retried raise inserts nothing but signals again (the signal of the first attempt may be what failed).
    const { rows } = await this.db.query<{ group_key: string }>(
      `WITH inserted AS (
         INSERT INTO ops.alerts (dedup_key, kind, severity, pipeline, partition_key, run_id, message, details, group_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedup_key) DO NOTHING RETURNING group_key)
       SELECT group_key FROM inserted
       UNION ALL SELECT group_key FROM ops.alerts WHERE dedup_key = $1 AND planned_at IS NULL`,
      [
        a.dedupKey,
        a.kind,
        a.severity,
        a.pipeline,
        a.partition ?? null,
        a.runId ?? null,
        a.message,
        JSON.stringify(a.details ?? {}),
        groupKey,
      ],
    );
    await this.alerts?.changed(rows.map((r) => r.group_key));
  }

  /** Resolves the open alerts of a source's failed syncs (a sync has committed since). */
  async sourceRecovered(pipeline: string): Promise<void> {
    const { rows } = await this.db.query<{ group_key: string }>(
      `UPDATE ops.alerts SET resolved_at = now() WHERE pipeline = $1 AND kind = 'run_failed' AND resolved_at IS NULL
       RETURNING group_key`,
      [pipeline],
    );
    await this.alerts?.changed(rows.map((r) => r.group_key));
  }
}
