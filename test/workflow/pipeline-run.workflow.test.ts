import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { PARTITION, PIPELINE, PIPELINE_STATUS, RUN_KIND } from '../../workflows/search-attributes.js';
import type { PipelineRunInput } from '../../workflows/spec.js';
import { fakeActivities } from '../support/fake-activities.js';
import { testServices } from '../support/services.js';

/** The generic run workflow against the real dev server; activities are fakes that inject faults. */
describe('pipelineRunWorkflow', () => {
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    connection = await Connection.connect({ address: testServices().temporalAddress });
    client = new Client({ connection });
  });
  afterAll(() => connection.close());

  /** Runs one workflow with a worker serving `fake` on a fresh task queue. */
  async function run(fake: ReturnType<typeof fakeActivities>, partition = 'M07@2026-11-20T10') {
    const taskQueue = `wf-${randomUUID()}`;
    const nativeConnection = await NativeConnection.connect({ address: testServices().temporalAddress });
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: { codePath: testServices().workflowBundle },
      activities: fake.activities,
    });
    const input: PipelineRunInput = { spec: factoryMachineSignals, partition, runKind: 'manual' };
    const workflowId = `${runWorkflowId(factoryMachineSignals.id, partition)}:${taskQueue}`;
    try {
      return await worker.runUntil(async () => {
        const handle = await client.workflow.start(pipelineRunWorkflow, {
          workflowId,
          taskQueue,
          args: [input],
          typedSearchAttributes: [
            { key: PIPELINE, value: factoryMachineSignals.id },
            { key: PARTITION, value: partition },
            { key: RUN_KIND, value: 'manual' },
          ],
        });
        const result: { ok?: unknown; err?: unknown } = await handle.result().then(
          (r) => ({ ok: r }),
          (err: unknown) => ({ err }),
        );
        const description = await handle.describe();
        return { ...result, description, handle };
      });
    } finally {
      await nativeConnection.close();
    }
  }

  it('runs the five steps in order, once each, between the catalog records', async () => {
    const fake = fakeActivities({});
    const { ok, description } = await run(fake);
    expect(ok).toMatchObject({ status: 'succeeded' });
    // The run's catalog records ride on the first and last steps: exactly five activities on the success path.
    expect(fake.calls.map((c) => c.name)).toEqual([
      'ingestPartition',
      'stagePartition',
      'transformPartition',
      'loadPartition',
      'servePartition',
    ]);
    expect(description.typedSearchAttributes.get(PIPELINE_STATUS)).toBe('Succeeded');
  });

  it('retries a transient infrastructure fault and then succeeds', async () => {
    const fake = fakeActivities({
      failures: { loadPartition: (n) => (n < 3 ? new Error('connection reset by peer') : undefined) },
    });
    const { ok } = await run(fake);
    expect(ok).toMatchObject({ status: 'succeeded' });
    expect(fake.calls.filter((c) => c.name === 'loadPartition').map((c) => c.attempt)).toEqual([1, 2, 3]);
  });

  it('fails a data fault once, without retry, with an alert-bearing outcome and a searchable status', async () => {
    const fault = ApplicationFailure.nonRetryable(
      'M07_20261120T10.txt: breaking schema change: missing column(s) sku',
      'ContractBroken',
    );
    const fake = fakeActivities({ failures: { stagePartition: () => fault } });
    const { err, description } = await run(fake);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('ContractBroken');
    expect(cause.message).toContain('missing column(s) sku');
    expect(fake.calls.filter((c) => c.name === 'stagePartition')).toHaveLength(1);
    expect(fake.calls.map((c) => c.name)).not.toContain('loadPartition');
    expect(fake.outcomes).toEqual([{ status: 'failed', failureType: 'ContractBroken', failureMessage: fault.message }]);
    expect(description.status.name).toBe('FAILED');
    expect(description.typedSearchAttributes.get(PIPELINE_STATUS)).toBe('Failed:ContractBroken');
  });

  it('ends Unchanged after ingest when the partition already holds that content', async () => {
    const fake = fakeActivities({ alreadyPublished: true });
    const { ok, description } = await run(fake);
    expect(ok).toMatchObject({ status: 'unchanged' });
    expect(fake.calls.map((c) => c.name)).toEqual(['ingestPartition', 'recordRunFinished']);
    expect(description.typedSearchAttributes.get(PIPELINE_STATUS)).toBe('Unchanged');
  });

  it('rejects a malformed partition key as a data fault', async () => {
    const fake = fakeActivities({});
    const { err } = await run(fake, 'M07@2026-13-40T99');
    expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe('InvalidPartition');
    expect(fake.calls.map((c) => c.name)).toEqual(['recordRunStarted', 'recordRunFinished']);
  });

  it('returns the run in flight when the same partition is started twice', async () => {
    const taskQueue = `nobody-${randomUUID()}`;
    const workflowId = `${runWorkflowId(factoryMachineSignals.id, 'M01@2026-11-20T06')}:${taskQueue}`;
    const start = () =>
      client.workflow.start(pipelineRunWorkflow, {
        workflowId,
        taskQueue,
        args: [{ spec: factoryMachineSignals, partition: 'M01@2026-11-20T06', runKind: 'manual' }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    const [a, b] = await Promise.all([start(), start()]);
    expect(a.firstExecutionRunId).toBe(b.firstExecutionRunId);
    await a.terminate('test over');
  });
});
