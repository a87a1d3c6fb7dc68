/** Every workflow the worker registers. A workflow function's name is its Temporal type: never rename one. */
export { pipelineRunWorkflow, progressQuery } from './pipeline-run.workflow.js';
export { landingSensorWorkflow } from './landing-sensor.workflow.js';
export { backfillWorkflow } from './backfill.workflow.js';
export { scheduledBatchWorkflow, sweepWorkflow } from './scheduled.workflow.js';
export { featureExportWorkflow } from './feature-export.workflow.js';
export { scheduledSourceSyncWorkflow, sourceSyncWorkflow } from './source-sync.workflow.js';
export { alertDeliveryWorkflow } from './alert-delivery.workflow.js';
