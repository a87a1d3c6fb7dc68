import type { WorkerOptions } from '@temporalio/worker';

/** The Worker Deployment Version a worker belongs to (`FABRICA_WORKER_DEPLOYMENT` / `FABRICA_WORKER_BUILD_ID`). */
export interface WorkerVersioning {
  deploymentName: string;
  buildId: string;
}

/**
 * The worker options of Worker Versioning: the worker polls as version `buildId` of deployment `deploymentName`, and
 * every workflow it starts is pinned to that version (it finishes on the code it started with; new runs go to the
 * deployment's current version). Undefined: an unversioned worker, as before.
 */
export function versioningOptions(v: WorkerVersioning | undefined): Partial<WorkerOptions> {
  if (!v) return {};
  return {
    workerDeploymentOptions: {
      version: { deploymentName: v.deploymentName, buildId: v.buildId },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'PINNED',
    },
  };
}
