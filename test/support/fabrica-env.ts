import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import { migrate } from '../../infra/migrate.js';
import { ensureDatabases } from '../../infra/services/postgres.js';
import { createObjectStore } from '../../activities/storage/index.js';
import { ensureBucket } from '../../infra/services/minio.js';
import { createDependencies, type Dependencies } from '../../worker/dependencies.js';
import type { FabricaConfig } from '../../worker/config.js';
import { createRoleWorkers } from '../../worker/run-worker.js';
import { testServices } from './services.js';

/** An isolated Fábrica deployment inside the shared test services: own databases, lake, landing and task queue. */
export interface FabricaTestEnv {
  id: string;
  taskQueue: string;
  databaseUrl: string;
  inventoryDatabaseUrl: string;
  /** The filesystem lake's root (unused when the lake is on S3). */
  lakeDir: string;
  /** The filesystem landing area (unused when the landing area is on S3). */
  landingDir: string;
  /** Set when the lake and the landing area are on S3: prefixes `lake` and `landing` of the env's own bucket. */
  s3?: TestEnvS3;
  deps: Dependencies;
  client: Client;
  /** Starts an in-process worker on the env's task queue (stopped by `close`). */
  startWorker(): Promise<Worker>;
  /** Stops the in-process worker, if any. */
  stopWorker(): Promise<void>;
  /** Environment variables for a worker/API child process bound to this env. */
  processEnv(): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** Where an env's S3 lake and landing area live. */
export interface TestEnvS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Created for the env. */
  bucket: string;
  lakePrefix: 'lake';
  landingPrefix: 'landing';
}

function dbUrl(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates a fresh env: two new databases (migrated), temp lake and landing folders, a unique task queue. */
export async function createTestEnv(
  name: string,
  options: {
    /** Source connections by setting, e.g. `{ RECORDS_DATABASE_URL: … }`. */ sources?: Record<string, string>;
    /** Alert delivery settings of the env's worker (none: alerts stay rows). */
    alerts?: FabricaConfig['alerts'];
    /** Superuser URL (database `postgres`) of the server holding the env's databases (default: the shared one). */
    postgresUrl?: string;
    /**
     * Put the lake and the landing area on S3 instead of temp folders: a bucket of the env's own on the shared MinIO
     * (`true`), or on another S3 endpoint with the shared MinIO's credentials unless given.
     */
    s3?: true | { endpoint: string; accessKeyId?: string; secretAccessKey?: string };
  } = {},
): Promise<FabricaTestEnv> {
  const s = testServices();
  const id = `${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), `fabrica-${id}-`));
  const adminUrl = options.postgresUrl ?? s.databaseUrl;
  const databaseUrl = dbUrl(adminUrl, `wh_${id}`);
  const inventoryDatabaseUrl = dbUrl(adminUrl, `inv_${id}`);
  await ensureDatabases(adminUrl, [`wh_${id}`, `inv_${id}`]);
  await migrate(databaseUrl, 'warehouse');
  await migrate(inventoryDatabaseUrl, 'inventory');
  const lakeDir = path.join(dir, 'lake');
  const landingDir = path.join(dir, 'landing');
  let s3: TestEnvS3 | undefined;
  if (options.s3) {
    const o: { endpoint?: string; accessKeyId?: string; secretAccessKey?: string } =
      options.s3 === true ? {} : options.s3;
    const shared = s.s3;
    const endpoint = o.endpoint ?? shared.endpoint;
    const credentials = {
      accessKeyId: o.accessKeyId ?? shared.accessKeyId,
      secretAccessKey: o.secretAccessKey ?? shared.secretAccessKey,
    };
    const bucket = `fabrica-${id.replace(/_/g, '-')}`.slice(0, 63).replace(/-+$/, '');
    await ensureBucket(endpoint, bucket, credentials);
    s3 = { endpoint, region: shared.region, ...credentials, bucket, lakePrefix: 'lake', landingPrefix: 'landing' };
  }
  const storeIn = (prefix: 'lake' | 'landing') =>
    createObjectStore({
      kind: 's3',
      bucket: s3!.bucket,
      prefix,
      endpoint: s3!.endpoint,
      region: s3!.region,
      forcePathStyle: true,
      accessKeyId: s3!.accessKeyId,
      secretAccessKey: s3!.secretAccessKey,
    });
  const fsDeps = createDependencies({
    databaseUrl,
    inventoryDatabaseUrl,
    lake: { kind: 'fs', root: lakeDir },
    landing: { kind: 'fs', root: landingDir },
    sources: options.sources ?? {},
    alerts: options.alerts,
    publicUrl: 'http://localhost:3000',
  });
  // The worker configuration carries no S3 credentials (a worker process takes them from the AWS environment).
  const deps: Dependencies = s3 ? { ...fsDeps, lake: storeIn('lake'), landing: storeIn('landing') } : fsDeps;
  await Promise.all([deps.lake.check(), deps.landing.check()]);
  const taskQueue = `tq-${id}`;
  const connection = await Connection.connect({ address: s.temporalAddress });
  const client = new Client({ connection, namespace: s.temporalNamespace });
  let running:
    { worker: Worker; workers: { worker: Worker; connection: NativeConnection }[]; done: Promise<void> } | undefined;
  const env: FabricaTestEnv = {
    id,
    taskQueue,
    databaseUrl,
    inventoryDatabaseUrl,
    lakeDir,
    landingDir,
    ...(s3 ? { s3 } : {}),
    deps,
    client,
    async startWorker() {
      if (running) return running.worker;
      // Every role in this process, as `npm start` runs them: the cloud worker and the edge worker.
      const created = await createRoleWorkers({
        role: 'all',
        address: s.temporalAddress,
        namespace: s.temporalNamespace,
        taskQueue,
        deps,
        workflowBundlePath: s.workflowBundle,
      });
      running = {
        workers: created,
        worker: created[0]!.worker,
        done: Promise.all(created.map(({ worker }) => worker.run())).then(() => undefined),
      };
      return created[0]!.worker;
    },
    async stopWorker() {
      if (!running) return;
      const r = running;
      running = undefined;
      r.workers.forEach(({ worker }) => worker.shutdown());
      await r.done;
      await Promise.all(r.workers.map(({ connection }) => connection.close()));
    },
    processEnv() {
      const onS3 = s3 && {
        S3_ENDPOINT: s3.endpoint,
        S3_REGION: s3.region,
        S3_BUCKET: s3.bucket,
        S3_PREFIX: s3.lakePrefix,
        FABRICA_LANDING: `s3://${s3.bucket}/${s3.landingPrefix}`,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      };
      return {
        ...process.env,
        TEMPORAL_ADDRESS: s.temporalAddress,
        TEMPORAL_NAMESPACE: s.temporalNamespace,
        FABRICA_TASK_QUEUE: taskQueue,
        DATABASE_URL: databaseUrl,
        INVENTORY_DATABASE_URL: inventoryDatabaseUrl,
        FABRICA_LAKE_DIR: lakeDir,
        FABRICA_LANDING: landingDir,
        FABRICA_HOME: dir,
        FABRICA_SENSOR: 'false',
        FABRICA_SCHEDULES: 'false',
        FABRICA_DEMO: 'false',
        ...onS3,
      };
    },
    async close() {
      await env.stopWorker();
      await connection.close();
      await deps.close();
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      for (const db of [`wh_${id}`, `inv_${id}`]) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return env;
}
