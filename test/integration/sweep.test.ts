import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { generateMachineFiles, writeMachineHourFile } from '../../infra/generator/machine-files.js';
import type { GroundTruth } from '../../infra/generator/ground-truth.js';
import { schedulesOf } from '../../worker/schedules.js';
import { factoryMachineSignals } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import type { SweepResult } from '../../workflows/scheduled.workflow.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';

const MACHINES = ['M01', 'M02', 'M03'];
const spec = { ...factoryMachineSignals, partitioning: { ...factoryMachineSignals.partitioning, entities: MACHINES } };

/** The nightly sweep alone re-processes late and changed files and raises freshness alerts for missing hours. */
describe('sweepWorkflow', () => {
  let env: FabricaTestEnv;
  let gen: string;
  let truth: GroundTruth;

  beforeAll(async () => {
    env = await createTestEnv('sweep');
    gen = mkdtempSync(path.join(tmpdir(), 'fabrica-sweep-'));
    // Friday 2026-11-20, swept that night at 22:30 plant time: the sweep's "now" is the firing's scheduled time,
    // so the test replays that firing through the schedule's backfill and never depends on today's date.
    truth = await generateMachineFiles({
      outDir: gen,
      from: '2026-11-20',
      to: '2026-11-20',
      machines: 3,
      seed: 21,
      itemsPerFile: 15,
      defects: 'none',
    });
    await env.startWorker();
  });
  afterAll(async () => {
    await env.close();
    rmSync(gen, { recursive: true, force: true });
  });

  /** The nightly sweep's firing after the generated day: 2026-11-20 22:30 in America/Sao_Paulo. */
  const SWEPT_AT = new Date('2026-11-21T01:30:00Z');

  /** Fires the env's sweep schedule for SWEPT_AT (a schedule backfill) and returns its result. */
  async function sweep(n: number): Promise<SweepResult> {
    const options = schedulesOf(spec, env.taskQueue)[1]!;
    const handle = await env.client.schedule.create({
      ...options,
      scheduleId: `${options.scheduleId}:${env.id}:${n}`,
      action: { ...options.action, workflowId: `sweep:${env.id}:${n}` },
      state: { paused: true },
    });
    await handle.backfill({
      start: new Date(SWEPT_AT.getTime() - 60_000),
      end: new Date(SWEPT_AT.getTime() + 60_000),
      overlap: ScheduleOverlapPolicy.ALLOW_ALL,
    });
    let started: string | undefined;
    for (let i = 0; i < 50 && !started; i++) {
      await new Promise((r) => setTimeout(r, 200));
      started = (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId;
    }
    expect((await handle.describe()).info.recentActions.map((a) => a.scheduledAt)).toEqual([SWEPT_AT]);
    const result = (await env.client.workflow.getHandle(started!).result()) as SweepResult;
    await handle.delete();
    return result;
  }

  const published = async (partition: string) =>
    (
      await env.deps.warehouse.query(
        'SELECT content_sha256 FROM ops.partition_state WHERE dataset = $1 AND partition_key = $2',
        ['production_events', partition],
      )
    ).rows[0]?.content_sha256 as string | undefined;
  const events = async (partition: string) =>
    (
      await env.deps.warehouse.query(
        `SELECT count(*)::int AS n FROM factory.production_events WHERE machine_id || '@' || to_char(partition_hour AT TIME ZONE INTERVAL '-03:00', 'YYYY-MM-DD"T"HH24') = $1`,
        [partition],
      )
    ).rows[0].n as number;

  it('loads what landed, later a late file and a changed file, and alerts on the missing hour', async () => {
    const late = 'M02@2026-11-20T14';
    const missing = 'M03@2026-11-20T09';
    const changed = 'M01@2026-11-20T10';
    for (const f of truth.files) {
      if (f.partition === late || f.partition === missing) continue;
      writeFileSync(path.join(env.landingDir, path.basename(f.path)), readFileSync(path.join(gen, f.path)));
    }
    const first = await sweep(1);
    expect(first.changed).toHaveLength(36 - 2);
    expect(first.backfill).toMatchObject({ done: 34, failed: 0 });
    expect(first.stale).toEqual(expect.arrayContaining([late, missing]));
    // The 7-day look-back from Friday night: Monday 16 to Friday 20, 12 hours × 3 machines, minus the 34 loaded.
    expect(first.stale).toHaveLength(5 * 12 * 3 - 34);
    const alerts = await env.deps.warehouse.query(
      "SELECT partition_key FROM ops.alerts WHERE kind = 'freshness' AND partition_key = ANY($1)",
      [[late, missing]],
    );
    expect(alerts.rows.map((r: { partition_key: string }) => r.partition_key).sort()).toEqual([late, missing].sort());

    // Nothing new: the sweep re-runs nothing.
    expect((await sweep(2)).changed).toEqual([]);

    // The late file arrives, and M01's 10:00 file is re-sent with different content (a corrected export).
    writeFileSync(
      path.join(env.landingDir, 'M02_20261120T14.txt'),
      readFileSync(path.join(gen, truth.partitions[late]!.files[0]!)),
    );
    const before = await published(changed);
    unlinkSync(path.join(env.landingDir, 'M01_20261120T10.txt'));
    const { truth: fixed } = await writeMachineHourFile({
      outDir: env.landingDir,
      seed: 999,
      machines: 3,
      itemsPerFile: 40,
      defects: 'none',
      machine: 'M01',
      hourKey: '2026-11-20T10',
    });
    const third = await sweep(3);
    expect(third.changed).toEqual([changed, late].sort());
    expect(third.backfill).toMatchObject({ done: 2, failed: 0 });
    expect(await published(changed)).not.toBe(before);
    expect(await events(changed)).toBe(fixed.itemsLoaded);
    expect(await events(late)).toBe(truth.partitions[late]!.itemsLoaded);
    expect(third.stale).toContain(missing);
    expect(third.stale).not.toContain(late);
    const open = await env.deps.warehouse.query(
      "SELECT partition_key FROM ops.alerts WHERE kind = 'freshness' AND resolved_at IS NULL AND partition_key = ANY($1)",
      [[late, missing]],
    );
    expect(open.rows.map((r: { partition_key: string }) => r.partition_key)).toEqual([missing]);
  });
});
