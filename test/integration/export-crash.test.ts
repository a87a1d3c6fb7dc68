import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fillSyntheticEvents } from '../../infra/generator/synthetic-events.js';
import { featureExportWorkflow } from '../../workflows/feature-export.workflow.js';
import { productionEvents } from '../../workflows/features/production-events.featureset.js';
import { duckRows, openDuckDb } from '../support/duckdb.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

const DAYS = ['2026-06-01', '2026-06-02', '2026-06-03'];

/** A worker process killed with SIGKILL while an export streams its files; another one finishes the export. */
describe('kill -9 of the worker in the middle of an export', () => {
  let env: FabricaTestEnv;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    env = await createTestEnv('export_crash');
    for (const day of DAYS) await fillSyntheticEvents(env.deps.warehouse, { day, machines: 6, itemsPerHour: 4000 });
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await env.close();
  });

  it('completes after a restart with every row once and only the manifest files in the lake', async () => {
    worker = spawnWorker(env.processEnv());
    await worker.polling();
    const exportId = `crash-${env.id}`;
    const prefix = `v1/exports/${productionEvents.id}/v${productionEvents.version}/${exportId}`;
    const handle = await env.client.workflow.start(featureExportWorkflow, {
      workflowId: `export-${exportId}`,
      taskQueue: env.taskQueue,
      args: [
        {
          exportId,
          spec: productionEvents,
          from: DAYS[0]!,
          to: DAYS[2]!,
          format: 'parquet',
          training: false,
          maxFileBytes: 512 * 1024,
        },
      ],
    });
    // Wait until the second chunk (day) has written a file, then kill the worker without warning.
    const dir = path.join(env.lakeDir, prefix);
    const deadline = Date.now() + 120_000;
    const files = () => {
      try {
        return readdirSync(dir);
      } catch {
        return [];
      }
    };
    while (!files().some((f) => f.startsWith('part-00001-'))) {
      if (Date.now() > deadline) throw new Error(`no file of chunk 1 seen:\n${worker.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await worker.kill('SIGKILL');
    worker = spawnWorker(env.processEnv());
    await worker.polling();
    const manifest = await handle.result();

    const total = await env.deps.warehouse.query<{ n: string }>('SELECT count(*) AS n FROM factory.production_events');
    expect(manifest.rowCount).toBe(Number(total.rows[0]!.n));
    // The chunk that was cut short ran again (its activity has more than one attempt in the history).
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0)
      .filter((a) => a > 1);
    expect(attempts.length).toBeGreaterThan(0);
    // Exactly the manifest's files (and lineage + manifest) are in the export's prefix.
    expect(files().sort()).toEqual(
      [...manifest.files.map((f) => path.basename(f.key)), 'lineage.jsonl', 'manifest.json'].sort(),
    );
    // Every row exactly once, as DuckDB reads the files back.
    const duck = await openDuckDb();
    try {
      const list = manifest.files.map((f) => `'${path.join(env.lakeDir, f.key)}'`).join(', ');
      const [got] = await duckRows(
        duck.conn,
        `SELECT count(*) AS n, count(DISTINCT (machine_id, partition_hour, item_seq)) AS d, sum(item_seq) AS s,
           sum(cycle_ms) AS c FROM read_parquet([${list}])`,
      );
      const [want] = (
        await env.deps.warehouse.query<Record<string, string>>(
          `SELECT count(*) AS n, count(DISTINCT (machine_id, partition_hour, item_seq)) AS d, sum(item_seq) AS s,
             sum(cycle_ms) AS c FROM factory.production_events`,
        )
      ).rows;
      expect(got).toEqual(want);
    } finally {
      duck.close();
    }
  });
});
