import type { WorkflowStartOptions } from '@temporalio/client';
import { runWorkflowId } from './ids.js';
import type { pipelineRunWorkflow } from './pipeline-run.workflow.js';
import { PARTITION, PIPELINE, PIPELINE_STATUS, RUN_KIND } from './search-attributes.js';
import type { PipelineSpec, RunKind } from './spec.js';

/**
 * How a client starts a partition's run: the business id (starting it again while it runs returns that run; a
 * finished one can run again), the search attributes the Web UI filters on, a readable summary.
 */
export function runStartOptions(
  spec: PipelineSpec,
  partition: string,
  o: { taskQueue: string; runKind: RunKind; force?: boolean },
): WorkflowStartOptions<typeof pipelineRunWorkflow> {
  return {
    workflowId: runWorkflowId(spec.id, partition),
    taskQueue: o.taskQueue,
    args: [{ spec, partition, runKind: o.runKind, force: o.force ?? false }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [
      { key: PIPELINE, value: spec.id },
      { key: PARTITION, value: partition },
      { key: RUN_KIND, value: o.runKind },
      { key: PIPELINE_STATUS, value: 'Running' },
    ],
    staticSummary: `${spec.id} ${partition} (${o.runKind}${o.force ? ', force' : ''})`,
  };
}
