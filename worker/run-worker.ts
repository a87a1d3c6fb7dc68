import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, createEdgeActivities } from '../activities/index.js';
import { edgeTaskQueue } from '../workflows/activity-options.js';
import { webpackConfigHook, workflowsPath } from './bundle.js';
import type { Dependencies } from './dependencies.js';
import { installRuntime } from './runtime.js';
import { connectTemporalWorker } from './temporal-connection.js';
import type { TemporalTls } from './temporal-settings.js';
import { DEFAULT_TUNING, tuningOptions, type WorkerTuning } from './tuning.js';
import { versioningOptions, type WorkerVersioning } from './versioning.js';

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
  /**
   * `cloud` (default): the workflows and every activity on `taskQueue`. `edge`: only the plant's activities (landing
   * relay, hand-off application) on `<taskQueue>-edge`, no workflows, nothing that reaches the warehouse.
   */
  role?: 'cloud' | 'edge';
  /** Slot sizing (default: fixed, 4 activities and 40 workflow tasks at once). */
  tuning?: WorkerTuning;
  /** Worker Versioning: the deployment version this worker polls as; undefined: unversioned. */
  versioning?: WorkerVersioning;
  /**
   * Seconds in-flight activities get to finish once shutdown starts (`FABRICA_WORKER_SHUTDOWN_GRACE_SECONDS`,
   * default 30); then they are cancelled, and 10 s later the worker stops whatever still runs.
   */
  shutdownGraceSeconds?: number;
}

/**
 * Creates a Temporal worker polling `taskQueue` with every Fábrica workflow and activity (or the edge's activities).
 * The connection is checked first (see {@link connectTemporalWorker}): a wrong TLS, API key, namespace or address is
 * a `ConfigError`.
 */
export async function createWorker(o: CreateWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime({ metricsPort: o.metricsPort });
  const connection = await connectTemporalWorker(o);
  const grace = o.shutdownGraceSeconds ?? 30;
  const edge = o.role === 'edge';
  const worker = await Worker.create({
    connection,
    namespace: o.namespace,
    taskQueue: edge ? edgeTaskQueue(o.taskQueue) : o.taskQueue,
    ...(edge
      ? {}
      : o.workflowBundlePath
        ? { workflowBundle: { codePath: o.workflowBundlePath } }
        : { workflowsPath: workflowsPath(), bundlerOptions: { webpackConfigHook } }),
    activities: edge ? createEdgeActivities(o.deps) : createActivities(o.deps),
    // Activities stream files and COPY into PostgreSQL: a few at a time per core is what the machine sustains.
    ...tuningOptions(o.tuning ?? DEFAULT_TUNING),
    ...versioningOptions(o.versioning),
    shutdownGraceTime: grace * 1000,
    shutdownForceTime: (grace + 10) * 1000,
    ...o.overrides,
  });
  return { worker, connection };
}

/**
 * The Temporal workers of a process by its role: `all` runs a cloud and an edge worker side by side, `cloud` and
 * `edge` one each.
 */
export async function createRoleWorkers(
  o: Omit<CreateWorkerOptions, 'role'> & { role: 'all' | 'cloud' | 'edge' },
): Promise<{ worker: Worker; connection: NativeConnection }[]> {
  const roles = o.role === 'all' ? (['cloud', 'edge'] as const) : ([o.role] as const);
  const created: { worker: Worker; connection: NativeConnection }[] = [];
  for (const role of roles) created.push(await createWorker({ ...o, role }));
  return created;
}
