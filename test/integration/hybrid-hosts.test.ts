import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import pg from 'pg';
import { ensureRecordsDatabase, insertMaintenanceEvents, maintenanceEventRows } from '../../infra/demo/records-db.js';
import { generateMachineFiles } from '../../infra/generator/machine-files.js';
import type { GroundTruth } from '../../infra/generator/ground-truth.js';
import { ensureBucket, startMinio } from '../../infra/services/minio.js';
import { freePort } from '../../infra/services/ports.js';
import { ensureDatabases, startEmbeddedPostgres } from '../../infra/services/postgres.js';
import type { ManagedProcess } from '../../infra/services/process.js';
import { startTemporalDevServer } from '../../infra/services/temporal.js';
import { ensureGoTool, MINIO } from '../../infra/services/tools.js';
import { runWorkflowId } from '../../workflows/ids.js';
import { pipelineRunWorkflow } from '../../workflows/pipeline-run.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { sourceSyncWorkflow } from '../../workflows/source-sync.workflow.js';
import { maintenanceEvents } from '../../workflows/sources/maintenance-events.source.js';
import { sourceSyncStartOptions } from '../../workflows/sources/start-options.js';
import type { FabricaTestEnv } from '../support/fabrica-env.js';
import { deliver, expectMatchesTruth, waitQuiet } from '../support/factory-checks.js';
import { canConnect, createHosts, forwardTcp, onHost, type Host } from '../support/netns.js';
import { testServices } from '../support/services.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

const PG = { user: 'fabrica', password: 'hybrid-secret' };
const S3 = { accessKeyId: 'hybrid', secretAccessKey: 'hybrid-secret-key' };
const BUCKET = 'plant-lake';

/**
 * The hybrid topology on separate hosts (network namespaces of this machine): the plant (edge worker, the machines'
 * landing folder, the inventory database, the records database) dials out only to Temporal and to S3 through a gateway; the cloud (two
 * cloud workers, the warehouse, MinIO) reaches Temporal; neither reaches the other's databases, and the cloud does
 * not see the plant's folder. A generated day loads exactly, a cloud worker killed mid-day loses nothing, and with the
 * edge worker offline the plant's files, the cloud's hand-offs and a records sync wait, then load and catch up exactly.
 */
