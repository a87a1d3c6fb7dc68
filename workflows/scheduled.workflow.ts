import { ApplicationFailure, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { STEP_OPTIONS } from './activity-options.js';
import type { BackfillProgress } from './backfill-messages.js';
import { backfillWorkflow } from './backfill.workflow.js';
import { periodAt, shiftPeriod } from './partitions.js';
import { SCHEDULED_START_TIME } from './search-attributes.js';
import type { PipelineSpec } from './spec.js';

/** Activities of the scheduled workflows. */
export interface ScheduledActivities {
  /** Partitions whose newest complete landed file differs from what is published (new, late or changed). */
  sweepLanding(input: { spec: PipelineSpec }): Promise<string[]>;
  /** Raises a freshness alert for each partition the calendar expected in the window that has no data past the SLA. */
  checkFreshness(input: { spec: PipelineSpec; nowMs: number; lookbackDays: number }): Promise<{ stale: string[] }>;
}

const { sweepLanding, checkFreshness } = proxyActivities<ScheduledActivities>({
  ...STEP_OPTIONS.catalog,
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
});

/**
 * The "now" of a scheduled run: the `at` its starter gave (an operator replaying a firing), else the time the
 * schedule fired it for (`TemporalScheduledStartTime`), never the wall clock.
 */
function scheduledTime(at?: string): Date {
  if (at !== undefined) {
    const ms = Date.parse(at);
    if (Number.isNaN(ms)) throw ApplicationFailure.nonRetryable(`at "${at}" is not an ISO instant`, 'InvalidInput');
    return new Date(ms);
  }
  const typed = workflowInfo().typedSearchAttributes.get(SCHEDULED_START_TIME);
  if (typed) return typed;
  throw ApplicationFailure.nonRetryable(
    'started without TemporalScheduledStartTime: this workflow is run by a Schedule',
    'NotScheduled',
  );
}

/**
 * The batch a Schedule fires a few minutes past each expected period: runs the partitions of the previous period
 * (hour or day) that have a landed file, as a one-hour backfill (same run ids as the sensor's, so nothing runs twice at once),
 * then checks freshness over the last day. The hour comes from the scheduled time, so a caught-up or backfilled
 * firing processes the hour it was meant for.
 */
export async function scheduledBatchWorkflow(input: {
  spec: PipelineSpec;
  maxConcurrency?: number;
  /** The firing time to process (ISO instant); default the schedule's. */
  at?: string;
}): Promise<BackfillProgress> {
  const at = scheduledTime(input.at);
  const p = input.spec.partitioning;
  const hourKey = shiftPeriod(p, periodAt(p, at.getTime()), -1);
  const backfillId = `hour-${input.spec.id}-${hourKey}`;
  const progress = await executeChild(backfillWorkflow, {
    workflowId: `${workflowInfo().workflowId}:${hourKey}`,
    args: [
      {
        backfillId,
        spec: input.spec,
        from: hourKey,
        to: hourKey,
        mode: 'landed',
        maxConcurrency: input.maxConcurrency ?? 4,
      },
    ],
  });
  await checkFreshness({ spec: input.spec, nowMs: at.getTime(), lookbackDays: 1 });
  return progress;
}

/** What a sweep found and did. */
export interface SweepResult {
  changed: string[];
  stale: string[];
  backfill?: BackfillProgress;
}

/**
 * The nightly sweep: compares what the landing area holds with what is published, re-runs exactly the partitions
 * whose content is new, late or changed, and raises a freshness alert for expected partitions without data past the
 * SLA (a machine offline, a truncated file).
 */
export async function sweepWorkflow(input: {
  spec: PipelineSpec;
  maxConcurrency?: number;
  /** The sweep's "now" (ISO instant); default the schedule's firing time. */
  at?: string;
}): Promise<SweepResult> {
  const at = scheduledTime(input.at);
  const changed = await sweepLanding({ spec: input.spec });
  let backfill: BackfillProgress | undefined;
  if (changed.length > 0) {
    backfill = await executeChild(backfillWorkflow, {
      workflowId: `${workflowInfo().workflowId}:changed`,
      args: [
        {
          backfillId: `sweep-${input.spec.id}`,
          spec: input.spec,
          from: '',
          to: '',
          partitions: changed,
          mode: 'all',
          maxConcurrency: input.maxConcurrency ?? 4,
        },
      ],
    });
  }
  const { stale } = await checkFreshness({
    spec: input.spec,
    nowMs: at.getTime(),
    lookbackDays: input.spec.schedule?.sweep.lookbackDays ?? 7,
  });
  return { changed, stale, ...(backfill ? { backfill } : {}) };
}
