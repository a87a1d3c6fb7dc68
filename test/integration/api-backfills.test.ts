import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { generateMachineFiles } from '../../infra/generator/machine-files.js';
import { syncSchedules } from '../../worker/schedules.js';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { runCli, type CliResult } from '../support/cli-process.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { testServices } from '../support/services.js';

/** Backfill and schedule endpoints against the real stack. */
describe('REST API: backfills and schedules', () => {
  let env: FabricaTestEnv;
  let api: TestApi;
  let http: App;
  const as = (role: keyof TestApi['keys']) => ({ 'X-API-Key': api.keys[role] });
  const post = (url: string, role: keyof TestApi['keys'], body: object = {}) =>
    request(http).post(`/api/v1${url}`).set(as(role)).send(body);

  beforeAll(async () => {
    env = await createTestEnv('apibf');
    await generateMachineFiles({
      outDir: env.landingDir,
      from: '2026-09-28',
      to: '2026-09-28',
      machines: 2,
      seed: 4,
      itemsPerFile: 10,
      defects: 'none',
    });
    rmSync(path.join(env.landingDir, 'ground-truth.json'));
    await env.startWorker();
    api = await createTestApi(env);
    http = api.app.getHttpServer();
  });
  afterAll(async () => {
    await api.close();
    await env.close();
  });

  // 400: not as the OpenAPI document describes; 422: well-formed, but the values cannot be used.
  it.each([
    [{ from: '2026-09-28T06' }, 'to', 400],
    [{ from: '2026-09-28T18', to: '2026-09-28T06' }, 'to', 422],
    [{ from: '2026-02-30T06', to: '2026-03-01T06' }, 'from', 422],
    [{ from: '2024-01-01T06', to: '2026-09-28T06' }, 'to', 422],
    [{ from: '2026-09-28T06', to: '2026-09-28T17', machines: ['M99'] }, 'machines', 422],
    [{ from: '2026-09-28T06', to: '2026-09-28T17', mode: 'sometimes' }, 'mode', 400],
    [{ from: '2026-09-28T06', to: '2026-09-28T17', maxConcurrency: 0 }, 'maxConcurrency', 400],
    [{ from: "2026-09-28T06'; DROP TABLE ops.runs;--", to: '2026-09-28T17' }, 'from', 400],
  ])('answers %j naming the field %s with %d', async (body, field, status) => {
    const res = await post('/pipelines/factory-machine-signals/backfills', 'operator', body);
    expect(res.status).toBe(status);
    expect(JSON.stringify(res.body.message)).toContain(field);
  });

  it('runs a backfill once for duplicate POSTs, reports progress, and refuses to pause it once finished', async () => {
    const body = { from: '2026-09-28T06', to: '2026-09-28T17', machines: ['M02', 'M01'], maxConcurrency: 3 };
    const [a, b] = await Promise.all([
      post('/pipelines/factory-machine-signals/backfills', 'operator', body),
      post('/pipelines/factory-machine-signals/backfills', 'operator', body),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.backfillId).toBe(b.body.backfillId);
    expect(a.body).toMatchObject({ pipeline: 'factory-machine-signals', machines: ['M01', 'M02'], mode: 'all' });
    await env.client.workflow.getHandle(a.body.backfillId).result();
    const done = await request(http).get(`/api/v1/backfills/${a.body.backfillId}`).set(as('viewer'));
    expect(done.body).toMatchObject({
      status: 'completed',
      progress: { total: 24, done: 24, failed: 0, remaining: 0 },
    });
    expect((await post(`/backfills/${a.body.backfillId}/pause`, 'operator')).status).toBe(409);
    expect((await post(`/backfills/${a.body.backfillId}/pause`, 'viewer')).status).toBe(403);
    expect((await request(http).get('/api/v1/backfills/bf-nope').set(as('viewer'))).status).toBe(404);
    const retry = await post(`/backfills/${a.body.backfillId}/retry-failed`, 'operator');
    expect(retry.status).toBe(202);
    expect(retry.body.mode).toBe('failed');
  });

  it('lists what a dry run would do', async () => {
    const res = await post('/pipelines/factory-machine-signals/backfills', 'operator', {
      from: '2026-09-28T06',
      to: '2026-09-28T07',
      machines: ['M01'],
      mode: 'dry-run',
    });
    expect(res.status).toBe(202);
    await env.client.workflow.getHandle(res.body.backfillId).result();
    const got = await request(http).get(`/api/v1/backfills/${res.body.backfillId}`).set(as('viewer'));
    expect(got.body).toMatchObject({
      dryRun: true,
      progress: { done: 0, dryRun: { count: 2, partitions: ['M01@2026-09-28T06', 'M01@2026-09-28T07'] } },
    });
  });

  /** Runs the built `fabrica` CLI against the API, listening on a loopback port. */
  async function cli(args: string[], key: string): Promise<CliResult> {
    if (!api.app.getHttpServer().listening) await api.app.listen(0, '127.0.0.1');
    const { port } = api.app.getHttpServer().address() as AddressInfo;
    return runCli(args, { ...process.env, FABRICA_API_URL: `http://127.0.0.1:${port}`, FABRICA_API_KEY: key });
  }

  it('drives a backfill to completion from the CLI', async () => {
    const started = await cli(
      [
        'backfills',
        'start',
        'factory-machine-signals',
        '--from',
        '2026-09-28T12',
        '--to',
        '2026-09-28T17',
        '--machines',
        'M01',
        '--max-concurrency',
        '2',
        '--json',
      ],
      api.keys.operator,
    );
    expect(started.code).toBe(0);
    const { backfillId } = JSON.parse(started.stdout) as { backfillId: string };
    const watched = await cli(['backfills', 'watch', backfillId, '--interval-ms', '200'], api.keys.viewer);
    expect(watched).toMatchObject({ code: 0 });
    const final = JSON.parse((await cli(['backfills', 'get', backfillId, '--json'], api.keys.viewer)).stdout) as {
      progress: { done: number; total: number };
    };
    expect(final.progress).toMatchObject({ done: 6, total: 6 });
  });

  it('shows the schedules and lets only admins pause, resume and trigger them', async () => {
    const connection = await Connection.connect({ address: testServices().temporalAddress });
    const ids = await syncSchedules(connection, { namespace: 'default', taskQueue: `nobody-${env.id}` });
    try {
      await post('/schedules/hourly:factory-machine-signals/pause', 'admin');
      const list = await request(http).get('/api/v1/schedules').set(as('viewer'));
      expect(list.body.map((s: { scheduleId: string }) => s.scheduleId).sort()).toEqual([
        'daily:quality-lab-inspections',
        'hourly:factory-machine-signals',
        'sweep:factory-machine-signals',
        'sweep:quality-lab-inspections',
      ]);
      expect((await post('/schedules/hourly:factory-machine-signals/pause', 'operator')).status).toBe(403);
      const resumed = await post('/schedules/hourly:factory-machine-signals/resume', 'admin');
      expect(resumed.body).toMatchObject({ paused: false, note: expect.stringContaining('test-admin') });
      const paused = await post('/schedules/hourly:factory-machine-signals/pause', 'admin');
      expect({ status: paused.status, paused: paused.body.paused }).toEqual({ status: 202, paused: true });
      expect((await post('/schedules/nope/trigger', 'admin')).status).toBe(404);
      const viaCli = await cli(['schedules', 'resume', 'sweep:factory-machine-signals'], api.keys.admin);
      expect(viaCli.code).toBe(0);
      expect(viaCli.stdout).toContain('sweep:factory-machine-signals  active');
      expect((await cli(['schedules', 'pause', 'sweep:factory-machine-signals'], api.keys.operator)).code).toBe(1);
      // Syncing again (a worker restart) keeps an operator's pause.
      await syncSchedules(connection, { namespace: 'default', taskQueue: `nobody-${env.id}` });
      expect(
        (await request(http).get('/api/v1/schedules/hourly:factory-machine-signals').set(as('viewer'))).body.paused,
      ).toBe(true);
    } finally {
      for (const id of ids) await env.client.schedule.getHandle(id).delete();
      await connection.close();
    }
  });
});
