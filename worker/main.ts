import { loadDotEnv } from './env-file.js';
import { Connection } from '@temporalio/client';
import { warehouseProblems } from '../activities/datasets/checks.js';
import { migrate } from '../infra/migrate.js';
import { assertRegistryValid, PIPELINES } from '../activities/registry/pipelines.js';
import { assertSourcesValid, SOURCES } from '../workflows/sources/index.js';
import { ConfigError, loadConfig } from './config.js';
import { createDependencies } from './dependencies.js';
import { createRoleWorkers } from './run-worker.js';
import { log, setLogLevel } from './log.js';
import { syncSchedules } from './schedules.js';
import { ensureSensors } from './sensors.js';

/** The worker process: validate config, migrate, poll (by role) until SIGINT/SIGTERM, then drain and exit. */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  setLogLevel(config.logLevel);
  assertRegistryValid();
  assertSourcesValid();
  const role = config.workerRole;
  // The edge reaches the plant's databases only; the cloud the warehouse only; `all` both.
  if (role !== 'edge') await migrate(config.databaseUrl, 'warehouse');
  if (role !== 'cloud') await migrate(config.inventoryDatabaseUrl, 'inventory');
  const deps = createDependencies(config);
  if (role !== 'edge') {
    const drift = await warehouseProblems(deps.warehouse, PIPELINES);
    if (drift.length > 0) throw new Error(`the pipelines do not match the warehouse: ${drift.join('; ')}`);
  }
  await Promise.all([deps.lake.check(), deps.landing.check(), deps.relay?.check()]);
  const workers = await createRoleWorkers({
    ...config.temporal,
    role,
    deps,
    metricsPort: config.workerMetricsPort,
    tuning: config.workerTuning,
    versioning: config.workerVersioning,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => workers.forEach(({ worker }) => worker.shutdown()));
  if (role !== 'edge') {
    const client = await Connection.connect({ address: config.temporal.address });
    try {
      if (config.sensor.enabled) {
        const ids = await ensureSensors(client, { ...config.temporal, intervalSeconds: config.sensor.intervalSeconds });
        log.info('landing sensors running', { workflows: ids });
      }
      if (config.schedules) {
        // Sources sync on a schedule only where their connection is configured.
        const sources = SOURCES.filter((s) => config.sources[s.connection]);
        const schedules = await syncSchedules(client, config.temporal, PIPELINES, sources);
        log.info('schedules in sync', { schedules });
      }
    } finally {
      await client.close();
    }
  }
  log.info('worker polling', {
    role,
    taskQueues: workers.map(({ worker }) => worker.options.taskQueue),
    temporal: config.temporal.address,
    ...(config.workerVersioning ? { version: config.workerVersioning } : {}),
  });
  try {
    await Promise.all(workers.map(({ worker }) => worker.run()));
  } finally {
    await Promise.all(workers.map(({ connection }) => connection.close()));
    await deps.close();
  }
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : `worker failed: ${(err as Error).message}`;
  log.error(message);
  process.exit(err instanceof ConfigError ? 78 : 1);
});
