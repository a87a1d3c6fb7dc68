import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { generateMachineFiles } from '../../infra/generator/machine-files.js';
import type { GroundTruth } from '../../infra/generator/ground-truth.js';
import {
  backfillProgressQuery,
  cancelSignal,
  pauseSignal,
  resumeSignal,
  setMaxConcurrencyUpdate,
  type BackfillInput,
} from '../../workflows/backfill-messages.js';
import { backfillWorkflow } from '../../workflows/backfill.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { expectMatchesTruth } from '../support/factory-checks.js';

const MACHINES = ['M01', 'M02', 'M03', 'M04', 'M05'];

/** Backfills on the real dev server with real runs: windows, signals, continue-as-new, modes, overlaps. */
describe('backfillWorkflow', () => {
  let env: FabricaTestEnv;
  let truth: GroundTruth;

  beforeAll(async () => {
    env = await createTestEnv('backfill');
    // Five working days × 5 machines × 12 hours = 300 small partitions, straight into the landing area.
    truth = await generateMachineFiles({
      outDir: env.landingDir,
      from: '2026-10-05',
      to: '2026-10-09',
      machines: 5,
      seed: 3,
      itemsPerFile: 12,
      defects: 'none',
    });
    rmSync(path.join(env.landingDir, 'ground-truth.json'));
    await env.startWorker();
  });
  afterAll(() => env.close());

  const start = (id: string, o: Partial<BackfillInput>) =>
    env.client.workflow.start(backfillWorkflow, {
      workflowId: `${id}-${env.id}`,
      taskQueue: env.taskQueue,
      // The data has 5 machines of the 15 the pipeline expects: every backfill is narrowed to them.
      args: [
        {
          backfillId: id,
          spec,
          from: '2026-10-05T06',
          to: '2026-10-09T17',
          mode: 'all',
          maxConcurrency: 3,
          entities: MACHINES,
          ...o,
        },
      ],
    });

  /** Start/close times of the child runs, from Temporal itself; returns the most that were ever open at once. */
  async function maxOverlap(since: Date, until = new Date()): Promise<number> {
    const points: [number, number][] = [];
    for await (const w of env.client.workflow.list({
      query: `WorkflowType = 'pipelineRunWorkflow' AND TaskQueue = '${env.taskQueue}'`,
    })) {
      if (!w.closeTime || w.startTime < since || w.startTime > until) continue;
      points.push([w.startTime.getTime(), 1], [w.closeTime.getTime(), -1]);
    }
    points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let open = 0;
    let max = 0;
    for (const [, d] of points) max = Math.max(max, (open += d));
    return max;
  }

  const waitFor = async (what: () => Promise<boolean>, ms = 120_000) => {
    const deadline = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('cancels cleanly (each partition committed or untouched), then runs again to completion', async () => {
    const handle = await start('bf-cancel', { from: '2026-10-05T06', to: '2026-10-05T17', maxConcurrency: 2 });
    await waitFor(async () => (await handle.query(backfillProgressQuery)).done >= 5);
    await handle.signal(cancelSignal);
    const cancelled = await handle.result();
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.done).toBeLessThan(60);
    const rows = await env.deps.warehouse.query<{ partition_key: string; rows: string }>(
      "SELECT partition_key, rows FROM ops.partition_state WHERE dataset = 'production_events'",
    );
    const counts = await env.deps.warehouse.query<{ m: string; h: string; n: number }>(
      `SELECT machine_id AS m, to_char(partition_hour AT TIME ZONE INTERVAL '-03:00', 'YYYY-MM-DD"T"HH24') AS h, count(*)::int AS n FROM factory.production_events GROUP BY 1, 2`,
    );
    const loaded = new Map(counts.rows.map((r) => [`${r.m}@${r.h}`, r.n]));
    expect(loaded.size).toBe(rows.rowCount);
    for (const r of rows.rows) expect(loaded.get(r.partition_key)).toBe(truth.partitions[r.partition_key]!.itemsLoaded);
    const again = await start('bf-cancel', { from: '2026-10-05T06', to: '2026-10-05T17', maxConcurrency: 2 });
    expect((await again.result()).status).toBe('completed');
  });

  it('keeps the window within the limit, pauses, resumes, changes concurrency live, continues as new, and loads exactly the truth', async () => {
    const since = new Date();
    const handle = await start('bf-all', { maxConcurrency: 2 });
    await waitFor(async () => (await handle.query(backfillProgressQuery)).done >= 70);
    await handle.signal(pauseSignal);
    await waitFor(async () => (await handle.query(backfillProgressQuery)).running === 0);
    const paused = await handle.query(backfillProgressQuery);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await handle.query(backfillProgressQuery)).done).toBe(paused.done);
    expect(paused.status).toBe('paused');
    const phaseOne = new Date();
    expect(await handle.executeUpdate(setMaxConcurrencyUpdate, { args: [4] })).toBe(4);
    await expect(handle.executeUpdate(setMaxConcurrencyUpdate, { args: [0] })).rejects.toMatchObject({
      cause: { message: 'maxConcurrency must be an integer in 1..64' },
    });
    await handle.signal(resumeSignal);
    const result = await handle.result();
    expect(result).toMatchObject({
      status: 'completed',
      total: 300,
      failed: 0,
      remaining: 0,
      running: 0,
      maxConcurrency: 4,
    });
    expect(result.done).toBe(300);
    expect(result.workflowRuns).toBeGreaterThan(1);
    expect(await maxOverlap(since, phaseOne)).toBeLessThanOrEqual(2);
    expect(await maxOverlap(since)).toBeLessThanOrEqual(4);
    expect(await maxOverlap(phaseOne)).toBeGreaterThan(2);
    await expectMatchesTruth(env, truth);
  });

  it('runs overlapping and repeated backfills without loading anything twice', async () => {
    const ledgerBefore = await env.deps.warehouse.query('SELECT count(*)::int AS n FROM ops.load_ledger');
    const [a, b] = await Promise.all([
      start('bf-overlap-a', { from: '2026-10-06T06', to: '2026-10-07T17', maxConcurrency: 4 }),
      start('bf-overlap-b', {
        from: '2026-10-07T06',
        to: '2026-10-08T17',
        entities: ['M01', 'M02'],
        maxConcurrency: 4,
      }),
    ]);
    const [ra, rb] = await Promise.all([a.result(), b.result()]);
    expect([ra.status, ra.failed, rb.status, rb.failed]).toEqual(['completed', 0, 'completed', 0]);
    expect(rb.total).toBe(2 * 2 * 12);
    const ledgerAfter = await env.deps.warehouse.query('SELECT count(*)::int AS n FROM ops.load_ledger');
    expect(ledgerAfter.rows[0].n).toBe(ledgerBefore.rows[0].n);
    await expectMatchesTruth(env, truth);
  });

  it('finds failed partitions, lists missing ones in a dry run, and retries just the failed', async () => {
    const victims = ['M03@2026-10-09T10', 'M04@2026-10-09T11'];
    await env.deps.warehouse.query('DELETE FROM ops.partition_state WHERE partition_key = ANY($1)', [victims]);
    const dry = await (
      await start('bf-dry', { from: '2026-10-09T06', to: '2026-10-09T17', mode: 'missing', dryRun: true })
    ).result();
    expect(dry.dryRun).toEqual({ count: 2, partitions: victims });
    expect(dry.done).toBe(0);
    // Their files vanish from the landing area and from the raw zone's index: the runs must fail, clearly.
    const files = victims.map((p) => truth.partitions[p]!.files[0]!);
    const saved = await Promise.all(
      files.map(async (f) => [f, await env.deps.landing.getRange(f, 0, 1 << 30)] as const),
    );
    await Promise.all(files.map((f) => env.deps.landing.delete(f)));
    await env.deps.warehouse.query('DELETE FROM ops.partition_state WHERE partition_key = ANY($1)', [victims]);
    const run = await (
      await start('bf-day5', { from: '2026-10-09T06', to: '2026-10-09T17', maxConcurrency: 4 })
    ).result();
    expect(run.failed).toBe(2);
    expect(run.failures.map((f) => [f.partition, f.type]).sort()).toEqual(victims.map((p) => [p, 'SourceMissing']));
    for (const [f, body] of saved) await env.deps.landing.put(f, body);
    const retry = await (
      await start('bf-day5-retry', { from: '2026-10-09T06', to: '2026-10-09T17', mode: 'failed' })
    ).result();
    expect(retry).toMatchObject({ status: 'completed', done: 2, failed: 0, skipped: 58 });
    await expectMatchesTruth(env, truth);
  });
});
