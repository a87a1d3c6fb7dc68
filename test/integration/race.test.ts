import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { GroundTruth } from '../../infra/generator/ground-truth.js';
import { generateMachineFiles } from '../../infra/generator/machine-files.js';
import { backfillWorkflow } from '../../workflows/backfill.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { deliver, expectMatchesTruth, startSensor, waitQuiet } from '../support/factory-checks.js';

const DAY = '2026-11-18';
const MACHINES = ['M01', 'M02', 'M03'];

/**
 * Fault-matrix row 5: the landing sensor, forced runs through the API and two overlapping backfills all go for the
 * same partitions at once. Every partition's runs are serialized (never two at once), and the result is exact.
 */
describe('the sensor, forced API runs and overlapping backfills racing on the same partitions', () => {
  let env: FabricaTestEnv;
  let api: TestApi;
  let genDir: string;
  let truth: GroundTruth;
  let stopSensor: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    env = await createTestEnv('race');
    genDir = mkdtempSync(path.join(tmpdir(), 'fabrica-race-'));
    truth = await generateMachineFiles({
      outDir: genDir,
      from: DAY,
      to: DAY,
      machines: MACHINES.length,
      seed: 21,
      itemsPerFile: 40,
      defects: 'none',
    });
    await env.startWorker();
    api = await createTestApi(env);
  });
  afterAll(async () => {
    await stopSensor?.();
    await api?.close();
    await env?.close();
    rmSync(genDir, { recursive: true, force: true });
  });

  it('serializes every partition and ends exactly at the ground truth', async () => {
    const landed = deliver(genDir, env);
    const backfill = (id: string, from: string, to: string) =>
      env.client.workflow.execute(backfillWorkflow, {
        workflowId: `bf-${id}-${env.id}`,
        taskQueue: env.taskQueue,
        args: [{ backfillId: id, spec, from, to, mode: 'all', maxConcurrency: 4, entities: MACHINES }],
      });
    const forced = ['M01', 'M02'].flatMap((m) => ['08', '09', '10', '11'].map((h) => `${m}@${DAY}T${h}`));
    // All at once: the sensor, two backfills over 06–13 and 10–17, and forced runs of eight of those hours.
    const [sensorStop, first, second, posts] = await Promise.all([
      startSensor(env, spec),
      backfill('race-a', `${DAY}T06`, `${DAY}T13`),
      backfill('race-b', `${DAY}T10`, `${DAY}T17`),
      Promise.all(
        forced.map((partition) =>
          request(api.app.getHttpServer())
            .post(`/api/v1/pipelines/${spec.id}/runs`)
            .set('X-API-Key', api.keys.operator)
            .send({ partition, force: true }),
        ),
      ),
    ]);
    stopSensor = sensorStop;
    expect(posts.map((p) => p.status)).toEqual(forced.map(() => 202));
    expect([first.failed, second.failed]).toEqual([0, 0]);
    await waitQuiet(env, landed);

    // Exact: events, quarantine, yields, stock per SKU — nothing lost, nothing doubled.
    await expectMatchesTruth(env, truth);
    // Serialized: the catalog's runs of one partition never overlap in time, and every run ended.
    const { rows } = await env.deps.warehouse.query<{ partition_key: string; overlaps: string; open: string }>(
      `SELECT a.partition_key,
              count(*) FILTER (WHERE b.run_id IS NOT NULL) AS overlaps,
              count(*) FILTER (WHERE a.finished_at IS NULL) AS open
         FROM ops.runs a
         LEFT JOIN ops.runs b
           ON b.partition_key = a.partition_key AND b.run_id <> a.run_id
          AND b.started_at < a.finished_at AND a.started_at < b.finished_at
        GROUP BY 1 ORDER BY 1`,
    );
    expect(rows.filter((r) => Number(r.overlaps) > 0 || Number(r.open) > 0)).toEqual([]);
    // The race was real: the forced hours ran more than once, some partitions were left to the run holding them.
    const counts = await env.deps.warehouse.query<{ n: string }>(
      `SELECT count(*) AS n FROM ops.runs WHERE partition_key = ANY($1)`,
      [forced],
    );
    expect(Number(counts.rows[0]!.n)).toBeGreaterThan(forced.length);
  }, 300_000);
});
