import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { createSensorActivities } from '../../activities/sensor.js';
import { writeMachineHourFile } from '../../infra/generator/machine-files.js';
import type { PartitionTruth } from '../../infra/generator/ground-truth.js';
import { LATENCY_BUCKETS } from '../../api/metrics/metrics.service.js';
import { backfillProgressQuery, pauseSignal } from '../../workflows/backfill-messages.js';
import { backfillWorkflow } from '../../workflows/backfill.workflow.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { PIPELINES } from '../../activities/registry/pipelines.js';
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

  it('answers 404 for an unknown dataset, 400/422 naming the partition for a bad one, 401 without a key', async () => {
    const unknown = await request(http)
      .get(partitionUrl('nope', partitionOf(GOOD)))
      .set(viewer());
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('dataset "nope"');
    for (const [bad, status] of [
      ['M07-2026-11-20', 400],
      [`M07@2026-11-20T10${'x'.repeat(60)}`, 400],
      ['M07@2026-02-30T10', 422],
    ] as const) {
      const res = await request(http).get(partitionUrl('production_events', bad)).set(viewer());
      expect(res.status).toBe(status);
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

  it('exposes machine yield, freshness, latency, quarantine, deliveries and backfills equal to the catalog', async () => {
    const db = env.deps.warehouse;
    const lab = PIPELINES.find((p) => p.partitioning.kind === 'day')!;
    // Rows another flow would have published: quarantined rows of both quarantine tables and alert deliveries.
    await db.query(
      `INSERT INTO factory.quarantined_rows (partition_hour, machine_id, line_no, reason, detail, raw, source_sha256)
       SELECT '2026-11-04T14:00:00Z', 'M05', n, CASE WHEN n <= 2 THEN 'bad_number' ELSE 'duplicate' END, 'x', 'raw', 'sha'
       FROM generate_series(1, 5) n`,
    );
    await db.query(
      `INSERT INTO ops.quarantined_rows (pipeline, partition_key, line_no, reason, detail, raw, source_sha256)
       SELECT $1, '2026-11-04', n, 'not_allowed', 'x', 'raw', 'sha' FROM generate_series(1, 3) n`,
      [lab.id],
    );
    await db.query(
      `INSERT INTO ops.alert_deliveries (channel, group_key, event, sequence, idempotency_key, alert_ids, status)
       VALUES ('ops-webhook', 'g1', 'firing', 1, $1, '{1}', 'delivered'), ('ops-webhook', 'g1', 'resolved', 1, $2, '{1}', 'failed'),
              ('ops-webhook', 'g2', 'firing', 1, $3, '{1}', 'failed')`,
      [`k1-${env.id}`, `k2-${env.id}`, `k3-${env.id}`],
    );
    // A running backfill, paused before it starts any partition (the signal arrives with the start).
    const backfillId = `bf-metrics-${env.id}`;
    const backfill = await env.client.workflow.signalWithStart(backfillWorkflow, {
      workflowId: backfillId,
      taskQueue: env.taskQueue,
      args: [
        {
          backfillId,
          spec,
          from: '2026-11-05T06',
          to: '2026-11-05T07',
          entities: ['M01', 'M02'],
          mode: 'all',
          maxConcurrency: 1,
        },
      ],
      signal: pauseSignal,
      signalArgs: [],
    });
    try {
      const backfillSeries = (state: string) =>
        `fabrica_backfill_partitions{backfill_id="${backfillId}",state="${state}"}`;
      let text = '';
      let before = 0;
      let after = 0;
      // Visibility lists a new workflow shortly after its start: scrape until the backfill shows (bounded).
      for (let attempt = 0; attempt < 100 && sample(text, backfillSeries('remaining')) === undefined; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 200));
        before = Date.now() / 1000;
        const res = await request(http).get('/api/v1/metrics');
        after = Date.now() / 1000;
        expect(res.status).toBe(200);
        text = res.text;
      }
      const progress = await backfill.query(backfillProgressQuery);
      expect(progress).toMatchObject({ total: 4, done: 0, running: 0, remaining: 4 });
      for (const state of ['done', 'failed', 'skipped', 'running', 'remaining'] as const)
        expect(sample(text, backfillSeries(state))).toBe(progress[state]);
      expect(sample(text, 'fabrica_backfill_progress_scrape_ok')).toBe(1);

      // Per machine: the latest published hour of the yield mart; 0 for machines without one.
      const marts = await db.query<{ m: string; y: number; s: number; d: number; t: number }>(
        `SELECT DISTINCT ON (machine_id) machine_id AS m, ok::float8 / items AS y, scrap AS s,
           downtime_minutes * 60 AS d, extract(epoch FROM partition_hour)::float8 AS t
         FROM factory.machine_yield_hourly ORDER BY machine_id, partition_hour DESC`,
      );
      expect(marts.rows.map((r) => r.m)).toEqual([GOOD.machine]);
      const m = marts.rows[0]!;
      const machine = (name: string, id: string) => sample(text, `${name}{machine="${id}"}`);
      expect(machine('fabrica_machine_yield_ratio', 'M03')).toBeCloseTo(m.y, 12);
      expect(machine('fabrica_machine_scrap_units', 'M03')).toBe(m.s);
      expect(machine('fabrica_machine_downtime_seconds', 'M03')).toBeCloseTo(m.d, 9);
      expect(machine('fabrica_machine_last_hour_timestamp_seconds', 'M03')).toBe(m.t);
      for (const name of ['yield_ratio', 'scrap_units', 'downtime_seconds', 'last_hour_timestamp_seconds'])
        expect(machine(`fabrica_machine_${name}`, 'M15')).toBe(0);

      // Freshness: the end of the last published hour of M03 (its start + 1 h in a zone without DST).
      const fresh = (name: string, pipeline: string, entity: string) =>
        sample(text, `fabrica_freshness_${name}{pipeline="${pipeline}",entity="${entity}"}`);
      const end = m.t + 3600;
      expect(fresh('last_published_timestamp_seconds', spec.id, 'M03')).toBe(end);
      const lag = fresh('lag_seconds', spec.id, 'M03')!;
      expect(lag).toBeGreaterThanOrEqual(before - end - 0.001);
      expect(lag).toBeLessThanOrEqual(after - end + 0.001);
      // Never published: last publication 0, lag counted from the epoch.
      expect(fresh('last_published_timestamp_seconds', spec.id, 'M01')).toBe(0);
      expect(fresh('lag_seconds', spec.id, 'M01')).toBeGreaterThanOrEqual(before - 0.001);
      expect(fresh('last_published_timestamp_seconds', lab.id, '')).toBe(0);

      // Landing → published: one publication (the good run), from its file's landing to its load.
      const latencies = await db.query<{ s: number }>(
        `SELECT extract(epoch FROM max(l.loaded_at) - min(f.first_seen_at))::float8 AS s
         FROM ops.load_ledger l JOIN ops.runs r USING (run_id)
         JOIN ops.landed_files f ON f.pipeline = r.pipeline AND f.object_key = r.source_key GROUP BY l.run_id`,
      );
      expect(latencies.rows).toHaveLength(1);
      const seconds = latencies.rows[0]!.s;
      expect(seconds).toBeGreaterThan(0);
      const hist = (suffix: string, pipeline: string, le?: string) =>
        sample(
          text,
          `fabrica_landing_to_published_seconds_${suffix}{${le === undefined ? '' : `le="${le}",`}pipeline="${pipeline}"}`,
        );
      expect(hist('count', spec.id)).toBe(1);
      expect(hist('sum', spec.id)).toBeCloseTo(seconds, 3);
      for (const le of LATENCY_BUCKETS) expect(hist('bucket', spec.id, String(le))).toBe(seconds <= le ? 1 : 0);
      expect(hist('bucket', spec.id, '+Inf')).toBe(1);
      expect(hist('count', lab.id)).toBe(0);
      expect(text).toMatch(/^# TYPE fabrica_landing_to_published_seconds histogram$/m);

      // Quarantined rows by pipeline and reason, from both quarantine tables.
      const quarantined = await db.query<{ p: string; r: string; n: number }>(
        `SELECT $1::text AS p, reason AS r, count(*)::int AS n FROM factory.quarantined_rows GROUP BY 2
         UNION ALL SELECT pipeline, reason, count(*)::int FROM ops.quarantined_rows GROUP BY 1, 2`,
        [spec.id],
      );
      expect(quarantined.rows.length).toBeGreaterThanOrEqual(3);
      for (const q of quarantined.rows)
        expect(sample(text, `fabrica_quarantined_rows{pipeline="${q.p}",reason="${q.r}"}`)).toBe(q.n);

      // Alert deliveries by channel and status, every status of a known channel present.
      const deliveries = await db.query<{ c: string; s: string; n: number }>(
        `SELECT c.channel AS c, st AS s, count(d.id)::int AS n
         FROM (SELECT DISTINCT channel FROM ops.alert_deliveries) c
         CROSS JOIN unnest(ARRAY['pending', 'delivered', 'failed', 'silenced']) st
         LEFT JOIN ops.alert_deliveries d ON d.channel = c.channel AND d.status = st GROUP BY 1, 2`,
      );
      expect(deliveries.rows).toContainEqual({ c: 'ops-webhook', s: 'failed', n: 2 });
      for (const d of deliveries.rows)
        expect(sample(text, `fabrica_alert_deliveries{channel="${d.c}",status="${d.s}"}`)).toBe(d.n);
    } finally {
      await backfill.terminate('test done');
    }
  });

  it('still serves the catalog metrics when Temporal is unreachable, with the backfill scrape marked failed', async () => {
    const down = await createTestApi(env, { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    try {
      const res = await request(down.app.getHttpServer()).get('/api/v1/metrics');
      expect(res.status).toBe(200);
      expect(sample(res.text, 'fabrica_backfill_progress_scrape_ok')).toBe(0);
      expect(res.text).not.toContain('fabrica_backfill_partitions{');
      expect(sample(res.text, `fabrica_pipeline_runs{pipeline="${spec.id}",status="succeeded"}`)).toBe(1);
    } finally {
      await down.close();
    }
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
