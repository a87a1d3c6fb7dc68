import { Client, type Connection } from '@temporalio/client';
import { sensorWorkflowId } from '../workflows/ids.js';
import { landingSensorWorkflow } from '../workflows/landing-sensor.workflow.js';
import { PIPELINES } from '../activities/registry/pipelines.js';
import { PIPELINE, RUN_KIND } from '../workflows/search-attributes.js';

/**
 * Ensures one landing sensor workflow runs per registered pipeline (idempotent: an existing sensor is kept).
 * Returns the sensor workflow ids.
 */
export async function ensureSensors(
  connection: Connection,
  o: { namespace: string; taskQueue: string; intervalSeconds: number },
): Promise<string[]> {
  const client = new Client({ connection, namespace: o.namespace });
  const ids: string[] = [];
  for (const spec of PIPELINES) {
    const workflowId = sensorWorkflowId(spec.id);
    await client.workflow.start(landingSensorWorkflow, {
      workflowId,
      taskQueue: o.taskQueue,
      args: [{ spec, intervalSeconds: o.intervalSeconds }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: PIPELINE, value: spec.id },
        { key: RUN_KIND, value: 'sensor' },
      ],
      staticSummary: `landing sensor of ${spec.id}`,
    });
    ids.push(workflowId);
  }
  return ids;
}
