import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { getPipeline, PIPELINES } from '../../activities/registry/pipelines.js';
import type { PipelineSpec } from '../../workflows/spec.js';
import { NotFoundError } from '../common/errors.js';
import { WAREHOUSE } from '../database/database.module.js';

/** A pipeline as the API shows it: its spec and its latest runs. */
export interface PipelineView {
  id: string;
  version: number;
  owner: string;
  description: string;
  partitioning: PipelineSpec['partitioning'];
  freshness: PipelineSpec['freshness'];
  datasets: string[];
  latestRuns: { runId: string; partition: string; status: string; startedAt: Date; finishedAt: Date | null }[];
}

/** Reads the pipeline registry and each pipeline's latest runs from the catalog. */
@Injectable()
export class PipelinesService {
  constructor(@Inject(WAREHOUSE) private readonly db: pg.Pool) {}

  /** The spec of a registered pipeline; {@link NotFoundError} otherwise. */
  spec(id: string): PipelineSpec {
    const spec = getPipeline(id);
    if (!spec) throw new NotFoundError('pipeline', id);
    return spec;
  }

  /** Every registered pipeline. */
  async list(): Promise<PipelineView[]> {
    return Promise.all(PIPELINES.map((p) => this.view(p)));
  }

  /** One pipeline. */
  async get(id: string): Promise<PipelineView> {
    return this.view(this.spec(id));
  }

  private async view(spec: PipelineSpec): Promise<PipelineView> {
    const runs = await this.db.query<{
      run_id: string;
      partition_key: string;
      status: string;
      started_at: Date;
      finished_at: Date | null;
    }>(
      `SELECT run_id, partition_key, status, started_at, finished_at FROM ops.runs WHERE pipeline = $1
       ORDER BY started_at DESC LIMIT 10`,
      [spec.id],
    );
    return {
      id: spec.id,
      version: spec.version,
      owner: spec.owner,
      description: spec.description,
      partitioning: spec.partitioning,
      freshness: spec.freshness,
      datasets: spec.load.datasets,
      latestRuns: runs.rows.map((r) => ({
        runId: r.run_id,
        partition: r.partition_key,
        status: r.status,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
      })),
    };
  }
}
