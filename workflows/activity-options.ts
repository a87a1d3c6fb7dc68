import type { ActivityOptions } from '@temporalio/workflow';
import { DATA_FAULT_TYPES } from './steps.js';

/**
 * Infrastructure faults (a database restart, an S3 blip, a killed worker) are retried with backoff for a long while;
 * data faults are never retried.
 */
const retry: ActivityOptions['retry'] = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 20,
  nonRetryableErrorTypes: [...DATA_FAULT_TYPES],
};

/**
 * Long steps stream whole files: they heartbeat progress, so a dead worker is detected within the heartbeat timeout
 * rather than at the end of start-to-close.
 */
const streaming = (minutes: number): ActivityOptions => ({
  startToCloseTimeout: `${minutes} minutes`,
  heartbeatTimeout: '30 seconds',
  retry,
});

/** Per-step activity options. */
export const STEP_OPTIONS = {
  ingest: streaming(15),
  stage: streaming(30),
  transform: streaming(15),
  load: streaming(30),
  // Serve heartbeats while it runs (a few long statements), so a dead worker is noticed within 30 s here too.
  serve: { startToCloseTimeout: '5 minutes', heartbeatTimeout: '30 seconds', retry },
  catalog: { startToCloseTimeout: '1 minute', retry },
} satisfies Record<string, ActivityOptions>;

/**
 * The task queue of the edge workers (steps placed `edge`): the cloud queue's name with `-edge`, so every starter,
 * workflow and worker derives it from `FABRICA_TASK_QUEUE` alone.
 */
export function edgeTaskQueue(cloudTaskQueue: string): string {
  return `${cloudTaskQueue}-edge`;
}
