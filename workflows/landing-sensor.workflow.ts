import {
  continueAsNew,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { edgeTaskQueue, STEP_OPTIONS } from './activity-options.js';
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

/** What one relay pass did. */
export interface RelayResult {
  /** Landing object versions copied to the cloud's landing area in this pass. */
  relayed: number;
  /** Landing objects of the pipeline listed. */
  listed: number;
}

/** Activities of the landing relay (edge task queue; see activities/relay.ts). */
export interface RelayActivities {
  /** Copies every landing object version of the pipeline not relayed yet into the cloud's landing area. */
  relayLanding(input: { spec: PipelineSpec }): Promise<RelayResult>;
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
  // A landing folder on the plant's network: an edge worker relays it into the cloud's landing area before each scan.
  // While no edge worker polls (the plant offline), the scan goes on with what was relayed before.
  const { relayLanding } = proxyActivities<RelayActivities>({
    taskQueue: edgeTaskQueue(workflowInfo().taskQueue),
    scheduleToStartTimeout: `${Math.max(30, input.intervalSeconds * 6)} seconds`,
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 3 },
  });
  for (let i = 0; i < scans; i++) {
    if (input.spec.source.placement === 'edge' && patched('landing-relay')) {
      try {
        await relayLanding({ spec: input.spec });
      } catch (err) {
        log.warn('landing relay did not run; scanning what was relayed before', { error: String(err) });
      }
    }
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

