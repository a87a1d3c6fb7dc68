import { Inject, Injectable } from '@nestjs/common';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import pg from 'pg';
import type { FabricaConfig } from '../../worker/config.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { runStartOptions } from '../../workflows/start-options.js';
import { partitionKeyExample, partitionWindow } from '../../workflows/partitions.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import { WAREHOUSE } from '../database/database.module.js';
import { PipelinesService } from '../pipelines/pipelines.service.js';
import { temporalUiLink } from '../temporal/links.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import type { ListRunsDto } from './dto/list-runs.dto.js';
import { TEMPORAL_DEADLINE_MS } from '../temporal/deadline.js';
import { apiLog } from '../logging/request-context.js';

/** A run as the API returns it. */
export interface RunView {
  runId: string;
  workflowId: string;
  pipeline: string;
  partition: string;
  runKind: string;
  status: string;
  failure?: { type: string | null; message: string | null };
  startedAt?: Date;
  finishedAt?: Date | null;
  steps?: Record<string, unknown>[];
  quality?: Record<string, unknown>[];
  links: { temporalUi: string };
}

interface RunRow {
  run_id: string;
  workflow_id: string;
  pipeline: string;
  partition_key: string;
  run_kind: string;
  status: string;
  failure_type: string | null;
  failure_message: string | null;
  started_at: Date;
  finished_at: Date | null;
}

/** Temporal's closed workflow states in the run vocabulary (`running`, `succeeded`, `unchanged`, `failed`, `cancelled`). */
const RUN_STATUS_OF: Record<string, string> = {
  COMPLETED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'failed',
  TIMED_OUT: 'failed',
  CONTINUED_AS_NEW: 'running',
};

/** Starts, reads and cancels partition runs: Temporal for state, the catalog for steps and quality. */
@Injectable()
export class RunsService {
  constructor(
    @Inject(CONFIG) private readonly config: FabricaConfig,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(WAREHOUSE) private readonly db: pg.Pool,
    private readonly pipelines: PipelinesService,
  ) {}

