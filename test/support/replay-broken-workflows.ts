import { sleep } from '@temporalio/workflow';

/**
 * A deliberately incompatible `pipelineRunWorkflow` (its first command is a timer, not the ingest activity): the
 * replay test proves a recorded history fails against it, so the replay check can fail.
 */
export async function pipelineRunWorkflow(): Promise<void> {
  await sleep('1 second');
}
