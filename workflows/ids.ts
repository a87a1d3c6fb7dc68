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

/** Schedule id of a pipeline's hourly batch. */
export function hourlyScheduleId(pipeline: string): string {
  return `hourly:${pipeline}`;
}

/** Schedule id of a pipeline's nightly sweep. */
export function sweepScheduleId(pipeline: string): string {
  return `sweep:${pipeline}`;
}
