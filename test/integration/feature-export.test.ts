import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { CatalogService } from '../../infra/demo/catalog-service.js';
import {
  dropRecordsDatabase,
  ensureRecordsDatabase,
  type RecordsDatabaseOptions,
} from '../../infra/demo/records-db.js';
import { sourceSyncWorkflow } from '../../workflows/source-sync.workflow.js';
import { getSource } from '../../workflows/sources/index.js';
import { sourceSyncStartOptions } from '../../workflows/sources/start-options.js';
import type { GroundTruth } from '../../infra/generator/ground-truth.js';
import { generateMachineFiles } from '../../infra/generator/machine-files.js';
import { backfillWorkflow } from '../../workflows/backfill.workflow.js';
import { featureExportWorkflow } from '../../workflows/feature-export.workflow.js';
import type { ExportManifest } from '../../workflows/features/export-messages.js';
import { machineMaintenanceDaily } from '../../workflows/features/machine-maintenance-daily.featureset.js';
import { productionEvents } from '../../workflows/features/production-events.featureset.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { duckRows, normalizeRow, openDuckDb } from '../support/duckdb.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { testServices } from '../support/services.js';

const MACHINES = ['M01', 'M02'];
const D1 = '2026-11-16';
const D2 = '2026-11-17';

type Row = Record<string, unknown>;

