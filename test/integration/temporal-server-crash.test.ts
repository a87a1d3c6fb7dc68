import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { PartitionTruth } from '../../infra/generator/ground-truth.js';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import { freePort, isPortFree } from '../../infra/services/ports.js';
import type { ManagedProcess } from '../../infra/services/process.js';
import { startTemporalDevServer } from '../../infra/services/temporal.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { expectExactlyLoaded, waitFor } from '../support/fault-checks.js';
import { testServices } from '../support/services.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

const { PendingActivityState } = proto.temporal.api.enums.v1;

/**
 * Issue 12, row 1: the Temporal server is killed with SIGKILL while runs stage and again while they load, and
 * restarted on the same SQLite file and port. The test owns that server (the shared one serves other test files);
 * one real worker process is bound to it for the whole test and must reconnect by itself.
 */
describe('the Temporal server killed (SIGKILL) during stage and during load', () => {
  let env: FabricaTestEnv;
  let dir: string;
  let port: number;
  let server: ManagedProcess | undefined;
  let worker: WorkerProcess | undefined;
  let connection: Connection | undefined;
  let client: Client;

  const boot = async () => {
    // The killed server's listening socket is gone once it has exited; wait for the port all the same.
    await waitFor(`port ${port} free`, () => isPortFree(port));
    server = await startTemporalDevServer({
      binary: testServices().temporal.binary,
      port,
      dbFile: path.join(dir, 'temporal.db'),
      logFile: path.join(dir, 'temporal.log'),
    });
    connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    client = new Client({ connection, namespace: 'default' });
  };
  const killServer = async () => {
    await connection?.close().catch(() => undefined);
    connection = undefined;
    await server!.stop('SIGKILL');
    expect(await server!.exited).toBe('SIGKILL');
  };

  beforeAll(async () => {
    env = await createTestEnv('tserver_crash');
    dir = mkdtempSync(path.join(tmpdir(), 'fabrica-tserver-'));
    port = await freePort();
    await boot();
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await connection?.close().catch(() => undefined);
    await server?.stop('SIGKILL');
    await env?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every run resumes on the restarted server and completes exactly, on the same worker process', async () => {
    const hour = '2026-11-04T09';
    const written = await Promise.all(
      (
        [
          ['M01', 'malformed'],
          ['M02', 'duplicate'],
          ['M03', undefined],
        ] as const
      ).map(([machine, defect]) =>
        writeMachineHourFile({
          outDir: env.landingDir,
          seed: 12,
          machines: 5,
          itemsPerFile: 300_000,
          defects: 'none',
          machine,
          hourKey: hour,
          ...(defect ? { defect } : {}),
        }),
      ),
    );
    const truths: PartitionTruth[] = written.map((w) => w.truth);
    expect(truths.map((t) => t.outcome)).toEqual(['loaded', 'loaded', 'loaded']);
    expect(truths.map((t) => Object.keys(t.quarantinedByReason).length > 0 || t.duplicates > 0)).toEqual([
      true,
      true,
      false,
    ]);

    const workerTmp = path.join(dir, 'worker-tmp');
    mkdirSync(workerTmp);
    worker = spawnWorker({
      ...env.processEnv(),
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      TMPDIR: workerTmp,
      FABRICA_WORKER_METRICS_PORT: 'off',
    });
    await worker.polling();
    const workerPid = worker.child.pid;
    const handles: WorkflowHandle[] = [];
    for (const t of truths) {
      handles.push(
        await client.workflow.start(pipelineRunWorkflow, {
          workflowId: `${runWorkflowId(spec.id, t.partition)}:${env.id}`,
          taskQueue: env.taskQueue,
          args: [{ spec, partition: t.partition, runKind: 'manual' }],
        }),
      );
    }
    const logs = () => `worker:\n${worker?.output() ?? ''}`;
    const steps = async (step: string) =>
      (
        await env.deps.warehouse.query<{ n: number }>('SELECT count(*)::int AS n FROM ops.run_steps WHERE step = $1', [
          step,
        ])
      ).rows[0]!.n;

    // 1. Every run is staging (its stage activity started on the worker, as the server records it): kill the server.
    await waitFor(
      'every run in stage',
      async () => {
        const described = await Promise.all(handles.map((h) => client.workflow.getHandle(h.workflowId).describe()));
        return described.every((d) =>
          (d.raw.pendingActivities ?? []).some(
            (a) =>
              a.activityType?.name === 'stagePartition' &&
              a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
          ),
        );
      },
      { context: logs },
    );
    await killServer();
    // The stages go on without the server; once one has finished its work, its completion can only reach a
    // restarted server.
    await waitFor('a stage done while the server is down', async () => (await steps('stage')) >= 1, {
      context: logs,
    });
    await boot();

    // 2. A load is streaming its COPY into the warehouse's factory tables: kill the server again.
    const db = env.databaseUrl.split('/').pop()!;
    await waitFor(
      'a COPY into factory.*',
      async () =>
        (
          await env.deps.warehouse.query(
            "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE 'COPY factory.%'",
            [db],
          )
        ).rowCount! > 0,
      { everyMs: 20, context: logs },
    );
    const ledgerRows = async () =>
      (await env.deps.warehouse.query<{ n: number }>('SELECT count(*)::int AS n FROM ops.load_ledger')).rows[0]!.n;
    const ledgerAtKill = await ledgerRows();
    await killServer();
    await waitFor('a load committed while the server is down', async () => (await ledgerRows()) > ledgerAtKill, {
      context: logs,
    });
    await boot();

    const outcomes = await Promise.all(handles.map((h) => client.workflow.getHandle(h.workflowId).result()));
    expect(outcomes.map((o) => (o as { status: string }).status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // The same worker process did it all: it was never restarted and reconnected by itself.
    expect({ pid: worker.child.pid, exitCode: worker.child.exitCode, signal: worker.child.signalCode }).toEqual({
      pid: workerPid,
      exitCode: null,
      signal: null,
    });
    await expectExactlyLoaded(env, truths, { tempDirs: [workerTmp] });
  }, 300_000);
});
