import {
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { STEP_OPTIONS } from './activity-options.js';
import {
  backfillProgressQuery,
  cancelSignal,
  MAX_CONCURRENCY,
  pauseSignal,
  resumeSignal,
  setMaxConcurrencyUpdate,
  type BackfillInput,
  type BackfillMode,
  type BackfillProgress,
  type BackfillState,
} from './backfill-messages.js';
import { runWorkflowId } from './ids.js';
import { partitionsInRange } from './partitions.js';
import { pipelineRunWorkflow } from './pipeline-run.workflow.js';
import { PARTITION, PIPELINE, PIPELINE_STATUS, RUN_KIND } from './search-attributes.js';
import type { PipelineSpec } from './spec.js';

/** Activities of the backfill. */
export interface BackfillActivities {
  /** The subset of `partitions` the mode selects (missing: nothing published; failed: latest run failed). */
  selectPartitions(input: {
    spec: PipelineSpec;
    partitions: string[];
    mode: Exclude<BackfillMode, 'all'>;
  }): Promise<string[]>;
}

const { selectPartitions } = proxyActivities<BackfillActivities>(STEP_OPTIONS.catalog);

const PAGE = 100;
const MAX_FAILURES_KEPT = 200;
const MAX_DRY_RUN_LISTED = 5000;

function initialState(input: BackfillInput): BackfillState {
  return {
    cursor: 0,
    done: 0,
    failed: 0,
    skipped: 0,
    rows: 0,
    bytes: 0,
    failures: [],
    startedAtMs: Date.now(),
    maxConcurrency: input.maxConcurrency,
    paused: false,
    cancelled: false,
    wouldRun: [],
    wouldRunCount: 0,
    runs: 1,
  };
}

/**
 * Re-processes a pipeline's partitions over a time range: each partition runs as a child `pipelineRunWorkflow` with
 * the same deterministic id a normal run has (so a partition never runs twice at once, whoever started it), at most
 * `maxConcurrency` in flight as a sliding window. The partition list is recomputed from the range (never stored in
 * history); the workflow continues as new every `partitionsPerRun` partitions, or when Temporal suggests it, after
 * draining its in-flight children, so a whole year stays far from history and pending-children limits.
 */
export async function backfillWorkflow(input: BackfillInput): Promise<BackfillProgress> {
  const state = input.state ?? initialState(input);
  const all = input.partitions ?? partitionsInRange(input.spec.partitioning, input.from, input.to, input.entities);
  const inflight = new Set<string>();
  const progress = (): BackfillProgress => describe(input, state, all.length, inflight.size);
  setHandler(backfillProgressQuery, progress);
  setHandler(pauseSignal, () => void (state.paused = true));
  setHandler(resumeSignal, () => void (state.paused = false));
  setHandler(cancelSignal, () => void (state.cancelled = true));
  setHandler(setMaxConcurrencyUpdate, (n) => (state.maxConcurrency = n), {
    validator: (n) => {
      if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY)
        throw new Error(`maxConcurrency must be an integer in 1..${MAX_CONCURRENCY}`);
    },
  });
  if (!input.state) upsertSearchAttributes([{ key: PIPELINE_STATUS, value: 'Running' }]);

  const perRun = input.partitionsPerRun ?? 500;
  let examined = 0;
  while (state.cursor < all.length && !state.cancelled) {
    const page = all.slice(state.cursor, state.cursor + PAGE);
    const selected =
      input.mode === 'all' ? page : await selectPartitions({ spec: input.spec, partitions: page, mode: input.mode });
    state.skipped += page.length - selected.length;
    if (input.dryRun) {
      state.wouldRunCount += selected.length;
      state.wouldRun.push(...selected.slice(0, Math.max(0, MAX_DRY_RUN_LISTED - state.wouldRun.length)));
    } else {
      for (const partition of selected) {
        await condition(() => state.cancelled || (!state.paused && inflight.size < state.maxConcurrency));
        if (state.cancelled) break;
        inflight.add(partition);
        void runPartition(input, state, partition)
          .catch(() => undefined)
          .finally(() => inflight.delete(partition));
      }
    }
    if (state.cancelled) break;
    state.cursor += page.length;
    examined += page.length;
    if (state.cursor < all.length && (examined >= perRun || workflowInfo().continueAsNewSuggested)) {
      await condition(() => inflight.size === 0);
      state.runs++;
      await continueAsNew<typeof backfillWorkflow>({ ...input, state });
    }
  }
  await condition(() => inflight.size === 0);
  const result = progress();
  const status = state.cancelled ? 'Cancelled' : state.failed > 0 ? 'CompletedWithFailures' : 'Succeeded';
  upsertSearchAttributes([{ key: PIPELINE_STATUS, value: status }]);
  return result;
}

