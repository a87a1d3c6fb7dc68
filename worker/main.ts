import { loadDotEnv } from './env-file.js';
import { GracefulShutdownPeriodExpiredError } from '@temporalio/worker';
import { warehouseProblems } from '../activities/datasets/checks.js';
import { migrate } from '../infra/migrate.js';
import { assertRegistryValid, PIPELINES } from '../activities/registry/pipelines.js';
import { assertSourcesValid, SOURCES } from '../workflows/sources/index.js';
import { ConfigError, loadConfig } from './config.js';
import { createDependencies } from './dependencies.js';
import { startWorkerHealthServer, type WorkerHealthServer } from './health-server.js';
import { createRoleWorkers } from './run-worker.js';
import { log, setLogLevel } from './log.js';
import { syncSchedules } from './schedules.js';
import { ensureSensors } from './sensors.js';
import { connectTemporalClient } from './temporal-connection.js';

let health: WorkerHealthServer | undefined;

/**
 * The worker process: validate config, migrate, poll (by role) until SIGINT/SIGTERM, then drain: stop polling
 * (readiness 503), give in-flight activities the grace time, cancel what still runs, exit 0.
 */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  setLogLevel(config.logLevel);
  if (config.workerHealthPort !== undefined) health = await startWorkerHealthServer(config.workerHealthPort);
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
  const client = await connectTemporalClient(config.temporal);
  const workers = await createRoleWorkers({
    ...config.temporal,
    role,
    deps,
    metricsPort: config.workerMetricsPort,
    tuning: config.workerTuning,
    versioning: config.workerVersioning,
    shutdownGraceSeconds: config.workerShutdownGraceSeconds,
    workflowBundlePath: config.workflowBundle,
  });
  let draining = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      draining = true;
      health?.setPhase('draining');
      log.info('worker draining', { signal, graceSeconds: config.workerShutdownGraceSeconds });
      workers.forEach(({ worker }) => worker.shutdown());
    });
  try {
    if (role !== 'edge' && config.sensor.enabled) {
      const ids = await ensureSensors(client, { ...config.temporal, intervalSeconds: config.sensor.intervalSeconds });
      log.info('landing sensors running', { workflows: ids });
    }
    if (role !== 'edge' && config.schedules) {
      // Sources sync on a schedule only where their connection is configured: in this process, or — for a source
      // placed at the edge, seen from a cloud worker — on the edge workers, which the cloud cannot see (an edge
      // without it fails the sync with SourceNotConfigured, an alert).
      const sources = SOURCES.filter(
        (s) => config.sources[s.connection] || (role === 'cloud' && s.placement === 'edge'),
      );
      const schedules = await syncSchedules(client, config.temporal, PIPELINES, sources);
      log.info('schedules in sync', { schedules });
    }
  } finally {
    await client.close();
  }
  log.info('worker polling', {
    role,
    taskQueues: workers.map(({ worker }) => worker.options.taskQueue),
    temporal: config.temporal.address,
    ...(config.workerVersioning ? { version: config.workerVersioning } : {}),
  });
  try {
    const running = Promise.all(workers.map(({ worker }) => worker.run()));
    if (!draining) health?.setPhase('polling');
    await running;
    log.info('worker stopped');
  } catch (err) {
    // Activities that ignored their cancellation past the force time: their attempts time out and are retried.
    if (!(err instanceof GracefulShutdownPeriodExpiredError)) throw err;
    log.warn('worker stopped with activities still running', { error: err.message });
  } finally {
    await Promise.all(workers.map(({ connection }) => connection.close()));
    await deps.close();
    await health?.close();
  }
}

main().catch(async (err: unknown) => {
  const message = err instanceof ConfigError ? err.message : `worker failed: ${(err as Error).message}`;
  log.error(message);
  await health?.close();
  process.exit(err instanceof ConfigError ? 78 : 1);
});