describe('plant and cloud on separate hosts', () => {
  let net: ReturnType<typeof createHosts>;
  let plant: Host;
  let cloud: Host;
  let dir: string;
  let plantDir: string;
  let cloudDir: string;
  let landing: string;
  let genDir: string;
  let truth: GroundTruth;
  let temporalPort: number;
  let s3Gateway: number;
  const services: ManagedProcess[] = [];
  const workers: WorkerProcess[] = [];
  let gateway: net.Server;
  let warehouse: pg.Pool;
  let inventory: pg.Pool;
  let records: pg.Pool;
  let recordsReader: string;
  let connection: Connection;
  let client: Client;
  const taskQueue = `hybrid-${Date.now().toString(36)}`;
  let failed = false;

  /** Environment shared by every worker: nothing of this test process leaks in (no DATABASE_URL on the edge). */
  function base(role: string): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FABRICA_HOME: path.join(role === 'edge' ? plantDir : cloudDir, `home-${role}-${workers.length}`),
      FABRICA_TASK_QUEUE: taskQueue,
      FABRICA_WORKER_METRICS_PORT: '0',
      FABRICA_WORKER_HEALTH_PORT: '0',
      FABRICA_DEMO: 'false',
      ...(process.env.FABRICA_HYBRID_LOGS ? { FABRICA_LOG_LEVEL: 'debug' } : {}),
      S3_BUCKET: BUCKET,
      S3_PREFIX: 'lake',
      S3_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3.secretAccessKey,
    };
  }

  function startEdge(): WorkerProcess {
    const w = spawnWorker(
      {
        ...base('edge'),
        FABRICA_WORKER_ROLE: 'edge',
        TEMPORAL_ADDRESS: `${plant.gateway}:${temporalPort}`,
        S3_ENDPOINT: `http://${plant.gateway}:${s3Gateway}`,
        FABRICA_LANDING: landing,
        FABRICA_LANDING_RELAY: `s3://${BUCKET}/landing`,
        INVENTORY_DATABASE_URL: `postgres://${PG.user}:${PG.password}@${plant.ip}:5432/inventory`,
        RECORDS_DATABASE_URL: recordsReader,
      },
      (command, args) => onHost(plant, command, args, [cloudDir]),
    );
    workers.push(w);
    return w;
  }

  function startCloud(): WorkerProcess {
    const w = spawnWorker(
      {
        ...base('cloud'),
        FABRICA_WORKER_ROLE: 'cloud',
        TEMPORAL_ADDRESS: `${cloud.gateway}:${temporalPort}`,
        S3_ENDPOINT: `http://${cloud.ip}:9000`,
        FABRICA_LANDING: `s3://${BUCKET}/landing`,
        DATABASE_URL: `postgres://${PG.user}:${PG.password}@${cloud.ip}:5432/warehouse`,
        FABRICA_SENSOR: 'true',
        FABRICA_SENSOR_INTERVAL_SECONDS: '1',
        FABRICA_SCHEDULES: 'false',
      },
      (command, args) => onHost(cloud, command, args, [plantDir]),
    );
    workers.push(w);
    return w;
  }

  /** What the checks read: the warehouse (in the cloud) and the inventory (in the plant), both reachable from here. */
  const env = () => ({ deps: { warehouse, inventory }, landingDir: landing }) as unknown as FabricaTestEnv;

  beforeAll(async () => {
    net = createHosts(['plant', 'cloud']);
    plant = net.hosts.plant!;
    cloud = net.hosts.cloud!;
    dir = mkdtempSync(path.join(tmpdir(), 'fabrica-hybrid-'));
    plantDir = path.join(dir, 'plant');
    cloudDir = path.join(dir, 'cloud');
    landing = path.join(plantDir, 'landing');
    mkdirSync(landing, { recursive: true });
    mkdirSync(cloudDir, { recursive: true });
    // Temporal, reachable from both hosts at their gateway address.
    temporalPort = await freePort();
    services.push(
      await startTemporalDevServer({
        binary: testServices().temporal.binary,
        port: temporalPort,
        ip: '0.0.0.0',
        logFile: path.join(dir, 'temporal.log'),
      }),
    );
    // The cloud: the warehouse and MinIO; the plant: the inventory database.
    services.push(
      await startMinio({
        binary: await ensureGoTool(MINIO),
        dataDir: path.join(cloudDir, 'minio'),
        port: 9000,
        consolePort: 9001,
        ...S3,
        host: cloud.ip,
        netns: cloud.ns,
        logFile: path.join(dir, 'minio.log'),
      }),
    );
    for (const [host, db, data] of [
      [cloud, 'warehouse', path.join(cloudDir, 'pg')],
      [plant, 'inventory', path.join(plantDir, 'pg')],
    ] as const) {
      services.push(
        await startEmbeddedPostgres({
          dataDir: data,
          port: 5432,
          ...PG,
          host: host.ip,
          netns: host.ns,
          logFile: path.join(dir, `pg-${host.name}.log`),
        }),
      );
      await ensureDatabases(`postgres://${PG.user}:${PG.password}@${host.ip}:5432/postgres`, [db]);
    }
    await ensureBucket(`http://${cloud.ip}:9000`, BUCKET, S3);
    // The plant's only way to the cloud: a gateway to S3.
    s3Gateway = await freePort();
    gateway = await forwardTcp({ host: plant.gateway, port: s3Gateway }, { host: cloud.ip, port: 9000 });
    warehouse = new pg.Pool({ connectionString: `postgres://${PG.user}:${PG.password}@${cloud.ip}:5432/warehouse` });
    inventory = new pg.Pool({ connectionString: `postgres://${PG.user}:${PG.password}@${plant.ip}:5432/inventory` });
    // The manufacturing-records database, on the plant's PostgreSQL, read through its read-only role.
    recordsReader = await ensureRecordsDatabase({
      adminUrl: `postgres://${PG.user}:${PG.password}@${plant.ip}:5432/postgres`,
      database: 'records',
      reader: { role: 'fabrica_reader', password: 'reader-secret' },
    });
    records = new pg.Pool({ connectionString: `postgres://${PG.user}:${PG.password}@${plant.ip}:5432/records` });
    const events = maintenanceEventRows({ machines: 5, from: '2026-10-01', to: '2026-10-31', seed: 23 });
    await insertMaintenanceEvents(records as unknown as pg.ClientBase, events);
    connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
    client = new Client({ connection });
    genDir = mkdtempSync(path.join(tmpdir(), 'fabrica-hybrid-gen-'));
    truth = await generateMachineFiles({
      outDir: genDir,
      from: '2026-11-02',
      to: '2026-11-02',
      machines: 5,
      seed: 23,
      itemsPerFile: 150,
      defects: 'all',
    });
  }, 240_000);

  afterAll(async () => {
    // A failed run shows what each worker said (its last lines).
    if (process.env.FABRICA_HYBRID_LOGS || expect.getState().assertionCalls === 0 || failed)
      for (const w of workers) process.stderr.write(`--- worker\n${w.output().slice(-4000)}\n`);
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await connection?.close();
    await warehouse?.end();
    await inventory?.end();
    await records?.end();
    gateway?.close();
    for (const s of services.reverse()) await s.stop('SIGTERM', 10_000);
    net?.remove();
    if (dir && !process.env.FABRICA_KEEP_TEST_DATA) rmSync(dir, { recursive: true, force: true });
    if (genDir) rmSync(genDir, { recursive: true, force: true });
  }, 120_000);

  it('isolates the hosts: each reaches Temporal and S3, neither reaches the other, the cloud sees no plant folder', async () => {
    expect(canConnect(plant, { host: plant.gateway, port: temporalPort })).toBe(true);
    expect(canConnect(cloud, { host: cloud.gateway, port: temporalPort })).toBe(true);
    expect(canConnect(plant, { host: plant.gateway, port: s3Gateway })).toBe(true);
    expect(canConnect(plant, { host: cloud.ip, port: 5432 })).toBe(false); // the warehouse
    expect(canConnect(plant, { host: cloud.ip, port: 9000 })).toBe(false); // only through the gateway
    expect(canConnect(cloud, { host: plant.ip, port: 5432 })).toBe(false); // the inventory database
    deliver(genDir, env(), '');
    const [command, args] = onHost(cloud, 'ls', ['-A', plantDir], [plantDir]);
    const seen = spawnSync(command, args, { encoding: 'utf8' });
    expect(seen.status).toBe(0);
    expect(seen.stdout.trim()).toBe('');
    expect(readdirSync(landing).length).toBeGreaterThan(0);
    // Not delivered for real yet: the edge is not running, so nothing was relayed. Clear the folder for the day below.
    rmSync(landing, { recursive: true, force: true });
    mkdirSync(landing);
  });

  it('loads a day exactly with a cloud worker killed mid-day, and catches up after the edge was offline', async () => {
    const edge = startEdge();
    const cloudA = startCloud();
    const cloudB = startCloud();
    await Promise.all([edge.polling(), cloudA.polling(), cloudB.polling()]);
    expect(edge.output()).toContain(`${taskQueue}-edge`);

    const onTime = deliver(genDir, env());
    // Mid-day: a third of the partitions published, then one cloud worker dies.
    await until(
      async () => (await count(warehouse, "SELECT count(*) FROM ops.runs WHERE status = 'succeeded'")) >= 15,
      Number(process.env.FABRICA_HYBRID_FIRST_WAIT_MS ?? 300_000),
    ).catch((err: unknown) => {
      failed = true;
      throw err;
    });
    await cloudB.kill('SIGKILL');
    await waitQuiet(env(), onTime, 400_000);
    const served = await count(inventory, 'SELECT count(*) FROM inventory.served_versions');
    expect(served).toBeGreaterThan(0);

    // The records database is on the plant: the edge extracts it into the lake, the cloud commits the mirror.
    const syncRecords = (n: number) =>
      client.workflow.start(
        sourceSyncWorkflow,
        sourceSyncStartOptions(maintenanceEvents, {
          taskQueue,
          workflowId: `source-sync:${maintenanceEvents.id}:${n}`,
        }),
      );
    const first = await (await syncRecords(1)).result();
    const sourceIds = async () =>
      (await records.query<{ id: string }>('SELECT id::text FROM public.maintenance_events ORDER BY id')).rows;
    const mirrorIds = async () =>
      (await warehouse.query<{ id: string }>('SELECT id::text FROM sources.maintenance_events ORDER BY id')).rows;
    expect(first).toMatchObject({ status: 'committed', rowsExtracted: (await sourceIds()).length });
    expect(await mirrorIds()).toEqual(await sourceIds());

    // The plant goes offline: its late files and two forced re-runs' hand-offs wait.
    await edge.kill('SIGKILL');
    const late = deliver(genDir, env(), 'late');
    expect(late).toBeGreaterThan(0);
    const rerun = Object.entries(truth.partitions)
      .filter(([, p]) => p.outcome === 'loaded' && p.defect === null)
      .slice(0, 2)
      .map(([key]) => key);
    const handles = await Promise.all(
      rerun.map((partition) =>
        client.workflow.start(pipelineRunWorkflow, {
          workflowId: runWorkflowId(spec.id, partition),
          taskQueue,
          args: [{ spec, partition, runKind: 'manual', force: true }],
        }),
      ),
    );
    // Each forced run loads in the cloud, then parks its hand-off on the edge queue nobody polls.
    const parked = async (h: WorkflowHandle, activity: string) =>
      until(async () =>
        ((await h.describe()).raw.pendingActivities ?? []).some((a) => a.activityType?.name === activity),
      );
    for (const h of handles) await parked(h, 'applyServeHandoff');
    // A new maintenance event at the plant: its sync waits for the edge, the watermark stays.
    await insertMaintenanceEvents(records as unknown as pg.ClientBase, [
      {
        id: 100_000,
        machine_id: 'M01',
        kind: 'corrective',
        started_at: '2026-11-02T12:00:00.000Z',
        ended_at: '2026-11-02T13:00:00.000Z',
        notes: 'troca de rolamento',
        updated_at: '2026-11-02T13:05:00.000Z',
      },
    ]);
    const watermark = () =>
      count(warehouse, "SELECT count(*) FROM ops.source_watermarks WHERE watermark_key = '100000'");
    const pendingSync = await syncRecords(2);
    await parked(pendingSync, 'extractSourceAtEdge');
    expect(await watermark()).toBe(0);
    expect(await count(inventory, 'SELECT count(*) FROM inventory.served_versions')).toBe(served);
    expect(await count(warehouse, `SELECT count(*) FROM ops.landed_files WHERE pipeline = '${spec.id}'`)).toBe(onTime);

    // Back online: the late files are relayed and load, the parked hand-offs apply, the inventory catches up.
    const back = startEdge();
    await back.polling();
    await Promise.all(handles.map((h) => h.result()));
    expect(await pendingSync.result()).toMatchObject({ status: 'committed' });
    expect(await mirrorIds()).toEqual(await sourceIds());
    expect(await watermark()).toBe(1);
    await waitQuiet(env(), onTime + late, 400_000);
    await expectMatchesTruth(env(), truth);
    // The inventory holds exactly the warehouse's latest publication of every partition it serves.
    const published = (
      await warehouse.query<{ partition_key: string; run_id: string }>(
        "SELECT partition_key, run_id FROM ops.partition_state WHERE dataset = 'inventory_movements' ORDER BY 1",
      )
    ).rows;
    const held = (
      await inventory.query<{ partition_key: string; run_id: string }>(
        "SELECT partition_key, run_id FROM inventory.served_versions WHERE target_table = 'inventory.movements' ORDER BY 1",
      )
    ).rows;
    expect(held).toEqual(published);
  }, 900_000);
});

async function count(db: pg.Pool, sql: string): Promise<number> {
  return Number((await db.query<{ count: string }>(sql)).rows[0]!.count);
}

/** Polls `condition` every 250 ms until it holds (fails after 5 minutes). */
async function until(condition: () => Promise<boolean>, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}
