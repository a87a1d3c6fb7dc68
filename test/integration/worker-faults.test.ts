import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import pg from 'pg';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import type { PartitionTruth } from '../../infra/generator/ground-truth.js';
import { freePort } from '../../infra/services/ports.js';
import { createLoad } from '../../activities/load.js';
import type { LoadInput } from '../../workflows/steps.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

/**
 * Fault matrix row 4: a worker killed during stage and during serve, and a worker frozen (SIGSTOP) past its
 * heartbeat timeout while another worker completes the partition, then resumed. Every scenario runs real worker
 * processes against the shared Temporal server and PostgreSQL, in an env of its own, and ends in exact results.
 */
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

let env: FabricaTestEnv | undefined;
const workers: WorkerProcess[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) {
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGCONT');
    await w.kill('SIGKILL');
  }
  await env?.close();
  env = undefined;
});
afterAll(async () => {
  await env?.close();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}:\n${workers.map((w) => w.output()).join('\n')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Resolves once the run's activity of `type` has been started on a worker (Temporal's own pending-activity state). */
function activityStarted(handle: WorkflowHandle, type: string): Promise<number> {
  return waitFor(`${type} started`, async () => {
    const d = await handle.describe();
    const a = d.raw.pendingActivities?.find((p) => p.activityType?.name === type && p.state === STARTED);
    return a ? (a.attempt ?? 1) : undefined;
  });
}

async function setUp(name: string, seed: number, hour: string) {
  env = await createTestEnv(name);
  const partition = `M03@${hour}`;
  const { truth } = await writeMachineHourFile({
    outDir: env.landingDir,
    seed,
    machines: 5,
    itemsPerFile: 300_000,
    defects: 'none',
    machine: 'M03',
    hourKey: hour,
  });
  return { env, partition, truth };
}

/** The run's result, or — when it does not finish in time — an error showing Temporal's pending activities. */
async function result(handle: WorkflowHandle, timeoutMs = 200_000): Promise<unknown> {
  let last = '';
  await waitFor(
    `the run to finish (${last})`,
    async () => {
      const d = await handle.describe();
      last = JSON.stringify(d.raw.pendingActivities ?? []);
      return d.status.name === 'RUNNING' ? undefined : true;
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\npending: ${last}`);
  });
  return handle.result();
}

function start(e: FabricaTestEnv, partition: string) {
  return e.client.workflow.start(pipelineRunWorkflow, {
    workflowId: `${runWorkflowId(spec.id, partition)}:${e.id}`,
    taskQueue: e.taskQueue,
    args: [{ spec, partition, runKind: 'manual' }],
  });
}

/**
 * A real worker process. `slots: 1` for the one to be frozen: with its only activity slot busy it holds no
 * outstanding activity poll, so the retried attempt goes to the other worker instead of into the frozen one.
 */
async function worker(e: FabricaTestEnv, slots = 4, extra: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
  const w = spawnWorker({
    ...e.processEnv(),
    FABRICA_WORKER_METRICS_PORT: 'off',
    FABRICA_WORKER_ACTIVITY_SLOTS: String(slots),
    ...extra,
  });
  workers.push(w);
  await w.polling();
  return w;
}

/** The exact post-conditions of a partition loaded once, whatever happened on the way. */
async function expectExact(e: FabricaTestEnv, truth: PartitionTruth): Promise<void> {
  const q = async (db: pg.Pool, sql: string, params: unknown[] = []) =>
    (await db.query<Record<string, unknown>>(sql, params)).rows;
  expect(
    await q(
      e.deps.warehouse,
      'SELECT count(*)::int AS n, count(DISTINCT item_seq)::int AS d FROM factory.production_events',
    ),
  ).toEqual([{ n: truth.itemsLoaded, d: truth.itemsLoaded }]);
  expect(await q(e.deps.warehouse, 'SELECT items::int, ok::int FROM factory.machine_yield_hourly')).toEqual([
    { items: truth.yield!.items, ok: truth.yield!.ok },
  ]);
  const quarantined = await q(
    e.deps.warehouse,
    'SELECT reason, count(*)::int AS n FROM factory.quarantined_rows GROUP BY 1',
  );
  expect(Object.fromEntries(quarantined.map((r) => [r.reason, r.n]))).toEqual(truth.quarantinedByReason);
  // Inventory: the partition's movements per SKU and the stock both equal the file's OK items, once.
  const movements = await q(
    e.deps.inventory,
    'SELECT sku, quantity FROM inventory.movements WHERE quantity <> 0 ORDER BY sku',
  );
  expect(Object.fromEntries(movements.map((r) => [r.sku, r.quantity]))).toEqual(truth.okBySku);
  const stock = await q(
    e.deps.inventory,
    'SELECT sku, quantity::int AS q FROM inventory.stock_on_hand WHERE quantity <> 0 ORDER BY sku',
  );
  expect(Object.fromEntries(stock.map((r) => [r.sku, r.q]))).toEqual(truth.okBySku);
  // One ledger entry per dataset, the run succeeded, nothing left open or temporary in either database.
  const ledger = await q(
    e.deps.warehouse,
    'SELECT dataset, count(*)::int AS n FROM ops.load_ledger GROUP BY 1 ORDER BY 1',
  );
  expect(ledger.map((r) => r.n)).toEqual(spec.load.datasets.map(() => 1));
  expect(await q(e.deps.warehouse, 'SELECT status FROM ops.runs')).toEqual([{ status: 'succeeded' }]);
  for (const [db, name] of [
    [e.deps.warehouse, e.databaseUrl],
    [e.deps.inventory, e.inventoryDatabaseUrl],
  ] as const) {
    const datname = name.split('/').pop();
    expect(await q(db, "SELECT relname FROM pg_class WHERE relpersistence = 't'")).toEqual([]);
    expect(
      await q(db, "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'", [
        datname,
      ]),
    ).toEqual([]);
  }
}

/** Resolves once the worker's only activity slot is free again (its late attempt ended), from the SDK's metrics. */
function activitySlotFree(metricsPort: number): Promise<true> {
  return waitFor('the late attempt to end', async () => {
    const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    const line = text
      .split('\n')
      .find((l) => l.startsWith('temporal_worker_task_slots_available{') && l.includes('worker_type="ActivityWorker"'));
    return line?.endsWith(' 1') ? true : undefined;
  });
}

async function lakeObjects(e: FabricaTestEnv, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of e.deps.lake.list(prefix)) out.push(`${o.key} ${o.size}`);
  return out;
}

async function stepAttempt(e: FabricaTestEnv, step: string): Promise<number> {
  const r = await e.deps.warehouse.query<{ attempt: number }>('SELECT attempt FROM ops.run_steps WHERE step = $1', [
    step,
  ]);
  return r.rows[0]!.attempt;
}

describe('a worker killed or frozen in the middle of a partition', () => {
  it('kill -9 during stage: the stage is retried on another worker, exact results', async () => {
    const { env: e, partition, truth } = await setUp('kill_stage', 31, '2026-11-04T10');
    const first = await worker(e);
    const handle = await start(e, partition);
    await activityStarted(handle, 'stagePartition');
    await first.kill('SIGKILL');
    await worker(e);
    expect(await result(handle)).toMatchObject({ status: 'succeeded' });
    expect(await stepAttempt(e, 'stage')).toBeGreaterThan(1);
    await expectExact(e, truth);
  });

  it('kill -9 during serve, inside its inventory transaction: retried, the stock counted once', async () => {
    const { env: e, partition, truth } = await setUp('kill_serve', 32, '2026-11-04T11');
    // The test holds the stock aggregate's lock, so serve is caught inside its transaction in the inventory database.
    const blocker = new pg.Client({ connectionString: e.inventoryDatabaseUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['inventory.stock_on_hand']);
      const first = await worker(e);
      const handle = await start(e, partition);
      await waitFor('serve inside its transaction', async () => {
        const r = await e.deps.inventory.query(
          "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND starts_with(application_name, 'fabrica:serve:') AND xact_start IS NOT NULL",
          [e.inventoryDatabaseUrl.split('/').pop()],
        );
        return r.rowCount ? true : undefined;
      });
      await first.kill('SIGKILL');
      await blocker.query('COMMIT');
      await worker(e);
      expect(await result(handle)).toMatchObject({ status: 'succeeded' });
      expect(await stepAttempt(e, 'serve')).toBeGreaterThan(1);
    } finally {
      await blocker.end();
    }
    await expectExact(e, truth);
  });

  it('SIGSTOP during load past the heartbeat timeout: the new attempt fences the frozen one off; resumed, it writes nothing', async () => {
    const { env: e, partition, truth } = await setUp('freeze_load', 33, '2026-11-04T12');
    const metricsPort = await freePort();
    const frozen = await worker(e, 1, { FABRICA_WORKER_METRICS_PORT: String(metricsPort) });
    const handle = await start(e, partition);
    const db = e.databaseUrl.split('/').pop()!;
    const copying = await waitFor('the COPY into the warehouse', async () => {
      const r = await e.deps.warehouse.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE 'COPY factory.%'",
        [db],
      );
      return r.rows[0]?.pid;
    });
    frozen.child.kill('SIGSTOP');
    const rescuer = await worker(e);
    expect(await result(handle)).toMatchObject({ status: 'succeeded' });
    expect(await stepAttempt(e, 'load')).toBeGreaterThan(1);
    // The frozen attempt's session was terminated by the new attempt, not waited for.
    expect(rescuer.output()).toContain('fencing off an older attempt of this run');
    const gone = await e.deps.warehouse.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [copying]);
    expect(gone.rowCount).toBe(0);
    await expectExact(e, truth);
    // Resumed, the frozen worker finds its session gone: its late COPY fails, and it keeps working.
    frozen.child.kill('SIGCONT');
    await activitySlotFree(metricsPort);
    expect(frozen.child.exitCode).toBeNull();
    await expectExact(e, truth);
  }, 300_000);

  it('SIGSTOP during stage until another worker finished the run: resumed, its late attempt changes nothing', async () => {
    const { env: e, partition, truth } = await setUp('freeze_stage', 34, '2026-11-04T13');
    const metricsPort = await freePort();
    const frozen = await worker(e, 1, { FABRICA_WORKER_METRICS_PORT: String(metricsPort) });
    const handle = await start(e, partition);
    await activityStarted(handle, 'stagePartition');
    frozen.child.kill('SIGSTOP');
    await worker(e);
    expect(await result(handle)).toMatchObject({ status: 'succeeded' });
    const stage = await stepAttempt(e, 'stage');
    expect(stage).toBeGreaterThan(1);
    const staged = await lakeObjects(e, `v1/staged/${spec.id}/`);
    frozen.child.kill('SIGCONT');
    // The late attempt runs on: it ends (its next heartbeat tells it Temporal gave up, or it completes and Temporal
    // refuses the result) when the worker's only activity slot is free again — read from the SDK's own metrics.
    await activitySlotFree(metricsPort);
    expect(frozen.child.exitCode).toBeNull();
    // Its catalog write (if any) never replaces the newer attempt's, and the lake holds the same objects.
    expect(await stepAttempt(e, 'stage')).toBe(stage);
    expect(await lakeObjects(e, `v1/staged/${spec.id}/`)).toEqual(staged);
    await expectExact(e, truth);
  }, 300_000);
});

/** GETs one of the worker's probes: its status code, or 0 when nothing answers. */
async function probe(port: number, path: '/live' | '/ready'): Promise<number> {
  return fetch(`http://127.0.0.1:${port}${path}`)
    .then(async (r) => (await r.arrayBuffer(), r.status))
    .catch(() => 0);
}

/** Resolves with the worker's exit code once it exited on its own. */
function exited(w: WorkerProcess): Promise<number | null> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return Promise.resolve(w.child.exitCode);
  return new Promise((resolve) => w.child.once('exit', (code) => resolve(code)));
}

describe('a worker drained with SIGTERM in the middle of a partition', () => {
  it('with time to finish: not ready but live while it drains, its stage completes (attempt 1), exits 0, exact', async () => {
    const { env: e, partition, truth } = await setUp('drain_finish', 35, '2026-11-04T15');
    const healthPort = await freePort();
    const draining = await worker(e, 4, {
      FABRICA_WORKER_HEALTH_PORT: String(healthPort),
      FABRICA_WORKER_SHUTDOWN_GRACE_SECONDS: '120',
    });
    await waitFor('readiness', async () => ((await probe(healthPort, '/ready')) === 200 ? true : undefined));
    const handle = await start(e, partition);
    await activityStarted(handle, 'stagePartition');
    const done = exited(draining);
    draining.child.kill('SIGTERM');
    // An orchestrator stops routing to it (not ready) without restarting it (live), while the stage goes on.
    await waitFor('not ready', async () => ((await probe(healthPort, '/ready')) === 503 ? true : undefined));
    expect(await probe(healthPort, '/live')).toBe(200);
    expect(
      (await handle.describe()).raw.pendingActivities?.some((a) => a.activityType?.name === 'stagePartition'),
    ).toBe(true);
    // The rest of the run needs another worker: the draining one polls no more.
    await worker(e);
    expect(await done).toBe(0);
    expect(draining.output()).toContain('"worker draining"');
    expect(draining.output()).toContain('"worker stopped"');
    expect(await result(handle)).toMatchObject({ status: 'succeeded' });
    expect(await stepAttempt(e, 'stage')).toBe(1);
    await expectExact(e, truth);
  }, 300_000);

  it('past its grace time: the stage is cancelled, the worker exits 0, the retry on another worker is exact', async () => {
    const { env: e, partition, truth } = await setUp('drain_cancel', 36, '2026-11-04T16');
    const draining = await worker(e, 4, { FABRICA_WORKER_SHUTDOWN_GRACE_SECONDS: '1' });
    const handle = await start(e, partition);
    await activityStarted(handle, 'stagePartition');
    const done = exited(draining);
    draining.child.kill('SIGTERM');
    expect(await done).toBe(0);
    await worker(e);
    expect(await result(handle)).toMatchObject({ status: 'succeeded' });
    expect(await stepAttempt(e, 'stage')).toBeGreaterThan(1);
    await expectExact(e, truth);
  }, 300_000);
});

describe('a zombie load of an older run', () => {
  it('is refused (Superseded) once a newer run published the partition, and changes nothing', async () => {
    const e = (env = await createTestEnv('zombie_load'));
    const partition = 'M02@2026-11-04T14';
    const file = { outDir: e.landingDir, machines: 5, itemsPerFile: 3000, defects: 'none', machine: 'M02' } as const;
    await writeMachineHourFile({ ...file, seed: 41, hourKey: '2026-11-04T14' });
    await e.startWorker();
    const first = await start(e, partition);
    expect(await first.result()).toMatchObject({ status: 'succeeded' });
    // The file is delivered again with other content; a newer run publishes it.
    const { truth } = await writeMachineHourFile({ ...file, seed: 42, hourKey: '2026-11-04T14' });
    const second = await start(e, partition);
    expect(await second.result()).toMatchObject({ status: 'succeeded' });
    // The first run's load, exactly as Temporal scheduled it, arriving late (a worker frozen through both runs).
    const { events } = await e.client.workflow.getHandle(first.workflowId, first.firstExecutionRunId).fetchHistory();
    const scheduled = events!.find(
      (ev) => ev.activityTaskScheduledEventAttributes?.activityType?.name === 'loadPartition',
    );
    const input = defaultPayloadConverter.fromPayload<LoadInput>(
      scheduled!.activityTaskScheduledEventAttributes!.input!.payloads![0]!,
    );
    const late = createLoad(e.deps)(input);
    await expect(late).rejects.toMatchObject({ type: 'Superseded' });
    await expect(late).rejects.toThrow(/published by a newer run/);
    const n = await e.deps.warehouse.query<{ n: number }>('SELECT count(*)::int AS n FROM factory.production_events');
    expect(n.rows[0]!.n).toBe(truth.itemsLoaded);
    const state = await e.deps.warehouse.query<{ run_id: string }>('SELECT DISTINCT run_id FROM ops.partition_state');
    expect(input.ctx.runId).toBe(first.firstExecutionRunId);
    expect(state.rows).toEqual([{ run_id: second.firstExecutionRunId }]);
  });
});
