import type { WorkerOptions } from '@temporalio/worker';

/**
 * How one worker process sizes its task slots. `fixed`: at most `activitySlots` activities and `workflowSlots`
 * workflow tasks at once. `resource`: the SDK's resource-based tuner issues slots while the host's memory and CPU
 * stay under their targets (fractions of the machine), capped by the slot settings when they are set.
 */
export type WorkerTuning =
  | { tuner: 'fixed'; activitySlots: number; workflowSlots: number }
  | {
      tuner: 'resource';
      targetMemoryUsage: number;
      targetCpuUsage: number;
      maxActivitySlots?: number;
      maxWorkflowSlots?: number;
    };

/** The fixed sizing a worker runs with when nothing is configured. */
export const DEFAULT_TUNING: WorkerTuning = { tuner: 'fixed', activitySlots: 4, workflowSlots: 40 };

/** The Temporal worker options that apply `t` (the slot maxima or the resource-based tuner; mutually exclusive). */
export function tuningOptions(t: WorkerTuning): Partial<WorkerOptions> {
  if (t.tuner === 'fixed')
    return {
      maxConcurrentActivityTaskExecutions: t.activitySlots,
      maxConcurrentWorkflowTaskExecutions: t.workflowSlots,
    };
  return {
    tuner: {
      tunerOptions: { targetMemoryUsage: t.targetMemoryUsage, targetCpuUsage: t.targetCpuUsage },
      ...(t.maxActivitySlots ? { activityTaskSlotOptions: { maximumSlots: t.maxActivitySlots } } : {}),
      ...(t.maxWorkflowSlots ? { workflowTaskSlotOptions: { maximumSlots: t.maxWorkflowSlots } } : {}),
    },
  };
}
