import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Client, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { FabricaConfig } from '../../worker/config.js';
import {
  backfillProgressQuery,
  cancelSignal,
  pauseSignal,
  resumeSignal,
  setMaxConcurrencyUpdate,
  type BackfillMode,
  type BackfillProgress,
} from '../../workflows/backfill-messages.js';
import { backfillWorkflow } from '../../workflows/backfill.workflow.js';
import { isPeriod, periodCount } from '../../workflows/partitions.js';
import type { PipelineSpec } from '../../workflows/spec.js';
import { PIPELINE, PIPELINE_STATUS, RUN_KIND } from '../../workflows/search-attributes.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import { PipelinesService } from '../pipelines/pipelines.service.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import type { CreateBackfillDto } from './dto/create-backfill.dto.js';
import { TEMPORAL_DEADLINE_MS } from '../temporal/deadline.js';
import { apiLog } from '../logging/request-context.js';

/** A backfill as the API returns it. */
export interface BackfillView {
  backfillId: string;
  workflowId: string;
  pipeline: string;
  from: string;
  to: string;
  machines: string[] | null;
  mode: BackfillMode;
  dryRun: boolean;
  status: string;
  progress?: BackfillProgress;
  links: { temporalUi: string };
}

interface BackfillMemo {
  pipeline: string;
  from: string;
  to: string;
  machines: string[] | null;
  mode: BackfillMode;
  dryRun: boolean;
}

/** Longest range one backfill may cover (a year and a bit). */
const MAX_RANGE_HOURS = 400 * 24;

/** Starts and steers backfill workflows. */
@Injectable()
export class BackfillsService {
  constructor(
    @Inject(CONFIG) private readonly config: FabricaConfig,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    private readonly pipelines: PipelinesService,
  ) {}