/** Runs one partition as a child; waits and retries while another run of that partition is in flight. */
async function runPartition(input: BackfillInput, state: BackfillState, partition: string): Promise<void> {
  for (let wait = 1; ; wait = Math.min(wait * 2, 30)) {
    try {
      const outcome = await executeChild(pipelineRunWorkflow, {
        workflowId: runWorkflowId(input.spec.id, partition),
        args: [
          {
            spec: input.spec,
            partition,
            runKind: input.runKind ?? 'backfill',
            ...(input.force ? { force: true } : {}),
            ...(input.trigger ? { trigger: input.trigger } : {}),
          },
        ],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        // If the backfill itself is terminated, its in-flight runs are cancelled: each rolls back or has committed.
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        typedSearchAttributes: [
          { key: PIPELINE, value: input.spec.id },
          { key: PARTITION, value: partition },
          { key: RUN_KIND, value: 'backfill' },
          { key: PIPELINE_STATUS, value: 'Running' },
        ],
        staticSummary: `${input.spec.id} ${partition} (backfill ${input.backfillId})`,
      });
      state.done++;
      state.rows += outcome.rows ?? 0;
      state.bytes += outcome.bytes ?? 0;
      return;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // Another run of this partition (the sensor's, an overlapping backfill's) is in flight: let it finish first.
        await sleep(`${wait} seconds`);
        continue;
      }
      // Every other outcome is this partition's failure, counted here: this promise floats in the window, so it
      // must never reject (an unhandled rejection would fail the workflow task, retried forever).
      const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
      state.failed++;
      if (state.failures.length < MAX_FAILURES_KEPT) {
        state.failures.push({
          partition,
          type:
            cause instanceof ApplicationFailure
              ? (cause.type ?? 'Error')
              : cause instanceof Error
                ? cause.name
                : 'Error',
          message: cause instanceof Error ? cause.message : String(err),
        });
      }
      return;
    }
  }
}

function describe(input: BackfillInput, s: BackfillState, total: number, running: number): BackfillProgress {
  const finished = s.done + s.failed;
  const minutes = Math.max((Date.now() - s.startedAtMs) / 60_000, 1 / 60);
  const rate = finished / minutes;
  const remaining = input.dryRun ? 0 : Math.max(0, total - s.skipped - finished - running);
  const ended = (s.cursor >= total || s.cancelled) && running === 0;
  const status = ended
    ? s.cancelled
      ? 'cancelled'
      : 'completed'
    : s.cancelled
      ? 'cancelling'
      : s.paused
        ? 'paused'
        : 'running';
  return {
    backfillId: input.backfillId,
    status,
    total,
    done: s.done,
    failed: s.failed,
    skipped: s.skipped,
    running,
    remaining,
    rows: s.rows,
    bytes: s.bytes,
    partitionsPerMinute: Math.round(rate * 10) / 10,
    etaSeconds: rate > 0 && remaining > 0 ? Math.round((remaining / rate) * 60) : remaining === 0 ? 0 : null,
    maxConcurrency: s.maxConcurrency,
    failures: s.failures,
    ...(input.dryRun ? { dryRun: { count: s.wouldRunCount, partitions: s.wouldRun } } : {}),
    workflowRuns: s.runs,
  };
}
