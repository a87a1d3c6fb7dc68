import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { createSensorActivities } from '../../activities/sensor.js';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import type { PartitionTruth } from '../../infra/generator/ground-truth.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';

const GOOD = { machine: 'M03', hourKey: '2026-11-04T09' };
const BAD = { machine: 'M04', hourKey: '2026-11-04T10' };
const partitionOf = (p: { machine: string; hourKey: string }) => `${p.machine}@${p.hourKey}`;

/** The value of one Prometheus series (`name{labels}`) in a text exposition, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Lineage, quality and metrics endpoints over partitions really loaded (and failed) by the worker. */
describe('dataset partitions and metrics', () => {
  let env: FabricaTestEnv;
  let api: TestApi;
  let http: App;
  let good: PartitionTruth;
  const runIds: Record<'good' | 'bad', string> = { good: '', bad: '' };
  const viewer = () => ({ 'X-API-Key': api.keys.viewer });
  const partitionUrl = (dataset: string, partition: string) =>
    `/api/v1/datasets/${dataset}/partitions/${encodeURIComponent(partition)}`;

  async function run(p: { machine: string; hourKey: string }): Promise<string> {
    const handle = await env.client.workflow.start(pipelineRunWorkflow, {
      workflowId: `${runWorkflowId(spec.id, partitionOf(p))}:${env.id}`,
      taskQueue: env.taskQueue,
      args: [{ spec, partition: partitionOf(p), runKind: 'manual' }],
    });
    await handle.result().catch(() => undefined);
    return handle.firstExecutionRunId;
  }

  beforeAll(async () => {
    env = await createTestEnv('datasets');
    const files = { outDir: env.landingDir, seed: 7, machines: 5, itemsPerFile: 300, defects: 'none' as const };
    ({ truth: good } = await writeMachineHourFile({ ...files, ...GOOD }));
    await writeMachineHourFile({ ...files, ...BAD, defect: 'quality_threshold' });
    // What the landing sensor does on each scan: record the landed files (and their partitions) in the catalog.
    expect(await createSensorActivities(env.deps).scanLanding({ spec })).toHaveLength(2);
    await env.startWorker();
    runIds.good = await run(GOOD);
    runIds.bad = await run(BAD);
    api = await createTestApi(env);
    http = api.app.getHttpServer();
  });
  afterAll(async () => {
    await api.close();
    await env.close();
  });

  it('tells what happened to a loaded partition: published content, loads, runs, lineage, quality, files', async () => {
    const res = await request(http)
      .get(partitionUrl('production_events', partitionOf(GOOD)))
      .set(viewer());
    expect(res.status).toBe(200);
    const v = res.body;
    expect(v).toMatchObject({ dataset: 'production_events', partition: 'M03@2026-11-04T09', pipelines: [spec.id] });
    expect(v.published).toMatchObject({ rows: good.itemsLoaded, runId: runIds.good });
    expect(v.published.contentSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(v.loads).toEqual([v.published]);
    expect(v.runs).toHaveLength(1);
    expect(v.runs[0]).toMatchObject({ runId: runIds.good, status: 'succeeded', failure: null, runKind: 'manual' });
    expect(v.runs[0].contentSha256).toBe(v.published.contentSha256);
    expect(v.runs[0].links.temporalUi).toContain(runIds.good);
    const steps = new Set(v.lineage.map((e: { step: string }) => e.step));
    for (const step of ['ingest', 'stage', 'transform', 'load']) expect(steps).toContain(step);
    expect(v.lineage.every((e: { runId: string }) => e.runId === runIds.good)).toBe(true);
    expect(v.lineage.map((e: { output: string }) => e.output)).toContain(
      `postgres://warehouse/factory.production_events?partition=${encodeURIComponent('M03@2026-11-04T09')}`,
    );
    expect(v.quality.runId).toBe(runIds.good);
    expect(v.quality.checks).toContainEqual(expect.objectContaining({ check: 'bad_row_ratio', passed: true }));
    expect(v.landedFiles).toHaveLength(1);
    expect(v.landedFiles[0]).toMatchObject({ objectKey: good.files[0], state: 'complete', pipeline: spec.id });

    const mart = await request(http)
      .get(partitionUrl('machine_yield_hourly', partitionOf(GOOD)))
      .set(viewer());
    expect(mart.body.published).toMatchObject({ rows: 1, contentSha256: v.published.contentSha256 });
  });

  it('tells why a partition failed, with nothing published', async () => {
    const res = await request(http)
      .get(partitionUrl('production_events', partitionOf(BAD)))
      .set(viewer());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ published: null, loads: [] });
    expect(res.body.runs).toHaveLength(1);
    expect(res.body.runs[0]).toMatchObject({ runId: runIds.bad, status: 'failed' });
    expect(res.body.runs[0].failure.type).toBe('DataQualityThresholdExceeded');
    expect(res.body.runs[0].failure.message).toContain('M04_20261104T10.txt');
    expect(res.body.quality.runId).toBe(runIds.bad);
    expect(res.body.quality.checks).toContainEqual(expect.objectContaining({ check: 'bad_row_ratio', passed: false }));
    expect(res.body.landedFiles).toHaveLength(1);
  });

  it('answers an empty history for a partition nothing happened to', async () => {
    const res = await request(http).get(partitionUrl('production_events', 'M09@2026-11-04T11')).set(viewer());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      published: null,
      loads: [],
      runs: [],
      lineage: [],
      quality: null,
      landedFiles: [],
    });
  });

  it('answers 404 for an unknown dataset, 400 naming the partition for a bad one, 401 without a key', async () => {
    const unknown = await request(http)
      .get(partitionUrl('nope', partitionOf(GOOD)))
      .set(viewer());
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('dataset "nope"');
    for (const bad of ['M07-2026-11-20', 'M07@2026-02-30T10', `M07@2026-11-20T10${'x'.repeat(60)}`]) {
      const res = await request(http).get(partitionUrl('production_events', bad)).set(viewer());
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toContain('partition');
    }
    expect((await request(http).get(partitionUrl('production_events', partitionOf(GOOD)))).status).toBe(401);
  });

  it('exposes pipeline metrics from the catalog in the Prometheus text format, without a key', async () => {
    const res = await request(http).get('/api/v1/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const runs = (status: string) =>
      sample(res.text, `fabrica_pipeline_runs{pipeline="${spec.id}",status="${status}"}`);
    expect([runs('succeeded'), runs('failed'), runs('running'), runs('unchanged')]).toEqual([1, 1, 0, 0]);
    expect(sample(res.text, 'fabrica_alerts_open{kind="run_failed"}')).toBe(1);
    expect(sample(res.text, 'fabrica_alerts_open{kind="freshness"}')).toBe(0);
    expect(sample(res.text, 'fabrica_dataset_rows{dataset="production_events"}')).toBe(good.itemsLoaded);
    expect(sample(res.text, 'fabrica_dataset_rows{dataset="machine_yield_hourly"}')).toBe(1);
    for (const dataset of spec.load.datasets)
      expect(sample(res.text, `fabrica_dataset_partitions_published{dataset="${dataset}"}`)).toBe(1);
    const loaded = await env.deps.warehouse.query<{ t: string }>(
      'SELECT floor(extract(epoch FROM max(loaded_at))) AS t FROM ops.load_ledger',
    );
    expect(sample(res.text, `fabrica_pipeline_last_load_timestamp_seconds{pipeline="${spec.id}"}`)).toBe(
      Number(loaded.rows[0]!.t),
    );
  });

  it('counts HTTP requests by method, route template and status, with their latency', async () => {
    const route = '/api/v1/datasets/:name/partitions/:partition';
    const series = (status: number) => `{method="GET",route="${route}",status="${status}"}`;
    const before = (await request(http).get('/api/v1/metrics')).text;
    for (const p of ['M01@2026-11-04T06', 'M02@2026-11-04T07', 'M03@2026-11-04T08'])
      expect((await request(http).get(partitionUrl('production_events', p)).set(viewer())).status).toBe(200);
    await request(http).get(partitionUrl('production_events', 'M01@2026-11-04T06'));
    await request(http).get('/api/v1/no-such-route').set(viewer());
    const after = (await request(http).get('/api/v1/metrics')).text;
    const delta = (name: string, status: number) =>
      (sample(after, `${name}${series(status)}`) ?? 0) - (sample(before, `${name}${series(status)}`) ?? 0);
    expect(delta('fabrica_http_requests_total', 200)).toBe(3);
    expect(delta('fabrica_http_request_duration_seconds_count', 200)).toBe(3);
    expect(delta('fabrica_http_requests_total', 401)).toBe(1);
    expect(sample(after, 'fabrica_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(sample(after, 'fabrica_http_requests_total{method="GET",route="/api/v1/metrics",status="200"}')).toBe(
      (sample(before, 'fabrica_http_requests_total{method="GET",route="/api/v1/metrics",status="200"}') ?? 0) + 1,
    );
    expect(after).toContain(`fabrica_http_request_duration_seconds_bucket{le="0.005",method="GET",route="${route}"`);
  });

  it('asks for a viewer key on /metrics when FABRICA_METRICS_PUBLIC=false', async () => {
    const closed = await createTestApi(env, { FABRICA_METRICS_PUBLIC: 'false' });
    try {
      const server = closed.app.getHttpServer() as App;
      expect((await request(server).get('/api/v1/metrics')).status).toBe(401);
      const ok = await request(server).get('/api/v1/metrics').set('X-API-Key', closed.keys.viewer);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('fabrica_pipeline_runs{');
    } finally {
      await closed.close();
    }
  });
});
