import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

/** A worker process killed with SIGKILL while it streams a COPY into the warehouse; another one finishes the run. */
describe('kill -9 of the worker in the middle of a load', () => {
  let env: FabricaTestEnv;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    env = await createTestEnv('crash');
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await env.close();
  });

  it('completes after a restart with exact results and nothing left behind', async () => {
    const partition = 'M04@2026-11-04T09';
    const { truth } = await writeMachineHourFile({
      outDir: env.landingDir,
      seed: 5,
      machines: 5,
      itemsPerFile: 400_000,
      defects: 'none',
      machine: 'M04',
      hourKey: '2026-11-04T09',
    });
    worker = spawnWorker(env.processEnv());
    await worker.polling();
    const handle = await env.client.workflow.start(pipelineRunWorkflow, {
      workflowId: `${runWorkflowId(spec.id, partition)}:${env.id}`,
      taskQueue: env.taskQueue,
      args: [{ spec, partition, runKind: 'manual' }],
    });
    const db = env.databaseUrl.split('/').pop()!;
    // Wait until the load's COPY is streaming into the warehouse, then kill the worker without warning.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const copying = await env.deps.warehouse.query(
        "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE 'COPY factory.%'",
        [db],
      );
      if (copying.rowCount) break;
      if (Date.now() > deadline) throw new Error(`no COPY seen:\n${worker.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await worker.kill('SIGKILL');
    worker = spawnWorker(env.processEnv());
    await worker.polling();
    expect(await handle.result()).toMatchObject({ status: 'succeeded' });

    const events = await env.deps.warehouse.query(
      'SELECT count(*)::int AS n, count(DISTINCT item_seq)::int AS d FROM factory.production_events',
    );
    expect(events.rows[0]).toEqual({ n: truth.itemsLoaded, d: truth.itemsLoaded });
    const stock = await env.deps.inventory.query(
      'SELECT sku, quantity::int AS q FROM inventory.stock_on_hand WHERE quantity <> 0 ORDER BY sku',
    );
    expect(Object.fromEntries(stock.rows.map((r: { sku: string; q: number }) => [r.sku, r.q]))).toEqual(truth.okBySku);
    const load = await env.deps.warehouse.query("SELECT attempt FROM ops.run_steps WHERE step = 'load'");
    expect(load.rows[0].attempt).toBeGreaterThan(1);
    // Nothing left behind: no staging/temporary table, no transaction left open, one ledger entry per dataset.
    const temp = await env.deps.warehouse.query("SELECT relname FROM pg_class WHERE relpersistence = 't'");
    expect(temp.rows).toEqual([]);
    const tables = await env.deps.warehouse.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'factory' AND table_type = 'BASE TABLE' ORDER BY 1",
    );
    expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual([
      'inventory_movements',
      'machine_yield_hourly',
      'production_events',
      'quarantined_rows',
    ]);
    const open = await env.deps.warehouse.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'",
      [db],
    );
    expect(open.rows[0].n).toBe(0);
    const ledger = await env.deps.warehouse.query(
      'SELECT dataset, count(*)::int AS n FROM ops.load_ledger GROUP BY dataset ORDER BY dataset',
    );
    expect(ledger.rows.every((r: { n: number }) => r.n === 1)).toBe(true);
  });
});
