import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import { generateMachineFiles } from '../../infra/generator/machine-files.js';
import { freePort } from '../../infra/services/ports.js';
import type { ManagedProcess } from '../../infra/services/process.js';
import { startTemporalDevServer } from '../../infra/services/temporal.js';
import { schedulesOf } from '../../worker/schedules.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { testServices } from '../support/services.js';

/** The pipeline's schedules on a real dev server. */
describe('schedules', () => {
  let env: FabricaTestEnv;
  beforeAll(async () => {
    env = await createTestEnv('schedules');
    await generateMachineFiles({
      outDir: env.landingDir,
      from: '2026-09-14',
      to: '2026-09-14',
      machines: 3,
      seed: 9,
      itemsPerFile: 10,
      defects: 'none',
    });
    await env.startWorker();
  });
  afterAll(() => env.close());

  /** The spec's hourly schedule, bound to this env (own id, task queue, workflow id), created paused. */
  async function hourly(): Promise<ReturnType<Client['schedule']['getHandle']>> {
    const options = schedulesOf(
      { ...spec, partitioning: { ...spec.partitioning, entities: ['M01', 'M02', 'M03'] } },
      env.taskQueue,
    )[0]!;
    const scoped: ScheduleOptions = {
      ...options,
      scheduleId: `${options.scheduleId}:${env.id}`,
      action: { ...options.action, workflowId: `scheduled:${env.id}` },
      state: { paused: true },
    };
    return env.client.schedule.create(scoped);
  }

  it('takes partition keys from the scheduled time, not the wall clock', async () => {
    const handle = await hourly();
    // Replay three firings of a past Monday: 10:07, 11:07 and 12:07 plant time process hours 09, 10 and 11.
    await handle.backfill({
      start: new Date('2026-09-14T13:06:00Z'),
      end: new Date('2026-09-14T15:08:00Z'),
      overlap: ScheduleOverlapPolicy.ALLOW_ALL,
    });
    const deadline = Date.now() + 120_000;
    let loaded: string[] = [];
    while (loaded.length < 9 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const res = await env.deps.warehouse.query<{ partition_key: string }>(
        "SELECT partition_key FROM ops.partition_state WHERE dataset = 'production_events' ORDER BY 1",
      );
      loaded = res.rows.map((r) => r.partition_key);
    }
    expect(loaded).toEqual(
      ['M01', 'M02', 'M03'].flatMap((m) => ['09', '10', '11'].map((h) => `${m}@2026-09-14T${h}`)).sort(),
    );
    const d = await handle.describe();
    expect(d.info.recentActions.map((a) => a.scheduledAt.toISOString()).sort()).toEqual([
      '2026-09-14T13:07:00.000Z',
      '2026-09-14T14:07:00.000Z',
      '2026-09-14T15:07:00.000Z',
    ]);
    await handle.delete();
  });

  it('honours the overlap policy (BUFFER_ONE): one running, one buffered, the rest skipped', async () => {
    const options = schedulesOf(spec, `nobody-${env.id}`)[0]!;
    const handle = await env.client.schedule.create({
      ...options,
      scheduleId: `overlap:${env.id}`,
      action: { ...options.action, workflowId: `overlap:${env.id}` },
      state: { paused: true },
    });
    // Three past firings replayed with the schedule's own policy; nothing polls the queue, so the first never ends.
    await handle.backfill({ start: new Date('2026-09-15T13:06:00Z'), end: new Date('2026-09-15T15:08:00Z') });
    let d = await handle.describe();
    for (let i = 0; i < 20 && d.info.numActionsSkippedOverlap < 1; i++) {
      await new Promise((r) => setTimeout(r, 500));
      d = await handle.describe();
    }
    expect(d.policies.overlap).toBe(ScheduleOverlapPolicy.BUFFER_ONE);
    expect(d.info.numActionsTaken).toBe(1);
    expect(d.info.numActionsSkippedOverlap).toBe(1);
    expect(d.info.runningActions).toHaveLength(1);
    for (const a of d.info.runningActions)
      await env.client.workflow.getHandle(a.workflow.workflowId).terminate('test over');
    await handle.delete();
  });
});

/** Missed firings are taken when the server comes back, within the catch-up window (own dev server, restarted). */
describe('schedule catch-up after an outage', () => {
  let dir: string;
  let server: ManagedProcess | undefined;
  const boot = async (port: number) =>
    (server = await startTemporalDevServer({
      binary: testServices().temporal.binary,
      port,
      dbFile: path.join(dir, 't.db'),
      logFile: path.join(dir, 't.log'),
    }));

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fabrica-catchup-'));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the firings it missed while the server was down', async () => {
    const port = await freePort();
    await boot(port);
    let connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    await new Client({ connection }).schedule.create({
      scheduleId: 'every-5s',
      spec: { intervals: [{ every: '5s' }] },
      // Nothing polls this queue: each firing just starts a workflow, which is all this test looks at.
      action: { type: 'startWorkflow', workflowType: 'probe', taskQueue: 'nobody', workflowId: 'probe', args: [] },
      policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: '5 minutes' },
    });
    await new Promise((r) => setTimeout(r, 6000));
    await connection.close();
    await server!.stop();
    const downFrom = Date.now();
    await new Promise((r) => setTimeout(r, 16_000));
    const downTo = Date.now();
    await boot(port);
    connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    const handle = new Client({ connection }).schedule.getHandle('every-5s');
    let caughtUp: Date[] = [];
    const deadline = Date.now() + 60_000;
    while (caughtUp.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      const d = await handle.describe();
      caughtUp = d.info.recentActions
        .filter((a) => a.scheduledAt.getTime() > downFrom && a.scheduledAt.getTime() < downTo)
        .map((a) => a.takenAt);
    }
    expect(caughtUp.length).toBeGreaterThanOrEqual(2);
    for (const taken of caughtUp) expect(taken.getTime()).toBeGreaterThanOrEqual(downTo);
    await handle.delete();
    await connection.close();
  });
});
