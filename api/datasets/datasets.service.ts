import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import type { FabricaConfig } from '../../worker/config.js';
import { partitionKeyExample, partitionWindow } from '../../workflows/partitions.js';
import { getPipeline, PIPELINES } from '../../activities/registry/pipelines.js';
import { InvalidInputError, NotFoundError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import { WAREHOUSE } from '../database/database.module.js';
import { temporalUiLink } from '../temporal/links.js';

/** One publication of the partition (a load ledger row, or the current state). */
export interface PublicationView {
  contentSha256: string;
  rows: number;
  runId: string;
  loadedAt: Date;
}

/** One run of the partition. */
export interface PartitionRunView {
  runId: string;
  workflowId: string;
  pipeline: string;
  runKind: string;
  status: string;
  failure: { type: string; message: string | null } | null;
  sourceKey: string | null;
  contentSha256: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  links: { temporalUi: string };
}

/** Everything the catalog knows about one partition of one dataset. */
export interface PartitionView {
  dataset: string;
  partition: string;
  /** The registered pipelines that load this dataset. */
  pipelines: string[];
  /** What readers see now, or null when nothing was ever published. */
  published: PublicationView | null;
  /** Every publication, newest first. */
  loads: PublicationView[];
  /** Runs of the partition, newest first, with their failure. */
  runs: PartitionRunView[];
  /** Lineage edges recorded by the runs (input → output, per step), newest first. */
  lineage: { runId: string; step: string; input: string; output: string; createdAt: Date }[];
  /** Quality checks of the latest run, or null when there is no run. */
  quality: { runId: string; checks: Record<string, unknown>[] } | null;
  /** Landed file versions the sensor saw for the partition, newest first. */
  landedFiles: Record<string, unknown>[];
}

type LedgerRow = { content_sha256: string; rows: string; run_id: string; loaded_at: Date };

// Bounds each list: a partition normally has a handful of runs; the cap only protects against pathological re-runs.
const LIMIT = 100;

const publication = (r: LedgerRow): PublicationView => ({
  contentSha256: r.content_sha256,
  rows: Number(r.rows),
  runId: r.run_id,
  loadedAt: r.loaded_at,
});

/** Answers "what happened to this partition?" from the warehouse catalog (`ops.*`). */
@Injectable()
export class DatasetsService {
  constructor(
    @Inject(CONFIG) private readonly config: FabricaConfig,
    @Inject(WAREHOUSE) private readonly db: pg.Pool,
  ) {}

  /** The registered pipelines loading `dataset`; {@link NotFoundError} when none does. */
  owners(dataset: string): string[] {
    const owners = PIPELINES.filter((p) => p.load.datasets.includes(dataset)).map((p) => p.id);
    if (owners.length === 0) throw new NotFoundError('dataset', dataset);
    return owners;
  }

  /** The published state, load history, runs, lineage, latest quality results and landed files of a partition. */
  async partition(dataset: string, partition: string): Promise<PartitionView> {
    const pipelines = this.owners(dataset);
    const spec = getPipeline(pipelines[0]!)!;
    if (!partitionWindow(spec.partitioning, partition))
      throw new InvalidInputError(
        'partition',
        `is not a partition of ${dataset} (like ${partitionKeyExample(spec.partitioning)}, a real ${spec.partitioning.kind === 'entity-hour' ? 'local hour' : 'date'})`,
      );
    const [state, loads, [runs, quality], lineage, landedFiles] = await Promise.all([
      this.db.query<LedgerRow>(
        'SELECT content_sha256, rows, run_id, loaded_at FROM ops.partition_state WHERE dataset = $1 AND partition_key = $2',
        [dataset, partition],
      ),
      this.db.query<LedgerRow>(
        `SELECT content_sha256, rows, run_id, loaded_at FROM ops.load_ledger WHERE dataset = $1 AND partition_key = $2
         ORDER BY loaded_at DESC LIMIT ${LIMIT}`,
        [dataset, partition],
      ),
      this.runs(pipelines, partition).then(async (r) => [r, r[0] ? await this.quality(r[0].runId) : null] as const),
      this.lineage(pipelines, partition),
      this.landedFiles(pipelines, partition),
    ]);
    return {
      dataset,
      partition,
      pipelines,
      published: state.rows[0] ? publication(state.rows[0]) : null,
      loads: loads.rows.map(publication),
      runs,
      lineage,
      quality,
      landedFiles,
    };
  }

  private async runs(pipelines: string[], partition: string): Promise<PartitionRunView[]> {
    const res = await this.db.query<{
      run_id: string;
      workflow_id: string;
      pipeline: string;
      run_kind: string;
      status: string;
      failure_type: string | null;
      failure_message: string | null;
      source_key: string | null;
      content_sha256: string | null;
      started_at: Date;
      finished_at: Date | null;
    }>(
      `SELECT run_id, workflow_id, pipeline, run_kind, status, failure_type, failure_message, source_key, content_sha256,
         started_at, finished_at
       FROM ops.runs WHERE pipeline = ANY($1) AND partition_key = $2 ORDER BY started_at DESC, run_id LIMIT ${LIMIT}`,
      [pipelines, partition],
    );
    return res.rows.map((r) => ({
      runId: r.run_id,
      workflowId: r.workflow_id,
      pipeline: r.pipeline,
      runKind: r.run_kind,
      status: r.status,
      failure: r.failure_type ? { type: r.failure_type, message: r.failure_message } : null,
      sourceKey: r.source_key,
      contentSha256: r.content_sha256,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      links: { temporalUi: temporalUiLink(this.config, r.workflow_id, r.run_id) },
    }));
  }

  private async quality(runId: string): Promise<NonNullable<PartitionView['quality']>> {
    const res = await this.db.query<Record<string, unknown>>(
      `SELECT check_name AS "check", passed, observed, threshold, details FROM ops.quality_results
       WHERE run_id = $1 ORDER BY check_name`,
      [runId],
    );
    return { runId, checks: res.rows };
  }

  private async lineage(pipelines: string[], partition: string): Promise<PartitionView['lineage']> {
    const res = await this.db.query<{
      run_id: string;
      step: string;
      input_uri: string;
      output_uri: string;
      created_at: Date;
    }>(
      `SELECT run_id, step, input_uri, output_uri, created_at FROM ops.lineage
       WHERE pipeline = ANY($1) AND partition_key = $2 ORDER BY created_at DESC, step LIMIT ${LIMIT * 5}`,
      [pipelines, partition],
    );
    return res.rows.map((r) => ({
      runId: r.run_id,
      step: r.step,
      input: r.input_uri,
      output: r.output_uri,
      createdAt: r.created_at,
    }));
  }

  private async landedFiles(pipelines: string[], partition: string): Promise<PartitionView['landedFiles']> {
    const res = await this.db.query<Record<string, unknown>>(
      `SELECT pipeline, object_key AS "objectKey", etag, size::float8 AS size, state, detail,
         first_seen_at AS "firstSeenAt", completed_at AS "completedAt"
       FROM ops.landed_files WHERE pipeline = ANY($1) AND partition_key = $2 ORDER BY first_seen_at DESC LIMIT ${LIMIT}`,
      [pipelines, partition],
    );
    return res.rows;
  }
}