/** Feature exports on the real stack: files read back by DuckDB, manifests, point-in-time correctness, online vectors. */
describe('feature exports', () => {
  let env: FabricaTestEnv;
  let api: TestApi;
  let duck: Awaited<ReturnType<typeof openDuckDb>>;
  let truth: GroundTruth;

  let catalog: CatalogService;
  let records: RecordsDatabaseOptions;
  let recordsAdmin: pg.Client;

  beforeAll(async () => {
    // The systems we do not own: a records database (read through a read-only role) and the catalog API.
    const suffix = randomBytes(3).toString('hex');
    records = {
      adminUrl: testServices().databaseUrl,
      database: `records_features_${suffix}`,
      reader: { role: `reader_features_${suffix}`, password: 'reader-secret' },
    };
    const readerUrl = await ensureRecordsDatabase(records);
    const admin = new URL(testServices().databaseUrl);
    admin.pathname = `/${records.database}`;
    recordsAdmin = new pg.Client({ connectionString: admin.toString() });
    await recordsAdmin.connect();
    catalog = new CatalogService();
    const catalogUrl = await catalog.start();
    env = await createTestEnv('features', {
      sources: { RECORDS_DATABASE_URL: readerUrl, CATALOG_API_URL: catalogUrl },
    });
    // Two working days × 2 machines × 12 hours, loaded by a real backfill.
    truth = await generateMachineFiles({
      outDir: env.landingDir,
      from: D1,
      to: D2,
      machines: 2,
      seed: 11,
      itemsPerFile: 60,
      defects: 'none',
    });
    rmSync(path.join(env.landingDir, 'ground-truth.json'));
    await env.startWorker();
    const backfill = await env.client.workflow.execute(backfillWorkflow, {
      workflowId: `bf-features-${env.id}`,
      taskQueue: env.taskQueue,
      args: [
        {
          backfillId: 'features',
          spec,
          from: `${D1}T06`,
          to: `${D2}T17`,
          mode: 'all',
          maxConcurrency: 4,
          entities: MACHINES,
        },
      ],
    });
    expect(backfill.failed).toBe(0);
    api = await createTestApi(env);
    duck = await openDuckDb();
  });
  afterAll(async () => {
    duck?.close();
    await api?.close();
    await env.close();
    await recordsAdmin.end();
    await catalog.stop();
    await dropRecordsDatabase(records);
  });

  /** Runs one sync of a source through Temporal and checks it committed. */
  async function sync(sourceId: string): Promise<void> {
    const spec = getSource(sourceId)!;
    const outcome = await env.client.workflow.execute(
      sourceSyncWorkflow,
      sourceSyncStartOptions(spec, { taskQueue: env.taskQueue, workflowId: `sync-${sourceId}-${env.id}` }),
    );
    expect(outcome.status).toBe('committed');
  }

  const http = () => request(api.app.getHttpServer());
  const lakeFile = (key: string) => path.join(env.lakeDir, key);
  const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  /** Starts an export through the API and waits for it to finish; returns the final view. */
  async function exportViaApi(body: Record<string, unknown>): Promise<{ exportId: string; manifest: ExportManifest }> {
    const started = await http()
      .post('/api/v1/feature-exports')
      .set('X-API-Key', api.keys.operator)
      .send(body)
      .expect(202);
    const exportId = started.body.exportId as string;
    for (let i = 0; i < 300; i++) {
      const view = await http()
        .get(`/api/v1/feature-exports/${exportId}`)
        .set('X-API-Key', api.keys.viewer)
        .expect(200);
      if (view.body.status === 'succeeded') return { exportId, manifest: view.body.manifest as ExportManifest };
      if (view.body.status !== 'running') throw new Error(`export ${exportId} ended ${JSON.stringify(view.body)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`export ${exportId} did not finish`);
  }

  /** Checks every file of a manifest against the lake: it exists, its SHA-256 and row count are the manifest's. */
  async function checkFiles(manifest: ExportManifest, reader: 'read_parquet' | 'read_csv'): Promise<void> {
    let rows = 0;
    for (const f of manifest.files) {
      expect(sha256(lakeFile(f.key))).toBe(f.sha256);
      expect(readFileSync(lakeFile(f.key)).length).toBe(f.bytes);
      const [n] = await duckRows(duck.conn, `SELECT count(*) AS n FROM ${reader}('${lakeFile(f.key)}')`);
      expect(Number(n!.n)).toBe(f.rows);
      rows += f.rows;
    }
    expect(rows).toBe(manifest.rowCount);
  }

  const EVENT_COLS =
    'partition_hour, machine_id, item_seq, ts, sku, status, cycle_ms, temp_c, vibration_mm_s, operator, energy_wh';

  async function warehouseEvents(): Promise<Row[]> {
    const r = await env.deps.warehouse.query<Row>(
      `SELECT ${EVENT_COLS} FROM factory.production_events ORDER BY machine_id, partition_hour, item_seq`,
    );
    return r.rows.map((row) => normalizeRow({ ...row, item_seq: String(row.item_seq as string) }));
  }

  it('exports production events to Parquet that DuckDB reads back row for row, with a right manifest', async () => {
    const { exportId, manifest } = await exportViaApi({ featureSet: 'production-events', from: D1, to: D2 });
    const expected = await warehouseEvents();
    expect(expected.length).toBe(truth.totals.eventsLoaded);
    expect(manifest.rowCount).toBe(expected.length);
    expect(manifest.featureSet).toMatchObject({ id: 'production-events', version: productionEvents.version });
    expect(manifest.schema.map((c) => c.name)).toEqual(productionEvents.columns.map((c) => c.name));
    await checkFiles(manifest, 'read_parquet');
    const glob = lakeFile(`v1/exports/production-events/v1/${exportId}/*.parquet`);
    const types = await duckRows(
      duck.conn,
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${glob}'))`,
    );
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toMatchObject({
      partition_hour: 'TIMESTAMP WITH TIME ZONE',
      machine_id: 'VARCHAR',
      item_seq: 'BIGINT',
      cycle_ms: 'INTEGER',
      temp_c: 'DOUBLE',
      energy_wh: 'DOUBLE',
    });
    const got = await duckRows(
      duck.conn,
      `SELECT ${EVENT_COLS} FROM read_parquet('${glob}') ORDER BY machine_id, partition_hour, item_seq`,
    );
    expect(got).toEqual(expected);

    // Lineage: every partition of the range, with the run that loaded it.
    const lineage = readFileSync(lakeFile(`v1/exports/production-events/v1/${exportId}/lineage.jsonl`), 'utf8');
    expect(sha256(lakeFile(`v1/exports/production-events/v1/${exportId}/lineage.jsonl`))).toBe(manifest.lineage.sha256);
    const entries = lineage
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { partition: string; runId: string });
    expect(entries.length).toBe(48);
    expect(manifest.lineage.partitions).toBe(48);
    const runs = await env.deps.warehouse.query<{ run_id: string }>(
      `SELECT run_id FROM ops.partition_state WHERE dataset = 'production_events'`,
    );
    expect(new Set(entries.map((e) => e.runId))).toEqual(new Set(runs.rows.map((r) => r.run_id)));

    // A cut-off in the middle of the loads exports exactly the partitions published by then.
    const mid = await env.deps.warehouse.query<{ as_of: Date; n: string }>(
      `WITH first AS (SELECT partition_key, min(loaded_at) AS t FROM ops.load_ledger
                      WHERE dataset = 'production_events' GROUP BY partition_key),
            -- (to a whole millisecond, as an ISO instant in the request carries)
            cut AS (SELECT date_trunc('milliseconds', percentile_disc(0.5) WITHIN GROUP (ORDER BY t)) AS t FROM first)
       SELECT (SELECT t FROM cut) AS as_of, (
         SELECT count(*) FROM factory.production_events e JOIN first f
           ON f.partition_key = e.machine_id || '@' || to_char(e.partition_hour AT TIME ZONE INTERVAL '-03:00', 'YYYY-MM-DD"T"HH24')
         WHERE f.t <= (SELECT t FROM cut)) AS n`,
    );
    const half = await exportViaApi({
      featureSet: 'production-events',
      from: D1,
      to: D2,
      asOf: mid.rows[0]!.as_of.toISOString(),
    });
    expect(Number(mid.rows[0]!.n)).toBeGreaterThan(0);
    expect(Number(mid.rows[0]!.n)).toBeLessThan(expected.length);
    expect(half.manifest.rowCount).toBe(Number(mid.rows[0]!.n));

    // The same request again is the same export: same id, same manifest, same files.
    const again = await exportViaApi({ featureSet: 'production-events', from: D1, to: D2 });
    expect(again.exportId).toBe(exportId);
    expect(again.manifest).toEqual(manifest);
  });

  it('bounds file sizes, and writes CSV that DuckDB reads back row for row', async () => {
    const expected = await warehouseEvents();
    for (const format of ['parquet', 'csv'] as const) {
      const maxFileBytes = 64 * 1024;
      const manifest = await env.client.workflow.execute(featureExportWorkflow, {
        workflowId: `export-small-${format}-${env.id}`,
        taskQueue: env.taskQueue,
        args: [
          {
            exportId: `small-${format}-${env.id}`,
            spec: productionEvents,
            from: D1,
            to: D2,
            format,
            training: false,
            maxFileBytes,
          },
        ],
      });
      expect(manifest.files.length).toBeGreaterThan(2);
      await checkFiles(manifest, format === 'csv' ? 'read_csv' : 'read_parquet');
      // Every file but the last of its chunk passed the bound only by its last row group (Parquet) or row (CSV).
      for (const f of manifest.files) expect(f.bytes).toBeLessThan(maxFileBytes * 2);
      const files = manifest.files.map((f) => `'${lakeFile(f.key)}'`).join(', ');
      const reader = format === 'csv' ? `read_csv([${files}], header = true)` : `read_parquet([${files}])`;
      // CSV carries no types: the reader is told them, as a user of the manifest's schema would.
      const cols =
        format === 'csv'
          ? 'partition_hour::timestamptz AS partition_hour, machine_id, item_seq::bigint AS item_seq, ts::timestamptz AS ts, ' +
            'sku, status, cycle_ms::integer AS cycle_ms, temp_c::double AS temp_c, ' +
            'vibration_mm_s::double AS vibration_mm_s, operator, energy_wh::double AS energy_wh'
          : EVENT_COLS;
      const got = await duckRows(
        duck.conn,
        `SELECT ${cols} FROM ${reader} ORDER BY machine_id, partition_hour, item_seq`,
      );
      expect(got).toEqual(expected);
    }
  });

  describe('machine-maintenance-daily', () => {
    const FEATURES = machineMaintenanceDaily.columns.map((c) => c.name);

    /**
     * Writes maintenance records into the records system (inserted, or updated in place, with the `updated_at` the
     * records system would stamp) and syncs them into the warehouse through the watermark source.
     */
    async function maintenance(
      rows: { id: number; machine: string; kind: string; started: string; ended: string | null; updated: string }[],
    ) {
      for (const r of rows) {
        await recordsAdmin.query(
          `INSERT INTO public.maintenance_events (id, machine_id, kind, started_at, ended_at, notes, updated_at)
           VALUES ($1, $2, $3, $4, $5, 'teste', $6)
           ON CONFLICT (id) DO UPDATE SET machine_id = EXCLUDED.machine_id, kind = EXCLUDED.kind,
             started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, updated_at = EXCLUDED.updated_at`,
          [r.id, r.machine, r.kind, r.started, r.ended, r.updated],
        );
      }
      await sync('maintenance-events');
    }

    async function features(body: Record<string, unknown>): Promise<Row[]> {
      const { exportId, manifest } = await exportViaApi({
        featureSet: 'machine-maintenance-daily',
        from: D1,
        to: D2,
        ...body,
      });
      await checkFiles(manifest, 'read_parquet');
      // The manifest names the last maintenance sync committed by the cut-off (none before any sync).
      const last = await env.deps.warehouse.query<{ run_id: string }>(
        `SELECT run_id FROM ops.source_syncs WHERE source_id = 'maintenance-events' AND status = 'committed'
           AND finished_at <= $1 ORDER BY finished_at DESC LIMIT 1`,
        [manifest.asOf],
      );
      expect(manifest.lineage.sourceSyncs.map((x) => x.runId)).toEqual(last.rows.map((r) => r.run_id));
      if (manifest.rowCount === 0) return [];
      const glob = lakeFile(`v1/exports/machine-maintenance-daily/v1/${exportId}/*.parquet`);
      return duckRows(duck.conn, `SELECT * FROM read_parquet('${glob}') ORDER BY machine_id, feature_date`);
    }

    it('uses nothing known after D, and labels change only for training rows before a maintenance', async () => {
      await maintenance([
        // Known before D1: M01 serviced on 2026-11-10 08:00–10:00 (-03:00).
        {
          id: 1,
          machine: 'M01',
          kind: 'preventive',
          started: '2026-11-10T08:00:00-03:00',
          ended: '2026-11-10T10:00:00-03:00',
          updated: '2026-11-10T11:00:00-03:00',
        },
        // Known during D2: M01 serviced on D2 08:00–10:00.
        {
          id: 4,
          machine: 'M01',
          kind: 'preventive',
          started: `${D2}T08:00:00-03:00`,
          ended: `${D2}T10:00:00-03:00`,
          updated: `${D2}T10:30:00-03:00`,
        },
      ]);
      // (asOf a second ahead: loaded_at has microseconds, a JS instant only milliseconds.)
      const before = await features({ training: true, asOf: new Date(Date.now() + 1000).toISOString() });
      expect(before.map((r) => [r.machine_id, (r.feature_date as string).slice(0, 10)])).toEqual([
        ['M01', '2026-11-16T00:00:00.000Z'.slice(0, 10)],
        ['M01', D2],
        ['M02', D1],
        ['M02', D2],
      ]);
      const row = (rows: Row[], m: string, d: string) =>
        rows.find((r) => r.machine_id === m && (r.feature_date as string).startsWith(d))!;
      // Hours since the last maintenance known at the end of the day (D1 ends 2026-11-17T03:00Z).
      expect(row(before, 'M01', D1).hours_since_maintenance).toBeCloseTo(158, 6);
      expect(row(before, 'M01', D2).hours_since_maintenance).toBeCloseTo(14, 6);
      expect(row(before, 'M01', D1).maintenance_count_30d).toBe(1);
      expect(row(before, 'M01', D2).maintenance_count_30d).toBe(2);
      expect(row(before, 'M02', D1).hours_since_maintenance).toBeNull();
      // The label looks ahead: D2's maintenance starts within 7 days after the end of D1 only.
      expect(row(before, 'M01', D1).label_maintenance_next_7d).toBe(true);
      expect(row(before, 'M01', D2).label_maintenance_next_7d).toBe(false);
      expect(row(before, 'M02', D1).label_maintenance_next_7d).toBe(false);
      // Items come from the yield mart of that day.
      const items = await env.deps.warehouse.query<{ machine_id: string; day: string; items: string }>(
        `SELECT machine_id, to_char(partition_hour AT TIME ZONE INTERVAL '-03:00', 'YYYY-MM-DD') AS day, sum(items) AS items
         FROM factory.machine_yield_hourly GROUP BY 1, 2`,
      );
      for (const i of items.rows) expect(row(before, i.machine_id, i.day).items_1d).toBe(i.items);

      // After D2 the records system changes: a new corrective job on M01 the day after D2, a back-dated entry for
      // M02 during D1, and a correction of M01's first job — all written after the end of D2.
      await maintenance([
        {
          id: 2,
          machine: 'M01',
          kind: 'corrective',
          started: '2026-11-18T09:00:00-03:00',
          ended: '2026-11-18T12:00:00-03:00',
          updated: '2026-11-18T12:30:00-03:00',
        },
        {
          id: 3,
          machine: 'M02',
          kind: 'corrective',
          started: `${D1}T14:00:00-03:00`,
          ended: `${D1}T15:00:00-03:00`,
          updated: '2026-11-19T08:00:00-03:00',
        },
        {
          id: 1,
          machine: 'M01',
          kind: 'preventive',
          started: '2026-11-10T08:00:00-03:00',
          ended: '2026-11-10T12:00:00-03:00',
          updated: '2026-11-20T09:00:00-03:00',
        },
      ]);
      const after = await features({ training: true, asOf: new Date(Date.now() + 1000).toISOString() });
      expect(after.length).toBe(before.length);
      for (const a of after) {
        const b = row(before, a.machine_id as string, a.feature_date as string);
        for (const f of FEATURES)
          expect([a.machine_id, a.feature_date, f, a[f]]).toEqual([b.machine_id, b.feature_date, f, b[f]]);
      }
      // Only the training row before the new job changed its label.
      const changed = after.filter(
        (a) =>
          a.label_maintenance_next_7d !==
          row(before, a.machine_id as string, a.feature_date as string).label_maintenance_next_7d,
      );
      expect(changed.map((r) => [r.machine_id, r.label_maintenance_next_7d])).toEqual([['M01', true]]);
      expect((changed[0]!.feature_date as string).startsWith(D2)).toBe(true);

      // Inference exports carry no label; an asOf before anything was loaded exports nothing.
      const inference = await features({});
      expect(Object.keys(inference[0]!)).toEqual(FEATURES);
      expect(await features({ asOf: '2026-01-01T00:00:00Z' })).toEqual([]);

      // Online: the latest vector of M01 is its D2 row, as computed now.
      const online = await http()
        .get('/api/v1/features/machine-maintenance-daily/M01')
        .set('X-API-Key', api.keys.viewer)
        .expect(200);
      expect(online.body.featureDate).toBe(D2);
      const latest = row(after, 'M01', D2);
      for (const f of FEATURES.filter((x) => x !== 'feature_date')) {
        const v = latest[f];
        if (typeof v === 'number') expect(online.body.features[f]).toBeCloseTo(v, 9);
        else expect(String(online.body.features[f])).toBe(String(v));
      }
    });
  });

  it('enriches events and the yield mart with the synced catalog (cost of scrap per machine-hour)', async () => {
    await sync('product-catalog');
    const products = new Map(catalog.products().map((p) => [p.sku, p]));
    const events = await env.deps.warehouse.query<{ machine_id: string; hour: string; sku: string; status: string }>(
      `SELECT machine_id, partition_hour::text AS hour, sku, status FROM factory.production_events`,
    );
    // Expected, computed here from the raw events and the catalog service's own data.
    const expected = new Map<string, number>();
    for (const e of events.rows) {
      const key = `${e.machine_id} ${e.hour}`;
      if (!expected.has(key)) expected.set(key, 0);
      if (e.status === 'SCRAP') expected.set(key, expected.get(key)! + products.get(e.sku)!.unit_cost);
    }
    const mart = await env.deps.warehouse.query<{ machine_id: string; hour: string; scrap_cost: string | null }>(
      `SELECT machine_id, partition_hour::text AS hour, scrap_cost FROM factory.machine_yield_hourly_enriched`,
    );
    expect(mart.rows.length).toBe(48);
    expect([...expected.values()].some((v) => v > 0)).toBe(true);
    for (const r of mart.rows) expect(Number(r.scrap_cost)).toBeCloseTo(expected.get(`${r.machine_id} ${r.hour}`)!, 4);
    const named = await env.deps.warehouse.query<{ sku: string; product_name: string; product_category: string }>(
      `SELECT DISTINCT sku, product_name, product_category FROM factory.production_events_enriched`,
    );
    for (const r of named.rows) {
      expect([r.sku, r.product_name, r.product_category]).toEqual([
        r.sku,
        products.get(r.sku)!.name,
        products.get(r.sku)!.category,
      ]);
    }
  });

  it('starts one export for concurrent duplicate POSTs', async () => {
    const body = { featureSet: 'production-events', from: D1, to: D1, format: 'csv' };
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        http().post('/api/v1/feature-exports').set('X-API-Key', api.keys.operator).send(body),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(202));
    const ids = new Set(answers.map((a) => a.body.exportId as string));
    expect(ids.size).toBe(1);
    const [exportId] = [...ids];
    // (Visibility is eventually consistent: wait until the execution is listed, then count.)
    let executions: string[] = [];
    for (let i = 0; i < 50 && executions.length === 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      executions = [];
      for await (const w of env.client.workflow.list({ query: `WorkflowId = 'export:${exportId}'` })) {
        executions.push(w.runId);
      }
    }
    expect(executions.length).toBe(1);
  });

  it('rejects bad export requests with a 4xx naming the field', async () => {
    const post = async (body: Record<string, unknown>, key = api.keys.operator) => {
      const res = await http().post('/api/v1/feature-exports').set('X-API-Key', key).send(body);
      // Validation messages come as a list (one per field); domain checks as one string.
      return { status: res.status, body: { message: ([] as string[]).concat(res.body.message as string).join('; ') } };
    };
    const base = { featureSet: 'machine-maintenance-daily', from: D1, to: D2 };
    expect((await post({ ...base, featureSet: 'nope' })).body.message).toMatch(/featureSet/);
    expect((await post({ ...base, featureSet: 'nope' })).status).toBe(422);
    const inverted = await post({ ...base, from: D2, to: D1 });
    expect([inverted.status, inverted.body.message]).toEqual([422, expect.stringMatching(/^to /)]);
    const future = await post({ ...base, asOf: '2999-01-01T00:00:00Z' });
    expect([future.status, future.body.message]).toEqual([422, expect.stringMatching(/asOf/)]);
    const noLabel = await post({ ...base, featureSet: 'production-events', training: true });
    expect([noLabel.status, noLabel.body.message]).toEqual([422, expect.stringMatching(/training/)]);
    const badFormat = await post({ ...base, format: 'xlsx' });
    expect([badFormat.status, badFormat.body.message]).toEqual([400, expect.stringMatching(/format/)]);
    const notADay = await post({ ...base, from: '2026-02-30' });
    expect([notADay.status, notADay.body.message]).toEqual([422, expect.stringMatching(/from/)]);
    expect((await post(base, api.keys.viewer)).status).toBe(403);
    await http()
      .get('/api/v1/feature-exports/machine-maintenance-daily-v1-0000000000000000')
      .set('X-API-Key', api.keys.viewer)
      .expect(404);
    await http().get('/api/v1/features/machine-maintenance-daily/M99').set('X-API-Key', api.keys.viewer).expect(404);
    await http().get('/api/v1/features/nope/M01').set('X-API-Key', api.keys.viewer).expect(404);
    const sets = await http().get('/api/v1/feature-sets').set('X-API-Key', api.keys.viewer).expect(200);
    expect(sets.body.map((s: { id: string }) => s.id)).toEqual(['machine-maintenance-daily', 'production-events']);
  });
});
