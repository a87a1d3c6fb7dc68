import {
  continueAsNew,
  ParentClosePolicy,
  proxyActivities,
  sleep,
  startChild,
  setWorkflowOptions,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { STEP_OPTIONS } from './activity-options.js';
import { runWorkflowId } from './ids.js';
import { pipelineRunWorkflow } from './pipeline-run.workflow.js';
import { PARTITION, PIPELINE, PIPELINE_STATUS, RUN_KIND } from './search-attributes.js';
import type { PipelineSpec } from './spec.js';

/** A landed file that is complete and not processed yet. */
export interface ReadyFile {
  sourceKey: string;
  partition: string;
}

/** Activities of the sensor. */
export interface SensorActivities {
  /** Lists the landing area, records new files, and returns the complete ones that no run has processed yet. */
  scanLanding(input: { spec: PipelineSpec; now?: string }): Promise<ReadyFile[]>;
  /** Records that runs were started for these files, so later scans do not start them again. */
  markDispatched(input: { spec: PipelineSpec; files: ReadyFile[] }): Promise<void>;
}

/** Input of {@link landingSensorWorkflow}. */
export interface LandingSensorInput {
  spec: PipelineSpec;
  /** Seconds between scans. */
  intervalSeconds: number;
  /** Scans per workflow run before continuing as new (keeps history short). */
  scansPerRun?: number;
}

const { scanLanding, markDispatched } = proxyActivities<SensorActivities>({
  ...STEP_OPTIONS.catalog,
  startToCloseTimeout: '5 minutes',
});

/**
 * Watches a pipeline's landing area: files appearing there start the run of their partition once complete; files
 * still being written wait. A file delivered again or late is a new landed version and re-runs its partition. A
 * partition whose run is in flight is left for the next scan, so two files of one partition never load concurrently.
 */
export async function landingSensorWorkflow(input: LandingSensorInput): Promise<void> {
  const scans = input.scansPerRun ?? 100;
  for (let i = 0; i < scans; i++) {
    const ready = await scanLanding({ spec: input.spec });
    const dispatched: ReadyFile[] = [];
    for (const file of ready) {
      try {
        await startChild(pipelineRunWorkflow, {
          workflowId: runWorkflowId(input.spec.id, file.partition),
          args: [{ spec: input.spec, partition: file.partition, runKind: 'sensor', sourceKey: file.sourceKey }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          typedSearchAttributes: [
            { key: PIPELINE, value: input.spec.id },
            { key: PARTITION, value: file.partition },
            { key: RUN_KIND, value: 'sensor' },
            { key: PIPELINE_STATUS, value: 'Running' },
          ],
          staticSummary: `${input.spec.id} ${file.partition} (sensor: ${file.sourceKey})`,
        });
        dispatched.push(file);
      } catch (err) {
        // A run of that partition is in flight: the file stays unprocessed and the next scan picks it up.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }
    if (dispatched.length > 0) await markDispatched({ spec: input.spec, files: dispatched });
    await sleep(`${input.intervalSeconds} seconds`);
  }
  await continueAsNew<typeof landingSensorWorkflow>(input);
}

// A sensor runs forever (continue-as-new): under Worker Versioning it moves to the current version at its next task
// instead of keeping an old version alive; its code stays replay-compatible across versions (patch it when it changes).
setWorkflowOptions({ versioningBehavior: 'AUTO_UPGRADE' }, landingSensorWorkflow);
