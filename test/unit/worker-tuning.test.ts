import { describe, expect, it } from '@jest/globals';
import { DEFAULT_TUNING, tuningOptions } from '../../worker/tuning.js';
import { versioningOptions } from '../../worker/versioning.js';

describe('worker tuning and versioning options', () => {
  it('gives a fixed worker its slot maxima and no tuner', () => {
    expect(tuningOptions(DEFAULT_TUNING)).toEqual({
      maxConcurrentActivityTaskExecutions: 4,
      maxConcurrentWorkflowTaskExecutions: 40,
    });
  });

  it('gives a resource-tuned worker the tuner alone (the SDK refuses it beside slot maxima), capped when set', () => {
    expect(tuningOptions({ tuner: 'resource', targetMemoryUsage: 0.7, targetCpuUsage: 0.8 })).toEqual({
      tuner: { tunerOptions: { targetMemoryUsage: 0.7, targetCpuUsage: 0.8 } },
    });
    expect(
      tuningOptions({
        tuner: 'resource',
        targetMemoryUsage: 0.7,
        targetCpuUsage: 0.8,
        maxActivitySlots: 6,
        maxWorkflowSlots: 20,
      }),
    ).toEqual({
      tuner: {
        tunerOptions: { targetMemoryUsage: 0.7, targetCpuUsage: 0.8 },
        activityTaskSlotOptions: { maximumSlots: 6 },
        workflowTaskSlotOptions: { maximumSlots: 20 },
      },
    });
  });

  it('versions a worker only when it has a build id, pinning its runs', () => {
    expect(versioningOptions(undefined)).toEqual({});
    expect(versioningOptions({ deploymentName: 'fabrica', buildId: 'B' })).toEqual({
      workerDeploymentOptions: {
        version: { deploymentName: 'fabrica', buildId: 'B' },
        useWorkerVersioning: true,
        defaultVersioningBehavior: 'PINNED',
      },
    });
  });
});
