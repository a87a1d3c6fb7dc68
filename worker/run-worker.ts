import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { webpackConfigHook, workflowsPath } from './bundle.js';
import type { Dependencies } from './dependencies.js';
import { installRuntime } from './runtime.js';
import { connectTemporalWorker } from './temporal-connection.js';
import type { TemporalTls } from './temporal-settings.js';

/** Options for {@link createWorker}. */
export interface CreateWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  /** TLS (mTLS) of the connection (`TEMPORAL_TLS*`); undefined: plaintext. */
  tls?: TemporalTls;
  /** Temporal Cloud API key (`TEMPORAL_API_KEY`). */
  apiKey?: string;
  deps: Dependencies;
  /** A prebuilt workflow bundle (tests share one); when absent the workflows are bundled at start. */
  workflowBundlePath?: string;
  /** Overrides for tests and tuning (e.g. concurrency limits). */
  overrides?: Partial<WorkerOptions>;
  /** Port of the SDK's Prometheus metrics exporter (`FABRICA_WORKER_METRICS_PORT`); undefined: none. */
  metricsPort?: number;
  /** Activities run at once (default 4). */
  activitySlots?: number;
  /**
   * Seconds in-flight activities get to finish once shutdown starts (`FABRICA_WORKER_SHUTDOWN_GRACE_SECONDS`,
   * default 30); then they are cancelled, and 10 s later the worker stops whatever still runs.
   */
  shutdownGraceSeconds?: number;
}

/**
 * Creates a Temporal worker polling `taskQueue` with every Fábrica workflow and activity. The connection is checked
 * first (see {@link connectTemporalWorker}): a wrong TLS, API key, namespace or address is a `ConfigError`.
 */
export async function createWorker(o: CreateWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime({ metricsPort: o.metricsPort });
  const connection = await connectTemporalWorker(o);
  const grace = o.shutdownGraceSeconds ?? 30;
  const worker = await Worker.create({
    connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    ...(o.workflowBundlePath
      ? { workflowBundle: { codePath: o.workflowBundlePath } }
      : { workflowsPath: workflowsPath(), bundlerOptions: { webpackConfigHook } }),
    activities: createActivities(o.deps),
    // Activities stream files and COPY into PostgreSQL: a few at a time per core is what the machine sustains.
    maxConcurrentActivityTaskExecutions: o.activitySlots ?? 4,
    shutdownGraceTime: grace * 1000,
    shutdownForceTime: (grace + 10) * 1000,
    ...o.overrides,
  });
  return { worker, connection };
}