  /** Temporal calls get a deadline, so an unreachable server is a quick 503 rather than a long retry loop. */
  private deadline<T>(fn: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, fn);
  }

  private link(workflowId: string, runId: string): string {
    return temporalUiLink(this.config, workflowId, runId);
  }

  /**
   * Starts the partition's run, or returns the one in flight (the workflow id is the business id, and the conflict
   * policy is USE_EXISTING), so a client retry after a timeout is always safe.
   */
  async start(pipelineId: string, partition: string, force = false): Promise<RunView> {
    const spec = this.pipelines.spec(pipelineId);
    if (!partitionWindow(spec.partitioning, partition))
      throw new InvalidInputError(
        'partition',
        `is not a partition of ${spec.id} (like ${partitionKeyExample(spec.partitioning)}, a real ${spec.partitioning.kind === 'entity-hour' ? 'local hour' : 'date'})`,
      );
    const workflowId = runWorkflowId(spec.id, partition);
    const handle = await this.deadline(() =>
      this.client.workflow.start(
        pipelineRunWorkflow,
        runStartOptions(spec, partition, { taskQueue: this.config.temporal.taskQueue, runKind: 'manual', force }),
      ),
    );
    const runId = handle.firstExecutionRunId;
    // Readable at once: the catalog row exists before the answer, not only once the run's first activity wrote it.
    // Insert-if-absent; the run's own first write corrects the kind if this was another starter's run (USE_EXISTING).
    await this.db.query(
      `INSERT INTO ops.runs (run_id, workflow_id, pipeline, partition_key, run_kind, status)
       VALUES ($1, $2, $3, $4, 'manual', 'running') ON CONFLICT (run_id) DO NOTHING`,
      [runId, workflowId, spec.id, partition],
    );
    apiLog.info('run started', { pipeline: spec.id, partition, workflowId, runId, force });
    return {
      runId,
      workflowId,
      pipeline: spec.id,
      partition,
      runKind: 'manual',
      status: 'running',
      links: { temporalUi: this.link(workflowId, runId) },
    };
  }

  /** Pages through runs in the catalog, newest first. */
  async list(q: ListRunsDto): Promise<{ items: RunView[]; page: number; pageSize: number; total: number }> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown) => (args.push(v), where.push(sql.replace('?', `$${args.length}`)));
    if (q.pipeline) add('pipeline = ?', q.pipeline);
    if (q.status) add('status = ?', q.status);
    if (q.partition) add('partition_key = ?', q.partition);
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM ops.runs ${filter}`, args);
    const rows = await this.db.query<RunRow>(
      `SELECT * FROM ops.runs ${filter} ORDER BY started_at DESC, run_id LIMIT ${q.pageSize} OFFSET ${(q.page - 1) * q.pageSize}`,
      args,
    );
    return {
      items: rows.rows.map((r) => this.view(r)),
      page: q.page,
      pageSize: q.pageSize,
      total: Number(total.rows[0]!.n),
    };
  }

  /** One run with its steps and quality results; live status from Temporal when the catalog still says running. */
  async get(runId: string): Promise<RunView> {
    const row = await this.row(runId);
    const view = this.view(row);
    const [steps, quality] = await Promise.all([
      this.db.query(
        'SELECT step, status, attempt, started_at, finished_at, duration_ms, rows_in, rows_out, rows_quarantined, bytes FROM ops.run_steps WHERE run_id = $1 ORDER BY started_at',
        [runId],
      ),
      this.db.query(
        'SELECT check_name, passed, observed, threshold, details FROM ops.quality_results WHERE run_id = $1 ORDER BY check_name',
        [runId],
      ),
    ]);
    if (row.status === 'running') {
      const d = await this.deadline(() => this.client.workflow.getHandle(row.workflow_id, runId).describe()).catch(
        () => undefined,
      );
      if (d && d.status.name !== 'RUNNING') {
        // One vocabulary: Temporal's closed states in the catalog's words (a terminated or timed-out run failed).
        view.status = RUN_STATUS_OF[d.status.name] ?? 'failed';
        if (d.status.name === 'TERMINATED' || d.status.name === 'TIMED_OUT')
          view.failure = {
            type: d.status.name === 'TERMINATED' ? 'Terminated' : 'TimedOut',
            message: `the run's workflow was ${d.status.name === 'TERMINATED' ? 'terminated' : 'timed out'} in Temporal`,
          };
      }
    }
    return { ...view, steps: steps.rows, quality: quality.rows };
  }

  /** Requests cancellation of a running run; 409 when it has already finished. */
  async cancel(runId: string): Promise<RunView> {
    const row = await this.row(runId);
    const handle = this.client.workflow.getHandle(row.workflow_id, runId);
    const d = await this.deadline(() => handle.describe()).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError('run', runId);
      throw err;
    });
    if (d.status.name !== 'RUNNING')
      throw new ConflictError(`run ${runId} is ${RUN_STATUS_OF[d.status.name] ?? 'failed'}, not running`);
    await this.deadline(() => handle.cancel());
    return { ...this.view(row), status: 'cancelling' };
  }

  private async row(runId: string): Promise<RunRow> {
    if (!/^[0-9a-f-]{36}$/i.test(runId)) throw new NotFoundError('run', runId);
    const res = await this.db.query<RunRow>('SELECT * FROM ops.runs WHERE run_id = $1', [runId]);
    if (!res.rows[0]) throw new NotFoundError('run', runId);
    return res.rows[0];
  }

  private view(r: RunRow): RunView {
    return {
      runId: r.run_id,
      workflowId: r.workflow_id,
      pipeline: r.pipeline,
      partition: r.partition_key,
      runKind: r.run_kind,
      status: r.status,
      ...(r.failure_type ? { failure: { type: r.failure_type, message: r.failure_message } } : {}),
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      links: { temporalUi: this.link(r.workflow_id, r.run_id) },
    };
  }
}
