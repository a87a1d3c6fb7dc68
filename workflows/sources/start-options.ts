import type { WorkflowStartOptions } from '@temporalio/client';
import { PIPELINE_STATUS, RUN_KIND } from '../search-attributes.js';
import type { sourceSyncWorkflow } from '../source-sync.workflow.js';
import { sourceSyncWorkflowId } from './index.js';
import type { SourceSpec, SourceTrigger } from './spec.js';

/**
 * How a client starts a source's sync: the business id `source-sync:<source>` (starting it while a sync runs returns
 * that sync; a finished one can run again), the search attributes the Web UI filters on, a readable summary.
 * `workflowId` only lets tests isolate themselves.
 */
export function sourceSyncStartOptions(
  spec: SourceSpec,
  o: { taskQueue: string; trigger?: SourceTrigger; workflowId?: string },
): WorkflowStartOptions<typeof sourceSyncWorkflow> {
  const trigger = o.trigger ?? 'manual';
  return {
    workflowId: o.workflowId ?? sourceSyncWorkflowId(spec.id),
    taskQueue: o.taskQueue,
    args: [{ sourceId: spec.id, spec, trigger }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [
      { key: RUN_KIND, value: trigger },
      { key: PIPELINE_STATUS, value: 'Running' },
    ],
    staticSummary: `sync of source ${spec.id} (${trigger})`,
  };
}
