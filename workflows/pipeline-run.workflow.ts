import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  ParentClosePolicy,
  defineQuery,
  startChild,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { edgeTaskQueue, STEP_OPTIONS } from './activity-options.js';
import { partitionKeyExample, partitionWindow } from './partitions.js';
import { PARTITION, PIPELINE, PIPELINE_STATUS, RUN_KIND } from './search-attributes.js';
import type { backfillWorkflow } from './backfill.workflow.js';
import type { PipelineRunInput } from './spec.js';
import type { Dependent, PipelineActivities, RunContext, RunOutcome } from './steps.js';

/** Steps of the lifecycle, in order. */
export const STEPS = ['ingest', 'stage', 'transform', 'load', 'serve'] as const;

/** What `progressQuery` returns. */
export interface RunProgress {
  step: (typeof STEPS)[number] | 'done' | 'failed';
  completed: string[];
  outcome?: RunOutcome;
}

/** Query: where the run is. */
export const progressQuery = defineQuery<RunProgress>('progress');

const act = (options: (typeof STEP_OPTIONS)[keyof typeof STEP_OPTIONS]) => proxyActivities<PipelineActivities>(options);
const ingest = act(STEP_OPTIONS.ingest);
const stage = act(STEP_OPTIONS.stage);
const transform = act(STEP_OPTIONS.transform);
const load = act(STEP_OPTIONS.load);
const serve = act(STEP_OPTIONS.serve);
const catalog = act(STEP_OPTIONS.catalog);

/** The failure type and message of a failed step, unwrapped from Temporal's ActivityFailure. */
function describeFailure(err: unknown): { type: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  return { type: 'InfrastructureFailure', message: cause instanceof Error ? cause.message : String(cause) };
}

/**
 * Runs one partition of any pipeline through ingest → stage → transform → load → serve, one activity each.
 * Every step is idempotent for its partition, so the whole run can be repeated any number of times; a partition whose
 * content is already published ends `unchanged` after ingest unless `force` is set. A data fault fails the run once,
 * with an alert row and `PipelineStatus=Failed:<type>`; infrastructure faults are retried by the activities' policy.
 */
