import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { scheduledBatchWorkflow } from '../../workflows/scheduled.workflow.js';
import { runCli } from '../support/cli-process.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

/**
 * A workflow bundle built ahead (`fabrica bundle-workflows`, as the image's build does) and a worker process started
 * from it with `FABRICA_WORKFLOW_BUNDLE`: the worker runs the bundle's code, not a fresh bundle of the sources.
 */
describe('prebuilt workflow bundle', () => {
  let env: FabricaTestEnv;
  let dir: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    env = await createTestEnv('bundle');
    dir = mkdtempSync(path.join(tmpdir(), 'fabrica-bundle-'));
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGTERM');
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const exitCode = (w: WorkerProcess) =>
    new Promise<number | null>((resolve) => {
      if (w.child.exitCode !== null) resolve(w.child.exitCode);
      else w.child.once('exit', (code) => resolve(code));
    });

  it('is written by fabrica bundle-workflows and run by a worker given it in FABRICA_WORKFLOW_BUNDLE', async () => {
    const file = path.join(dir, 'out', 'workflow-bundle.js');
    const built = await runCli(['bundle-workflows', file], { ...process.env, FABRICA_HOME: dir });
    expect(built).toMatchObject({ code: 0, stdout: expect.stringContaining(file) });
    // Mark the bundle: a message of scheduledBatchWorkflow changed in the file only. A worker that ran anything but
    // this file would fail the run with the original message.
    const original = 'started without TemporalScheduledStartTime';
    const code = readFileSync(file, 'utf8');
    expect(code).toContain(original);
    const marked = path.join(dir, 'marked-bundle.js');
    writeFileSync(marked, code.replaceAll(original, 'ran from the prebuilt bundle'));
    const worker = spawnWorker({
      ...env.processEnv(),
      FABRICA_WORKER_ROLE: 'cloud',
      FABRICA_WORKFLOW_BUNDLE: marked,
      FABRICA_WORKER_METRICS_PORT: 'off',
      FABRICA_WORKER_HEALTH_PORT: 'off',
    });
    workers.push(worker);
    await worker.polling();
    // Started by hand, not by a Schedule: the workflow fails at once with the (marked) NotScheduled message.
    const handle = await env.client.workflow.start(scheduledBatchWorkflow, {
      taskQueue: env.taskQueue,
      workflowId: `bundle-check-${env.id}`,
      args: [{ spec }],
    });
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({
      type: 'NotScheduled',
      message: expect.stringContaining('ran from the prebuilt bundle'),
    });
  });

  it('stops a worker whose FABRICA_WORKFLOW_BUNDLE does not exist with one line naming it (exit 78)', async () => {
    const missing = path.join(dir, 'no-such-bundle.js');
    const worker = spawnWorker({ ...env.processEnv(), FABRICA_WORKFLOW_BUNDLE: missing });
    workers.push(worker);
    expect(await exitCode(worker)).toBe(78);
    const lines = worker.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`FABRICA_WORKFLOW_BUNDLE: no workflow bundle at ${missing}`);
  });
});
