import { Inject, Injectable } from '@nestjs/common';
import { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import pg from 'pg';
import type { ObjectStore } from '../../activities/storage/object-store.js';
import type { FabricaConfig } from '../../worker/config.js';
import { CONFIG } from '../config/config.module.js';
import { WAREHOUSE } from '../database/database.module.js';
import { LAKE } from '../lake/lake.module.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';

/** The state of one dependency. */
export interface DependencyHealth {
  status: 'up' | 'down';
  latencyMs: number;
  detail?: string;
}

/** Readiness: whether this API process can serve (its own dependencies; workers are not its concern). */
export interface ReadinessReport {
  status: 'ready' | 'not ready';
  /** The dependencies that are down, by name. */
  down: string[];
  checks: { temporal: DependencyHealth; postgres: DependencyHealth; lake: DependencyHealth };
}

/** The health report: each dependency separately, and whether workers poll the task queue. */
export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: {
    temporal: DependencyHealth;
    postgres: DependencyHealth;
    lake: DependencyHealth;
    workers: DependencyHealth & { pollers?: number };
  };
}

const TIMEOUT_MS = 3000;
const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

async function timed<T>(probe: () => Promise<T>): Promise<DependencyHealth & { value?: T }> {
  const start = Date.now();
  try {
    const value = await Promise.race([
      probe(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS),
      ),
    ]);
    return { status: 'up', latencyMs: Date.now() - start, value };
  } catch (err) {
    return { status: 'down', latencyMs: Date.now() - start, detail: (err as Error).message };
  }
}

/** Probes Temporal, PostgreSQL, the lake and the workers, concurrently and each with a timeout. */
@Injectable()
export class HealthService {
  constructor(
    @Inject(CONFIG) private readonly config: FabricaConfig,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(WAREHOUSE) private readonly pool: pg.Pool,
    @Inject(LAKE) private readonly lake: ObjectStore,
  ) {}

  /** Runs every probe. */
  async report(): Promise<HealthReport> {
    const [temporalCheck, postgres, lake, pollers] = await Promise.all([
      timed(() => this.client.workflowService.getSystemInfo({})),
      timed(() => this.pool.query('SELECT 1')),
      timed(() => this.lake.check()),
      timed(() => this.pollerCount()),
    ]);
    const { value: count, ...workerCheck } = pollers;
    const workers = { ...workerCheck, pollers: count };
    if (workers.status === 'up' && !count)
      Object.assign(workers, { status: 'down', detail: 'no worker polls the task queue' });
    const checks = { temporal: strip(temporalCheck), postgres: strip(postgres), lake: strip(lake), workers };
    const ok = Object.values(checks).every((c) => c.status === 'up');
    return { status: ok ? 'ok' : 'degraded', checks };
  }

  /** Probes only what this process needs to answer requests: Temporal, PostgreSQL, the lake. */
  async readiness(): Promise<ReadinessReport> {
    const [temporalCheck, postgres, lake] = await Promise.all([
      timed(() => this.client.workflowService.getSystemInfo({})),
      timed(() => this.pool.query('SELECT 1')),
      timed(() => this.lake.check()),
    ]);
    const checks = { temporal: strip(temporalCheck), postgres: strip(postgres), lake: strip(lake) };
    const down = Object.entries(checks)
      .filter(([, c]) => c.status === 'down')
      .map(([name]) => name);
    return { status: down.length === 0 ? 'ready' : 'not ready', down, checks };
  }

  private async pollerCount(): Promise<number> {
    const res = await this.client.workflowService.describeTaskQueue({
      namespace: this.config.temporal.namespace,
      taskQueue: { name: this.config.temporal.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return res.pollers?.length ?? 0;
  }
}

function strip({ status, latencyMs, detail }: DependencyHealth): DependencyHealth {
  return detail === undefined ? { status, latencyMs } : { status, latencyMs, detail };
}
