import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import pg from 'pg';
import type { PartitionTruth } from '../../infra/generator/ground-truth.js';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import { freePort, isPortFree } from '../../infra/services/ports.js';
import { startEmbeddedPostgres } from '../../infra/services/postgres.js';
import type { ManagedProcess } from '../../infra/services/process.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { expectExactlyLoaded, waitFor } from '../support/fault-checks.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

/** The lock serve takes in the inventory database around its aggregate update. */
const SERVE_LOCK = 'inventory.stock_on_hand';

/**
 * Issue 12, row 2: PostgreSQL (the warehouse and the inventory database) is killed with SIGKILL while a load streams
 * its COPY into the warehouse and again while serve is inside its transaction on the inventory database, and restarted
 * on the same data directory and port: it recovers from its WAL. The test owns that server (the shared one serves
 * other test files); one real worker process is bound to it for the whole test and must reconnect by itself.
 */
describe('PostgreSQL killed (SIGKILL) during a COPY into the warehouse and during serve', () => {
  let env: FabricaTestEnv;
  let dir: string;
  let port: number;
  let server: ManagedProcess | undefined;
  let worker: WorkerProcess | undefined;
  let lockHolder: pg.Client | undefined;
  const user = 'fabrica';
  const password = 'fabrica';
  const dataDir = () => path.join(dir, 'pg', 'data');
  const logFile = () => path.join(dir, 'postgres.log');

  const boot = async () => {
    await waitFor(`port ${port} free`, () => isPortFree(port));
    server = await startEmbeddedPostgres({ dataDir: dataDir(), port, user, password, logFile: logFile() });
  };
  /**
   * SIGKILL to the postmaster and every process it forked (each backend runs in its own session, outside the server's
   * process group), all at once: nothing is flushed or shut down. Resolves once every one of them is gone (a backend
   * still attached to the old shared memory would stop the restarted server).
   */
  const killServer = async () => {
    const postmaster = Number(readFileSync(path.join(dataDir(), 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === postmaster;
        } catch {
          return false; // already gone
        }
      })
      .map(Number);
    expect(children.length).toBeGreaterThan(0);
    const stopped = server!.stop('SIGKILL');
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await stopped;
    expect(await server!.exited).toBe('SIGKILL');
    for (const pid of [postmaster, ...children])
      await waitFor(`server process ${pid} gone`, async () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      });
  };
  /**
   * A probe's query; while the server is down (or recovering) it answers `undefined`. A dead worker fails the probe at
   * once, with its output.
   */
  const probe = async <T extends pg.QueryResultRow>(pool: pg.Pool, sql: string, params: unknown[] = []) => {
    if (worker && (worker.child.exitCode !== null || worker.child.signalCode !== null))
      throw new Error(`the worker died:\n${worker.output()}`);
    return pool.query<T>(sql, params).then(
      (r) => r.rows,
      () => undefined,
    );
  };
  const holdServeLock = async () => {
    lockHolder = new pg.Client({ connectionString: env.inventoryDatabaseUrl, application_name: 'test-lock-holder' });
    lockHolder.on('error', () => undefined); // its server is about to be killed
    await lockHolder.connect();
    await lockHolder.query('BEGIN');
    await lockHolder.query('SELECT pg_advisory_xact_lock(hashtext($1))', [SERVE_LOCK]);
    const pid = (await lockHolder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    return pid;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fabrica-pgcrash-'));
    port = await freePort();
    await boot();
    env = await createTestEnv('pg_crash', {
      postgresUrl: `postgres://${user}:${password}@127.0.0.1:${port}/postgres`,
    });
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await lockHolder?.end().catch(() => undefined);
    try {
      await env?.close(); // needs the server up: a failed restart leaves only the folder to remove
    } finally {
      await server?.stop('SIGTERM');
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every run completes exactly on the restarted server, on the same worker process', async () => {
    const hour = '2026-11-05T10';
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

    // Serve blocks on this lock until the test lets go of it (or the server dies): no serve can finish early.
    await holdServeLock();

    const workerTmp = path.join(dir, 'worker-tmp');
    mkdirSync(workerTmp);
    worker = spawnWorker({ ...env.processEnv(), TMPDIR: workerTmp, FABRICA_WORKER_METRICS_PORT: 'off' });
    await worker.polling();
    const workerPid = worker.child.pid;
    const handles: WorkflowHandle[] = [];
    for (const t of truths) {
      handles.push(
        await env.client.workflow.start(pipelineRunWorkflow, {
          workflowId: `${runWorkflowId(spec.id, t.partition)}:${env.id}`,
          taskQueue: env.taskQueue,
          args: [{ spec, partition: t.partition, runKind: 'manual' }],
        }),
      );
    }
    const logs = () => `worker:\n${worker?.output() ?? ''}\npostgres log: ${logFile()}`;
    const warehouseDb = env.databaseUrl.split('/').pop()!;
    const inventoryDb = env.inventoryDatabaseUrl.split('/').pop()!;

    // 1. A load is streaming its COPY into the warehouse's factory tables: kill PostgreSQL, restart it.
    await waitFor(
      'a COPY into factory.*',
      async () =>
        ((
          await probe(
            env.deps.warehouse,
            "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE 'COPY factory.%'",
            [warehouseDb],
          )
        )?.length ?? 0) > 0,
      { everyMs: 20, context: logs },
    );
    await killServer();
    await boot();
    // The killed COPY's transaction never committed: no ledger entry for it survived the crash, and at least one
    // partition still has to load after the restart.
    const ledgerAfterCrash = await env.deps.warehouse.query<{ n: number }>(
      'SELECT count(DISTINCT partition_key)::int AS n FROM ops.load_ledger',
    );
    expect(ledgerAfterCrash.rows[0]!.n).toBeLessThan(truths.length);
    const lockPid = await holdServeLock();

    // 2. Serve is inside its transaction on the inventory database (tagged `fabrica:serve:…`, trying the lock the
    // test holds) for every run not yet done: kill PostgreSQL again, restart it.
    const caught = await waitFor(
      'every unfinished run in serve, inside its transaction',
      async () => {
        const waiting = await probe<{ n: number }>(
          env.deps.inventory,
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = $1 AND pid <> $2 AND xact_start IS NOT NULL
              AND starts_with(application_name, 'fabrica:serve:')`,
          [inventoryDb, lockPid],
        );
        const done = await probe<{ n: number }>(
          env.deps.warehouse,
          "SELECT count(*)::int AS n FROM ops.runs WHERE status = 'succeeded'",
        );
        if (!waiting || !done) return false;
        const [w, d] = [waiting[0]!.n, done[0]!.n];
        return w >= 1 && w + d === truths.length && w;
      },
      { everyMs: 50, context: logs },
    );
    expect(caught).toBeGreaterThanOrEqual(1);
    lockHolder?.end().catch(() => undefined);
    lockHolder = undefined;
    await killServer();
    await boot();

    const outcomes = await Promise.all(handles.map((h) => env.client.workflow.getHandle(h.workflowId).result()));
    expect(outcomes.map((o) => (o as { status: string }).status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // Both restarts recovered from the WAL of a server that was not shut down.
    expect(readFileSync(logFile(), 'utf8').match(/automatic recovery in progress/g)?.length).toBe(2);
    // The same worker process did it all: it never died and its pools reconnected by themselves.
    expect({ pid: worker.child.pid, exitCode: worker.child.exitCode, signal: worker.child.signalCode }).toEqual({
      pid: workerPid,
      exitCode: null,
      signal: null,
    });
    await expectExactlyLoaded(env, truths, { tempDirs: [workerTmp] });
    const inventoryOpen = await env.deps.inventory.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'",
      [inventoryDb],
    );
    expect(inventoryOpen.rows[0]!.n).toBe(0);
    const inventoryTemp = await env.deps.inventory.query("SELECT relname FROM pg_class WHERE relpersistence = 't'");
    expect(inventoryTemp.rows).toEqual([]);
  }, 300_000);
});
