import {
  Client,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Connection,
  type ScheduleOptions,
} from '@temporalio/client';
import { batchScheduleId, sweepScheduleId } from '../workflows/ids.js';
import { PIPELINES } from '../activities/registry/pipelines.js';
import { scheduledBatchWorkflow, sweepWorkflow } from '../workflows/scheduled.workflow.js';
import { PIPELINE, RUN_KIND } from '../workflows/search-attributes.js';
import { scheduledSourceSyncWorkflow } from '../workflows/source-sync.workflow.js';
import { sourceScheduleId } from '../workflows/sources/index.js';
import type { SourceSpec } from '../workflows/sources/spec.js';
import type { PipelineSpec, ScheduleSpec } from '../workflows/spec.js';

const OVERLAP: Record<ScheduleSpec['overlap'], ScheduleOverlapPolicy> = {
  SKIP: ScheduleOverlapPolicy.SKIP,
  BUFFER_ONE: ScheduleOverlapPolicy.BUFFER_ONE,
  ALLOW_ALL: ScheduleOverlapPolicy.ALLOW_ALL,
};

/** The two Temporal Schedules of a pipeline: its batch (hourly or daily) and its nightly sweep. */
export function schedulesOf(spec: PipelineSpec, taskQueue: string): ScheduleOptions[] {
  const s = spec.schedule;
  if (!s) return [];
  const common = {
    policies: { overlap: OVERLAP[s.overlap], catchupWindow: s.catchupWindow },
  };
  const attrs = (kind: string) => [
    { key: PIPELINE, value: spec.id },
    { key: RUN_KIND, value: kind },
  ];
  return [
    {
      scheduleId: batchScheduleId(spec),
      spec: { calendars: [{ hour: s.hours, minute: s.minute, dayOfWeek: s.daysOfWeek }], timezone: s.timeZone },
      action: {
        type: 'startWorkflow',
        workflowType: scheduledBatchWorkflow,
        args: [{ spec }],
        taskQueue,
        workflowId: `scheduled:${spec.id}`,
        typedSearchAttributes: attrs('schedule'),
      },
      ...common,
    },
    {
      scheduleId: sweepScheduleId(spec.id),
      spec: { calendars: [{ hour: s.sweep.hour, minute: s.sweep.minute }], timezone: s.timeZone },
      action: {
        type: 'startWorkflow',
        workflowType: sweepWorkflow,
        args: [{ spec }],
        taskQueue,
        workflowId: `sweep:${spec.id}`,
        typedSearchAttributes: attrs('sweep'),
      },
      ...common,
    },
  ];
}

/**
 * The Schedule of a source with a `schedule`: a sync every `everyMinutes`. A firing while the previous one runs is
 * skipped (the next sync brings everything since the watermark anyway), and missed firings are caught up only within
 * one interval after an outage. The schedule's workflow runs the sync under the source's business id.
 */
export function sourceSchedulesOf(spec: SourceSpec, taskQueue: string): ScheduleOptions[] {
  if (!spec.schedule) return [];
  return [
    {
      scheduleId: sourceScheduleId(spec.id),
      spec: { intervals: [{ every: `${spec.schedule.everyMinutes} minutes` }] },
      action: {
        type: 'startWorkflow',
        workflowType: scheduledSourceSyncWorkflow,
        args: [{ sourceId: spec.id, spec }],
        taskQueue,
        workflowId: `scheduled-source:${spec.id}`,
        typedSearchAttributes: [{ key: RUN_KIND, value: 'schedule' }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${spec.schedule.everyMinutes} minutes` },
      // The first sync runs as soon as the schedule exists (an update keeps the schedule's state).
      state: { triggerImmediately: true },
    },
  ];
}

/**
 * Creates each pipeline's schedules (and those of the given sources), or updates them to match the spec (idempotent,
 * run at every worker start).
 * An update keeps the schedule's paused state: pausing is an operator's decision, not the spec's.
 */
export async function syncSchedules(
  connection: Connection,
  o: { namespace: string; taskQueue: string },
  pipelines = PIPELINES,
  sources: readonly SourceSpec[] = [],
): Promise<string[]> {
  const client = new Client({ connection, namespace: o.namespace });
  const ids: string[] = [];
  const all = [
    ...pipelines.flatMap((p) => schedulesOf(p, o.taskQueue)),
    ...sources.flatMap((s) => sourceSchedulesOf(s, o.taskQueue)),
  ];
  for (const options of all) {
    try {
      await client.schedule.create(options);
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(options.scheduleId).update((previous) => ({
        ...previous,
        spec: options.spec,
        action: options.action,
        policies: { ...previous.policies, ...options.policies },
      }));
    }
    ids.push(options.scheduleId);
  }
  return ids;
}