export async function pipelineRunWorkflow(input: PipelineRunInput): Promise<RunOutcome> {
  const { spec, partition } = input;
  const info = workflowInfo();
  const ctx: RunContext = {
    pipeline: spec.id,
    partition,
    workflowId: info.workflowId,
    runId: info.runId,
    runKind: input.runKind,
  };
  const progress: RunProgress = { step: 'ingest', completed: [] };
  setHandler(progressQuery, () => progress);
  const advance = (step: RunProgress['step']) => {
    if (progress.step !== 'done' && progress.step !== 'failed') progress.completed.push(progress.step);
    progress.step = step;
  };
  markRunning(input);
  let outcome: RunOutcome;
  try {
    if (!partitionWindow(spec.partitioning, partition)) {
      await catalog.recordRunStarted({ ctx });
      throw ApplicationFailure.nonRetryable(
        `invalid partition key "${partition}" (expected ${partitionKeyExample(spec.partitioning)}, a real ${spec.partitioning.kind === 'entity-hour' ? 'local hour' : 'date'} in ${spec.partitioning.timeZone})`,
        'InvalidPartition',
      );
    }
    // Ingest also records the run's start in the catalog, and serve its success: two activities fewer per run.
    const ingested = await ingest.ingestPartition({ ctx, spec, sourceKey: input.sourceKey, force: input.force });
    if (ingested.alreadyPublished && !input.force) {
      outcome = {
        status: 'unchanged',
        rows: 0,
        bytes: ingested.bytes,
        sha256: ingested.sha256,
        sourceKey: ingested.sourceKey,
      };
      await catalog.recordRunFinished({ ctx, outcome });
    } else {
      advance('stage');
      const staged = await stage.stagePartition({ ctx, spec, ingest: ingested });
      advance('transform');
      const transformed = await transform.transformPartition({ ctx, spec, ingest: ingested, stage: staged });
      advance('load');
      const loaded = await load.loadPartition({
        ctx,
        spec,
        ingest: ingested,
        stage: staged,
        transform: transformed,
        force: input.force,
        ...(input.trigger ? { trigger: input.trigger } : {}),
      });
      advance('serve');
      outcome = {
        status: loaded.status === 'unchanged' ? 'unchanged' : 'succeeded',
        sha256: ingested.sha256,
        sourceKey: ingested.sourceKey,
      };
      let served = await serve.servePartition({ ctx, spec, ingest: ingested, stage: staged, outcome });
      if (served.handoffs && served.handoffs.length > 0) {
        // Outputs placed at the edge: an edge worker applies each hand-off, then the cloud closes the run.
        const edge = proxyActivities<PipelineActivities>({
          ...STEP_OPTIONS.serve,
          taskQueue: edgeTaskQueue(info.taskQueue),
        });
        const outputs = { ...served.outputs };
        let attempt = 1;
        for (const handoff of served.handoffs) {
          const applied = await edge.applyServeHandoff({ ctx, spec, handoff });
          outputs[handoff.table] = applied.rows;
          attempt = Math.max(attempt, applied.attempt);
        }
        served = await serve.finishServe({
          ctx,
          spec,
          outcome,
          startedAt: served.startedAt!,
          outputs,
          handoffs: served.handoffs,
          attempt,
        });
      }
      await startDependents(input, ctx, served.dependents ?? []);
    }
    advance('done');
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled (API, CLI, Web UI, a cancelled backfill): record it in a scope the cancellation cannot reach, or
      // the catalog would keep saying `running`; the workflow then ends Cancelled.
      outcome = { status: 'cancelled', failureType: 'Cancelled', failureMessage: 'the run was cancelled' };
      advance('failed');
      progress.outcome = outcome;
      upsertSearchAttributes([{ key: PIPELINE_STATUS, value: 'Cancelled' }]);
      await CancellationScope.nonCancellable(() => catalog.recordRunFinished({ ctx, outcome }));
      throw err;
    }
    const failure = describeFailure(err);
    outcome = { status: 'failed', failureType: failure.type, failureMessage: failure.message };
    advance('failed');
    progress.outcome = outcome;
    upsertSearchAttributes([{ key: PIPELINE_STATUS, value: `Failed:${failure.type}` }]);
    await catalog.recordRunFinished({ ctx, outcome });
    // A plain Error would retry the workflow task forever; fail the run itself, once, with a stable type.
    throw ApplicationFailure.nonRetryable(failure.message, failure.type);
  }
  progress.outcome = outcome;
  upsertSearchAttributes([{ key: PIPELINE_STATUS, value: outcome.status === 'unchanged' ? 'Unchanged' : 'Succeeded' }]);
  return outcome;
}

/**
 * Sets `PipelineStatus=Running` and whichever of `Pipeline`, `Partition`, `RunKind` the starter did not set, in one
 * upsert (starters usually set them all at start, which costs nothing extra).
 */
function markRunning(input: PipelineRunInput): void {
  const current = workflowInfo().typedSearchAttributes;
  const wanted = [
    { key: PIPELINE, value: input.spec.id },
    { key: PARTITION, value: input.partition },
    { key: RUN_KIND, value: input.runKind },
    { key: PIPELINE_STATUS, value: 'Running' },
  ] as const;
  const missing = wanted.filter((a) => current.get(a.key) === undefined);
  if (missing.length > 0) upsertSearchAttributes([...missing]);
}

/**
 * Pipelines whose SQL models read a dataset this run just (re-)published re-run their partition of the same local
 * date ("pipelines encadeados"): each as a one-partition backfill, forced, started and left to run on its own. Its id
 * carries this run's id, so a retried workflow task starts it once; the backfill waits for any run of that partition
 * already in flight, so the dependent always reads what this run published.
 */
async function startDependents(input: PipelineRunInput, ctx: RunContext, dependents: Dependent[]): Promise<void> {
  for (const d of dependents) {
    await startChild<typeof backfillWorkflow>('backfillWorkflow', {
      workflowId: `dependency:${d.spec.id}:${d.partition}:${ctx.runId}`,
      args: [
        {
          backfillId: `dependency-${d.spec.id}-${d.partition}`,
          spec: d.spec,
          from: '',
          to: '',
          partitions: [d.partition],
          mode: 'all',
          maxConcurrency: 1,
          force: true,
          runKind: 'dependency',
          trigger: { pipeline: input.spec.id, dataset: d.dataset, partition: input.partition, runId: ctx.runId },
        },
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: PIPELINE, value: d.spec.id },
        { key: RUN_KIND, value: 'dependency' },
      ],
      staticSummary: `${d.spec.id} ${d.partition}: re-run after ${input.spec.id} ${input.partition} re-published ${d.dataset}`,
    });
  }
}
