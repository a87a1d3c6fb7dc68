import { afterAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type NativeConnection } from '@temporalio/worker';
import { backfillWorkflow } from '../../workflows/backfill.workflow.js';
import {
  backfillProgressQuery,
  cancelSignal,
  pauseSignal,
  type BackfillInput,
} from '../../workflows/backfill-messages.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { webpackConfigHook } from '../../worker/bundle.js';
import { createWorker } from '../../worker/run-worker.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { waitFor } from '../support/fault-checks.js';
import { testServices } from '../support/services.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

/**
 * Safe upgrades (issue 13, item 6): with Worker Versioning on, backfills started on version A (a real worker process,
 * `FABRICA_WORKER_BUILD_ID=A`) stay pinned to A while version B — whose `backfillWorkflow` is incompatible with
 * theirs — becomes current; signalled afterwards, they finish on A without a non-determinism error, new backfills
 * run on B, and A drains and stops cleanly.
 */
const { EventType, WorkerDeploymentVersionStatus } = temporal.api.enums.v1;
const V2_WORKFLOWS = path.join(import.meta.dirname, '..', 'fixtures', 'versioning', 'workflows-v2.ts');
const B_IDENTITY = 'fabrica-worker-version-b';

let env: FabricaTestEnv | undefined;
let a: WorkerProcess | undefined;
let b: { worker: Worker; connection: NativeConnection; done: Promise<void> } | undefined;
afterAll(async () => {
  await a?.kill('SIGKILL');
  if (b) {
    b.worker.shutdown();
    await b.done;
    await b.connection.close();
  }
  await env?.close();
});

/** A day of the case's backfill: what each run would do does not matter, the runs block before starting any. */
const input = (id: string, extra: Partial<BackfillInput> = {}): BackfillInput => ({
  backfillId: id,
  spec,
  from: '2026-06-01T06',
  to: '2026-06-01T17',
  entities: ['M01'],
  mode: 'all',
  maxConcurrency: 1,
  ...extra,
});

/** Identities of the workers that picked up the run's workflow tasks, and whether any task failed. */
async function workflowTasks(handle: WorkflowHandle): Promise<{ identities: Set<string>; failed: number }> {
  const events = (await handle.fetchHistory()).events ?? [];
  return {
    identities: new Set(
      events
        .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
        .map((e) => e.workflowTaskStartedEventAttributes!.identity!),
    ),
    failed: events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).length,
  };
}

/** The build id the run is pinned to (Temporal's versioning info of the execution). */
async function pinnedBuildId(handle: WorkflowHandle): Promise<string | undefined> {
  const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
  return info?.deploymentVersion?.buildId ?? undefined;
}

describe('worker versioning', () => {
  it('keeps runs started on version A on A while B is current, then A drains', async () => {
    env = await createTestEnv('versioning');
    const { client } = env;
    const service = client.workflowService;
    const namespace = testServices().temporalNamespace;
    const deploymentName = `fabrica-${env.id}`;
    const context = () => a?.output() ?? '';

    // Version A: the real worker process, versioned through its settings.
    a = spawnWorker({
      ...env.processEnv(),
      FABRICA_WORKER_DEPLOYMENT: deploymentName,
      FABRICA_WORKER_BUILD_ID: 'A',
      FABRICA_WORKER_METRICS_PORT: 'off',
    });
    await a.polling();
    // The version exists once its worker has polled; until then setting it current is refused.
    const setCurrent = (buildId: string) =>
      waitFor(
        `${buildId} current`,
        () =>
          service.setWorkerDeploymentCurrentVersion({ namespace, deploymentName, buildId }).then(
            () => true,
            () => false,
          ),
        { context },
      );
    const versionStatus = async (buildId: string) =>
      (await service.describeWorkerDeploymentVersion({ namespace, deploymentVersion: { deploymentName, buildId } }))
        .workerDeploymentVersionInfo?.status;
    await setCurrent('A');

    // Backfills started on A, paused from their first task: they wait for a signal.
    const old = await Promise.all(
      [1, 2, 3].map((n) =>
        client.workflow.signalWithStart(backfillWorkflow, {
          workflowId: `versioning-old-${n}-${env!.id}`,
          taskQueue: env!.taskQueue,
          args: [input(`old-${n}`)],
          signal: pauseSignal,
        }),
      ),
    );
    for (const h of old) {
      await waitFor('backfill paused on A', async () => (await h.query(backfillProgressQuery)).status === 'paused', {
        context,
      });
      expect(await pinnedBuildId(h)).toBe('A');
    }

    // Version B: other workflow code (an incompatible backfill), deployed next to A and made current.
    const bundle = await bundleWorkflowCode({ workflowsPath: V2_WORKFLOWS, webpackConfigHook });
    const bundlePath = path.join(env.lakeDir, '..', 'workflows-v2.js');
    writeFileSync(bundlePath, bundle.code);
    const created = await createWorker({
      address: testServices().temporalAddress,
      namespace,
      taskQueue: env.taskQueue,
      deps: env.deps,
      workflowBundlePath: bundlePath,
      versioning: { deploymentName, buildId: 'B' },
      overrides: { identity: B_IDENTITY },
    });
    b = { ...created, done: created.worker.run() };
    await setCurrent('B');
    expect(await versionStatus('B')).toBe(WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT);

    // New backfills run on B (its code: a timer first).
    const fresh = await client.workflow.start(backfillWorkflow, {
      workflowId: `versioning-new-${env.id}`,
      taskQueue: env.taskQueue,
      args: [input('new', { dryRun: true })],
    });
    const freshResult = await fresh.result();
    expect(freshResult.dryRun?.count).toBe(12);
    expect(await pinnedBuildId(fresh)).toBe('B');
    const freshHistory = (await fresh.fetchHistory()).events ?? [];
    expect(freshHistory.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)).toBe(true);
    expect(await workflowTasks(fresh)).toEqual({ identities: new Set([B_IDENTITY]), failed: 0 });

    // The old runs, signalled now, finish on A: no task of theirs went to B, none failed.
    for (const h of old) await h.signal(cancelSignal);
    for (const h of old) {
      const result = await h.result();
      expect(result.status).toBe('cancelled');
      expect(result.done).toBe(0);
      const tasks = await workflowTasks(h);
      expect(tasks.failed).toBe(0);
      expect(tasks.identities.size).toBeGreaterThan(0);
      expect(tasks.identities.has(B_IDENTITY)).toBe(false);
      expect(await pinnedBuildId(h)).toBe('A');
    }

    // Had they moved to B they would have broken: their history does not replay on B's code.
    const replayed = await Worker.runReplayHistory(
      { workflowBundle: { code: bundle.code }, replayName: 'fabrica-versioning-b' },
      await old[0]!.fetchHistory(),
      old[0]!.workflowId,
    ).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(replayed?.name).toBe('DeterminismViolationError');

    // A is no longer current: it drains, and its worker stops cleanly.
    const draining = [
      WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING,
      WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED,
    ];
    await waitFor('A draining', async () => draining.includes((await versionStatus('A'))!), { context });
    const stopped = new Promise<number | null>((resolve) => a!.child.once('exit', (code) => resolve(code)));
    await a.kill('SIGTERM');
    expect(await stopped).toBe(0);
  }, 300_000);
});
