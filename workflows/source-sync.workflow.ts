import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { edgeTaskQueue, STEP_OPTIONS } from './activity-options.js';
import { PIPELINE_STATUS } from './search-attributes.js';
import { getSource, sourceSyncWorkflowId } from './sources/index.js';
import type {
  SourceCommitResult,
  SourceExtractResult,
  SourcePosition,
  SourceSpec,
  SourceSyncContext,
  SourceSyncInput,
  SourceSyncOutcome,
} from './sources/spec.js';

/** The activities of a source sync; implemented by `createSourceActivities` in activities/sources. */
export interface SourceActivities {
  extractSource(input: { ctx: SourceSyncContext; spec: SourceSpec }): Promise<SourceExtractResult>;
  /** A source at the edge, in the cloud: records the sync as extracting; returns the watermark to extract from. */
  beginSourceExtract(input: { ctx: SourceSyncContext; spec: SourceSpec }): Promise<SourcePosition>;
  /** A source at the edge, on the edge worker: reads the source into the lake from `from`. */
  extractSourceAtEdge(input: {
    ctx: SourceSyncContext;
    spec: SourceSpec;
    from: SourcePosition;
  }): Promise<SourceExtractResult>;
  /** A source at the edge, in the cloud: records what the edge extracted. */
  recordSourceExtracted(input: {
    ctx: SourceSyncContext;
    spec: SourceSpec;
    extract: SourceExtractResult;
  }): Promise<void>;
  commitSource(input: {
    ctx: SourceSyncContext;
    spec: SourceSpec;
    extract: SourceExtractResult;
  }): Promise<SourceCommitResult>;
  recordSourceSyncFailed(input: { ctx: SourceSyncContext; failure: { type: string; message: string } }): Promise<void>;
}

/**
 * Activity options: the pipeline steps' retry policy (infrastructure faults retried with backoff, data faults never);
 * both steps heartbeat every few seconds (also while blocked on a lock or waiting out a `Retry-After`), so a dead
 * worker is noticed within 20 s.
 */
export const SOURCE_STEP_OPTIONS = {
  extract: { ...STEP_OPTIONS.stage, heartbeatTimeout: '20 seconds' },
  commit: { ...STEP_OPTIONS.load, heartbeatTimeout: '20 seconds' },
  catalog: STEP_OPTIONS.catalog,
};

const { extractSource } = proxyActivities<SourceActivities>(SOURCE_STEP_OPTIONS.extract);
const { commitSource } = proxyActivities<SourceActivities>(SOURCE_STEP_OPTIONS.commit);
const { recordSourceSyncFailed, beginSourceExtract, recordSourceExtracted } = proxyActivities<SourceActivities>(
  SOURCE_STEP_OPTIONS.catalog,
);

/**
 * The extract of a source placed at the edge: the cloud records the sync, an edge worker (on `<task queue>-edge`,
 * where the source is reachable) reads it into the lake, the cloud records the result. While no edge worker polls
 * (the plant offline), the sync waits in `extractSourceAtEdge` and the watermark stays where it was.
 */
async function extractAtEdge(ctx: SourceSyncContext, spec: SourceSpec): Promise<SourceExtractResult> {
  const { extractSourceAtEdge } = proxyActivities<SourceActivities>({
    ...SOURCE_STEP_OPTIONS.extract,
    taskQueue: edgeTaskQueue(workflowInfo().taskQueue),
  });
  const from = await beginSourceExtract({ ctx, spec });
  const extract = await extractSourceAtEdge({ ctx, spec, from });
  await recordSourceExtracted({ ctx, spec, extract });
  return extract;
}

function describeFailure(err: unknown): { type: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  return { type: 'InfrastructureFailure', message: cause instanceof Error ? cause.message : String(cause) };
}

/**
 * Syncs one source: `extractSource` (changed rows since the committed watermark → the lake) then `commitSource`
 * (one warehouse transaction: mirror, versions, deletes, watermark). Started under the business id
 * `source-sync:<source>`, so two syncs of a source never run at once. A crash anywhere repeats work without loss or
 * duplicates: a retried extract writes a new attempt folder, a retried commit is a no-op once applied, and a sync that
 * dies between the two leaves the watermark where it was, so the next one extracts the same rows again. A failure is
 * recorded in `ops.source_syncs` and `ops.alerts` and fails the workflow once with its type (data faults:
 * `PayloadInvalid`, `SourceSchemaMismatch`).
 */
export async function sourceSyncWorkflow(input: SourceSyncInput): Promise<SourceSyncOutcome> {
  const info = workflowInfo();
  const ctx: SourceSyncContext = {
    sourceId: input.sourceId,
    workflowId: info.workflowId,
    runId: info.runId,
    trigger: input.trigger ?? 'manual',
  };
  const spec = input.spec ?? getSource(input.sourceId);
  if (!spec || spec.id !== input.sourceId)
    throw ApplicationFailure.nonRetryable(`unknown source "${input.sourceId}"`, 'UnknownSource');
  upsertSearchAttributes([{ key: PIPELINE_STATUS, value: 'Running' }]);
  try {
    // Histories recorded before sources could be placed at the edge replay the single cloud extract.
    const extract =
      spec.placement === 'edge' && patched('source-edge-extract')
        ? await extractAtEdge(ctx, spec)
        : await extractSource({ ctx, spec });
    const commit = await commitSource({ ctx, spec, extract });
    upsertSearchAttributes([{ key: PIPELINE_STATUS, value: 'Succeeded' }]);
    return {
      sourceId: spec.id,
      status: 'committed',
      rowsExtracted: extract.rows,
      rowsChanged: commit.rowsChanged,
      versionsAdded: commit.versionsAdded,
      deleted: commit.deleted,
      watermark: commit.watermark,
    };
  } catch (err) {
    if (isCancellation(err)) {
      // Recorded outside the cancelled scope (else the sync would stay `extracting`); the watermark never moved.
      upsertSearchAttributes([{ key: PIPELINE_STATUS, value: 'Cancelled' }]);
      await CancellationScope.nonCancellable(() =>
        recordSourceSyncFailed({ ctx, failure: { type: 'Cancelled', message: 'the sync was cancelled' } }),
      );
      throw err;
    }
    const failure = describeFailure(err);
    upsertSearchAttributes([{ key: PIPELINE_STATUS, value: `Failed:${failure.type}` }]);
    await recordSourceSyncFailed({ ctx, failure });
    throw ApplicationFailure.nonRetryable(failure.message, failure.type);
  }
}

/**
 * What a source's Schedule starts (Temporal appends the firing time to its workflow id): runs the sync as a child
 * under the source's business id, or skips when a sync of the source is already running (it will bring the same
 * rows). `syncWorkflowId` only lets tests isolate themselves.
 */
export async function scheduledSourceSyncWorkflow(input: {
  sourceId: string;
  spec?: SourceSpec;
  syncWorkflowId?: string;
}): Promise<SourceSyncOutcome> {
  try {
    return await executeChild(sourceSyncWorkflow, {
      workflowId: input.syncWorkflowId ?? sourceSyncWorkflowId(input.sourceId),
      args: [{ sourceId: input.sourceId, spec: input.spec, trigger: 'schedule' }],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { sourceId: input.sourceId, status: 'skipped', reason: 'a sync of this source is already running' };
    throw err;
  }
}
