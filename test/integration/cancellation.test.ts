import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { backfillProgressQuery } from '../../workflows/backfill-messages.js';
import { backfillWorkflow } from '../../workflows/backfill.workflow.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { PIPELINE_STATUS } from '../../workflows/search-attributes.js';
import request from 'supertest';
import { createTestApi } from '../support/api-app.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';

/** Cancelling ends in the catalog and in Temporal as `cancelled`, never stuck `running` or failing forever. */
describe('cancellation', () => {
  let env: FabricaTestEnv;

  beforeAll(async () => {
    env = await createTestEnv('cancel');
  });
  afterAll(async () => {
    await env.close();
  });

  it('records a cancelled run as cancelled (the clean-up runs outside the cancelled scope)', async () => {
    // Cancelled before any worker took it: every step's activity is refused at once, only the clean-up may run.
    const partition = 'M01@2026-11-20T10';
    const handle = await env.client.workflow.start(pipelineRunWorkflow, {
      workflowId: `${runWorkflowId(spec.id, partition)}:cancel:${env.id}`,
      taskQueue: env.taskQueue,
      args: [{ spec, partition, runKind: 'manual' }],
    });
    await handle.cancel();
    await env.startWorker();
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const d = await handle.describe();
    expect(d.status.name).toBe('CANCELLED');
    expect(d.typedSearchAttributes.get(PIPELINE_STATUS)).toBe('Cancelled');
    const { rows } = await env.deps.warehouse.query(
      'SELECT status, failure_type, finished_at IS NOT NULL AS finished FROM ops.runs WHERE run_id = $1',
      [handle.firstExecutionRunId],
    );
    expect(rows).toEqual([{ status: 'cancelled', failure_type: 'Cancelled', finished: true }]);
  });

  it('cancels a backfill waiting on a partition another run holds (no unhandled rejection in the window)', async () => {
    await env.startWorker();
    // The partition is held by a run on a task queue no worker polls: the backfill's child start is refused
    // (already started) and it waits with a timer for that run to finish.
    const partition = 'M15@2026-03-02T09';
    const blocker = await env.client.workflow.start(pipelineRunWorkflow, {
      workflowId: runWorkflowId(spec.id, partition),
      taskQueue: `nobody-polls-${env.id}`,
      args: [{ spec, partition, runKind: 'manual' }],
    });
    try {
      const handle = await env.client.workflow.start(backfillWorkflow, {
        workflowId: `backfill-cancel-${env.id}`,
        taskQueue: env.taskQueue,
        args: [
          {
            backfillId: `cancel-${env.id}`,
            spec,
            from: '2026-03-02T09',
            to: '2026-03-02T09',
            partitions: [partition],
            mode: 'all',
            maxConcurrency: 1,
          },
        ],
      });
      // Wait on Temporal's own record that the child's start was refused.
      for (let i = 0; i < 300; i++) {
        const { events } = await handle.fetchHistory();
        if (events?.some((e) => e.startChildWorkflowExecutionFailedEventAttributes)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await handle.query(backfillProgressQuery)).running).toBe(1);
      await handle.cancel();
      const err = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      // No workflow task failed on the way (an unhandled rejection fails the task, retried forever).
      const { events } = await handle.fetchHistory();
      expect(events?.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
    } finally {
      await blocker.terminate('test done');
    }
  });

  it('reports a run terminated in Temporal in the run vocabulary (failed: Terminated), readable at once', async () => {
    // The API's task queue has no worker: its run stays open until terminated from Temporal (an operator's Web UI).
    const api = await createTestApi(env, { FABRICA_TASK_QUEUE: `nobody-polls-api-${env.id}` });
    try {
      const http = api.app.getHttpServer();
      const started = await request(http)
        .post('/api/v1/pipelines/factory-machine-signals/runs')
        .set('X-API-Key', api.keys.operator)
        .send({ partition: 'M14@2026-03-03T10' });
      expect(started.status).toBe(202);
      const get = () => request(http).get(`/api/v1/runs/${started.body.runId}`).set('X-API-Key', api.keys.viewer);
      expect((await get()).body).toMatchObject({ status: 'running', runKind: 'manual' });
      await env.client.workflow.getHandle(started.body.workflowId, started.body.runId).terminate('operator stop');
      expect((await get()).body).toMatchObject({ status: 'failed', failure: { type: 'Terminated' } });
      const cancel = await request(http)
        .post(`/api/v1/runs/${started.body.runId}/cancel`)
        .set('X-API-Key', api.keys.operator);
      expect(cancel.status).toBe(409);
      expect(cancel.body.message).toContain('is failed, not running');
    } finally {
      await api.close();
    }
  });
});