  private deadline<T>(fn: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, fn);
  }

  /**
   * Starts a backfill, or returns the one already running for the same request: its id is derived from the request
   * (pipeline, range, machines, mode), so duplicate and concurrent POSTs find one execution; a finished or
   * cancelled one can be started again.
   */
  async start(pipelineId: string, body: CreateBackfillDto): Promise<BackfillView> {
    const spec = this.pipelines.spec(pipelineId);
    const memo = this.validate(spec, body);
    const digest = createHash('sha256')
      .update(JSON.stringify([memo.machines, memo.mode, memo.dryRun]))
      .digest('hex')
      .slice(0, 8);
    const backfillId = `bf-${spec.id}-${memo.from}-${memo.to}-${digest}`;
    const handle = await this.deadline(() =>
      this.client.workflow.start(backfillWorkflow, {
        workflowId: backfillId,
        taskQueue: this.config.temporal.taskQueue,
        args: [
          {
            backfillId,
            spec,
            from: memo.from,
            to: memo.to,
            entities: memo.machines ?? undefined,
            mode: memo.mode,
            dryRun: memo.dryRun,
            maxConcurrency: body.maxConcurrency ?? 4,
          },
        ],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        memo: { backfill: memo },
        typedSearchAttributes: [
          { key: PIPELINE, value: spec.id },
          { key: RUN_KIND, value: 'backfill' },
          { key: PIPELINE_STATUS, value: 'Running' },
        ],
        staticSummary: `backfill ${spec.id} ${memo.from}..${memo.to} (${memo.dryRun ? 'dry run, ' : ''}${memo.mode}${memo.machines ? `, ${memo.machines.join(',')}` : ''})`,
      }),
    );
    apiLog.info('backfill started', { pipeline: spec.id, workflowId: backfillId, runId: handle.firstExecutionRunId });
    return this.get(backfillId);
  }

  private validate(spec: PipelineSpec, body: CreateBackfillDto): BackfillMemo {
    const pipeline = spec.id;
    const p = spec.partitioning;
    const what = p.kind === 'entity-hour' ? 'a real local hour YYYY-MM-DDTHH' : 'a real day YYYY-MM-DD';
    if (!isPeriod(p, body.from)) throw new InvalidInputError('from', `is not ${what} (${pipeline} is ${p.kind})`);
    if (!isPeriod(p, body.to)) throw new InvalidInputError('to', `is not ${what} (${pipeline} is ${p.kind})`);
    const periods = periodCount(p, body.from, body.to);
    if (periods === 0) throw new InvalidInputError('to', 'must not be before from');
    if (periods - 1 > (p.kind === 'entity-hour' ? MAX_RANGE_HOURS : MAX_RANGE_HOURS / 24))
      throw new InvalidInputError('to', `range is over ${MAX_RANGE_HOURS / 24} days; split it`);
    if (p.kind === 'day' && body.machines?.length)
      throw new InvalidInputError('machines', `${pipeline} has no entities (partitioned by day)`);
    const entities = p.entities ?? [];
    const unknown = (body.machines ?? []).filter((m) => !entities.includes(m));
    if (unknown.length)
      throw new InvalidInputError('machines', `are not machines of ${pipeline}: ${unknown.join(', ')}`);
    const machines = body.machines?.length ? [...new Set(body.machines)].sort() : null;
    const dryRun = body.dryRun === true || body.mode === 'dry-run';
    const mode: BackfillMode = body.mode === 'dry-run' || body.mode === undefined ? 'all' : body.mode;
    return { pipeline, from: body.from, to: body.to, machines, mode, dryRun };
  }

  /** A backfill with its live progress (or final result). */
  async get(backfillId: string): Promise<BackfillView> {
    const handle = this.handle(backfillId);
    const d = await this.deadline(() => handle.describe()).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError('backfill', backfillId);
      throw err;
    });
    const memo = (d.memo?.backfill ?? {}) as BackfillMemo;
    const status = d.status.name;
    let progress: BackfillProgress | undefined;
    if (status === 'RUNNING') progress = await this.deadline(() => handle.query(backfillProgressQuery));
    else if (status === 'COMPLETED') progress = await this.deadline(() => handle.result());
    const ns = encodeURIComponent(this.config.temporal.namespace);
    return {
      backfillId,
      workflowId: backfillId,
      pipeline: memo.pipeline,
      from: memo.from,
      to: memo.to,
      machines: memo.machines,
      mode: memo.mode,
      dryRun: memo.dryRun,
      status: progress?.status ?? status.toLowerCase(),
      ...(progress ? { progress } : {}),
      links: {
        temporalUi: `${this.config.temporal.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(backfillId)}`,
      },
    };
  }

  /** Pauses, resumes or cancels a running backfill; 409 when it is not running. */
  async signal(backfillId: string, action: 'pause' | 'resume' | 'cancel'): Promise<BackfillView> {
    const handle = await this.running(backfillId);
    const signal = { pause: pauseSignal, resume: resumeSignal, cancel: cancelSignal }[action];
    await this.deadline(() => handle.signal(signal));
    return this.get(backfillId);
  }

  /** Changes the concurrency limit of a running backfill. */
  async setConcurrency(backfillId: string, maxConcurrency: number): Promise<BackfillView> {
    const handle = await this.running(backfillId);
    await this.deadline(() => handle.executeUpdate(setMaxConcurrencyUpdate, { args: [maxConcurrency] }));
    return this.get(backfillId);
  }

  /** Starts a backfill of just the partitions whose latest run failed, over the same range and machines. */
  async retryFailed(backfillId: string): Promise<BackfillView> {
    const view = await this.get(backfillId);
    if (view.status === 'running' || view.status === 'paused' || view.status === 'cancelling') {
      throw new ConflictError(`backfill ${backfillId} is still ${view.status}`);
    }
    return this.start(view.pipeline, {
      from: view.from,
      to: view.to,
      machines: view.machines ?? undefined,
      mode: 'failed',
    });
  }

  private handle(backfillId: string): WorkflowHandle<typeof backfillWorkflow> {
    if (!/^bf-[a-z0-9-]+-\d{4}-\d{2}-\d{2}(T\d{2})?-\d{4}-\d{2}-\d{2}(T\d{2})?-[0-9a-f]{8}$/.test(backfillId))
      throw new NotFoundError('backfill', backfillId);
    return this.client.workflow.getHandle<typeof backfillWorkflow>(backfillId);
  }

  private async running(backfillId: string): Promise<WorkflowHandle<typeof backfillWorkflow>> {
    const view = await this.get(backfillId);
    if (view.status !== 'running' && view.status !== 'paused')
      throw new ConflictError(`backfill ${backfillId} is ${view.status}, not running`);
    return this.handle(backfillId);
  }
}
