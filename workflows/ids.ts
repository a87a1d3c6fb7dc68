/** Default task queue of the pipeline workers. */
export const DEFAULT_TASK_QUEUE = 'fabrica-pipelines';

/** Workflow id of a partition run: a business id, so starting the same partition twice finds the same run. */
export function runWorkflowId(pipeline: string, partition: string): string {
  return `run:${pipeline}:${partition}`;
}

/** Workflow id of the landing sensor of a pipeline. */
export function sensorWorkflowId(pipeline: string): string {
  return `sensor:${pipeline}`;
}

/** Schedule id of a pipeline's batch: `hourly:<id>` for hourly partitions, `daily:<id>` for daily ones. */
export function batchScheduleId(spec: { id: string; partitioning: { kind: string } }): string {
  return `${batchKind(spec)}:${spec.id}`;
}

/** Whether a pipeline's batch runs each hour or each day (by its partitions). */
export function batchKind(spec: { partitioning: { kind: string } }): 'hourly' | 'daily' {
  return spec.partitioning.kind === 'entity-hour' ? 'hourly' : 'daily';
}

/** Schedule id of a pipeline's nightly sweep. */
export function sweepScheduleId(pipeline: string): string {
  return `sweep:${pipeline}`;
}

/** Workflow id of the delivery workflow of one alert group (one per group: its messages are planned one at a time). */
export function alertGroupWorkflowId(groupKey: string): string {
  return `alerts:${groupKey}`;
}
