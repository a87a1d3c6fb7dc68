import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import { migrate } from '../../infra/migrate.js';
import { ensureDatabases } from '../../infra/services/postgres.js';
import { createDependencies, type Dependencies } from '../../worker/dependencies.js';
import type { FabricaConfig } from '../../worker/config.js';
import { createWorker } from '../../worker/run-worker.js';
import { testServices } from './services.js';

/** An isolated Fábrica deployment inside the shared test services: own databases, lake, landing and task queue. */
export interface FabricaTestEnv {
  id: string;
  taskQueue: string;
  databaseUrl: string;
  inventoryDatabaseUrl: string;
  lakeDir: string;
  landingDir: string;
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
  const deps = createDependencies({
    databaseUrl,
    inventoryDatabaseUrl,
    lake: { kind: 'fs', root: lakeDir },
    landing: { kind: 'fs', root: landingDir },
    sources: options.sources ?? {},
    alerts: options.alerts,
    publicUrl: 'http://localhost:3000',
  });
  await Promise.all([deps.lake.check(), deps.landing.check()]);
  const taskQueue = `tq-${id}`;
  const connection = await Connection.connect({ address: s.temporalAddress });
  const client = new Client({ connection, namespace: s.temporalNamespace });
  let running: { worker: Worker; connection: NativeConnection; done: Promise<void> } | undefined;
  const env: FabricaTestEnv = {
    id,
    taskQueue,
    databaseUrl,
    inventoryDatabaseUrl,
    lakeDir,
    landingDir,
    deps,
    client,
    async startWorker() {
      if (running) return running.worker;
      const created = await createWorker({
        address: s.temporalAddress,
        namespace: s.temporalNamespace,
        taskQueue,
        deps,
        workflowBundlePath: s.workflowBundle,
      });
      running = { ...created, done: created.worker.run() };
      return created.worker;
    },
    async stopWorker() {
      if (!running) return;
      const r = running;
      running = undefined;
      r.worker.shutdown();
      await r.done;
      await r.connection.close();
    },
    processEnv() {
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
