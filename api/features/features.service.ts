import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
} from '@temporalio/client';
import type pg from 'pg';
import { featureQuery } from '../../activities/features/queries.js';
import type { FabricaConfig } from '../../worker/config.js';
import { featureExportWorkflow } from '../../workflows/feature-export.workflow.js';
import {
  exportProgressQuery,
  exportWorkflowId,
  type ExportManifest,
  type FeatureExportProgress,
} from '../../workflows/features/export-messages.js';
import { FEATURE_SETS, getFeatureSet } from '../../workflows/features/index.js';
import { dayNumber, rangeDays } from '../../workflows/features/plan.js';
import { exportColumns, type FeatureSetSpec } from '../../workflows/features/spec.js';
import { InvalidInputError, NotFoundError } from '../common/errors.js';
import { CONFIG } from '../config/config.module.js';
import { WAREHOUSE } from '../database/database.module.js';
import { TEMPORAL_DEADLINE_MS } from '../temporal/deadline.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import { apiLog } from '../logging/request-context.js';
import type { CreateExportDto } from './dto/create-export.dto.js';

/** A feature set as the API lists it. */
export interface FeatureSetView {
  id: string;
  version: number;
  owner: string;
  description: string;
  grain: string;
  entityColumn: string;
  timeColumn: string;
  columns: FeatureSetSpec['columns'];
  label: FeatureSetSpec['label'] | null;
  maxRangeDays: number;
}

/** What an export was asked for (kept as the workflow's memo). */
interface ExportMemo {
  featureSet: string;
  version: number;
  from: string;
  to: string;
  asOf: string | null;
  format: string;
  training: boolean;
}

/** An export as the API returns it. */
export interface ExportView extends ExportMemo {
  exportId: string;
  workflowId: string;
  status: string;
  progress?: FeatureExportProgress;
  manifestKey?: string;
  manifest?: ExportManifest;
  error?: string;
  links: { temporalUi: string };
}

/** The latest feature vector of one entity. */
export interface OnlineFeatures {
  featureSet: string;
  version: number;
  entityId: string;
  featureDate: string;
  asOf: string;
  features: Record<string, unknown>;
}

const EXPORT_ID = /^[a-z][a-z0-9-]{1,62}-v\d{1,6}-[0-9a-f]{16}$/;
const ENTITY = /^[A-Za-z0-9_-]{1,32}$/;

/** Feature sets, their exports and the online feature vectors. */
@Injectable()
export class FeaturesService {
  constructor(
    @Inject(CONFIG) private readonly config: FabricaConfig,
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(WAREHOUSE) private readonly warehouse: pg.Pool,
  ) {}

  private deadline<T>(fn: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, fn);
  }

  list(): FeatureSetView[] {
    return FEATURE_SETS.map((s) => this.view(s));
  }

  get(id: string): FeatureSetView {
    return this.view(this.spec(id));
  }

  private spec(id: string): FeatureSetSpec {
    const spec = getFeatureSet(id);
    if (!spec) throw new NotFoundError('feature set', id);
    return spec;
  }

  private view(s: FeatureSetSpec): FeatureSetView {
    return {
      id: s.id,
      version: s.version,
      owner: s.owner,
      description: s.description,
      grain: s.grain,
      entityColumn: s.entityColumn,
      timeColumn: s.timeColumn,
      columns: s.columns,
      label: s.label ?? null,
      maxRangeDays: s.maxRangeDays,
    };
  }

  /**
   * Starts an export, or returns the one for the same request: the id derives from the feature set's version and the
   * request (range, asOf, format, training, file bound), so duplicate and concurrent POSTs find one execution. A
   * succeeded export is returned as is; a failed one runs again.
   */
  async startExport(body: CreateExportDto): Promise<ExportView> {
    const spec = getFeatureSet(body.featureSet);
    if (!spec) throw new InvalidInputError('featureSet', `is not a registered feature set: ${body.featureSet}`);
    if (Number.isNaN(dayNumber(body.from))) throw new InvalidInputError('from', 'is not a real date');
    if (Number.isNaN(dayNumber(body.to))) throw new InvalidInputError('to', 'is not a real date');
    const days = rangeDays(body.from, body.to);
    if (days === 0) throw new InvalidInputError('to', 'must not be before from');
    if (days > spec.maxRangeDays)
      throw new InvalidInputError('to', `range is over ${spec.maxRangeDays} days for ${spec.id}; split it`);
    let asOf: string | null = null;
    if (body.asOf !== undefined) {
      const ms = Date.parse(body.asOf);
      if (Number.isNaN(ms)) throw new InvalidInputError('asOf', 'is not a real instant');
      if (ms > Date.now() + 60_000) throw new InvalidInputError('asOf', 'must not be in the future');
      asOf = new Date(ms).toISOString();
    }
    const training = body.training === true;
    if (training && !spec.label) throw new InvalidInputError('training', `${spec.id} has no label to train on`);
    const format = body.format ?? 'parquet';
    const maxFileBytes = (body.maxFileMiB ?? 128) * 1024 * 1024;
    const memo: ExportMemo = {
      featureSet: spec.id,
      version: spec.version,
      from: body.from,
      to: body.to,
      asOf,
      format,
      training,
    };
    const digest = createHash('sha256')
      .update(JSON.stringify([memo.from, memo.to, memo.asOf, memo.format, memo.training, maxFileBytes]))
      .digest('hex')
      .slice(0, 16);
    const exportId = `${spec.id}-v${spec.version}-${digest}`;
    try {
      const handle = await this.deadline(() =>
        this.client.workflow.start(featureExportWorkflow, {
          workflowId: exportWorkflowId(exportId),
          taskQueue: this.config.temporal.taskQueue,
          args: [
            {
              exportId,
              spec,
              from: body.from,
              to: body.to,
              ...(asOf ? { asOf } : {}),
              format,
              training,
              maxFileBytes,
            },
          ],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          memo: { export: memo },
          staticSummary: `export ${spec.id} v${spec.version} ${body.from}..${body.to} ${format}${training ? ' training' : ''}`,
        }),
      );
      apiLog.info('feature export started', {
        featureSet: spec.id,
        exportId,
        workflowId: handle.workflowId,
        runId: handle.firstExecutionRunId,
      });
    } catch (err) {
      // A succeeded export with this id exists: the request is answered by it.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    return this.getExport(exportId);
  }

  /** An export with its live progress, or its manifest once done. */
  async getExport(exportId: string): Promise<ExportView> {
    const handle = this.handle(exportId);
    const d = await this.deadline(() => handle.describe()).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError('export', exportId);
      throw err;
    });
    const memo = (d.memo?.export ?? {}) as ExportMemo;
    const status = d.status.name.toLowerCase();
    const row = await this.warehouse.query<{
      status: string;
      as_of: Date;
      manifest_key: string | null;
      manifest: ExportManifest | null;
      error: string | null;
    }>('SELECT status, as_of, manifest_key, manifest, error FROM ops.feature_exports WHERE export_id = $1', [exportId]);
    const r = row.rows[0];
    let progress: FeatureExportProgress | undefined;
    if (status === 'running')
      progress = await this.deadline(() => handle.query(exportProgressQuery)).catch(() => undefined);
    const ns = encodeURIComponent(this.config.temporal.namespace);
    const workflowId = exportWorkflowId(exportId);
    return {
      exportId,
      workflowId,
      featureSet: memo.featureSet,
      version: memo.version,
      from: memo.from,
      to: memo.to,
      asOf: r?.as_of.toISOString() ?? memo.asOf,
      format: memo.format,
      training: memo.training,
      status: status === 'completed' ? 'succeeded' : status,
      ...(progress ? { progress } : {}),
      ...(status === 'completed' && r?.manifest_key ? { manifestKey: r.manifest_key, manifest: r.manifest! } : {}),
      ...(r?.error && status !== 'completed' && status !== 'running' ? { error: r.error } : {}),
      links: {
        temporalUi: `${this.config.temporal.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}`,
      },
    };
  }

  private handle(exportId: string): WorkflowHandle<typeof featureExportWorkflow> {
    if (!EXPORT_ID.test(exportId)) throw new NotFoundError('export', exportId);
    return this.client.workflow.getHandle<typeof featureExportWorkflow>(exportWorkflowId(exportId));
  }

  /**
   * The latest feature vector of an entity: the set's row for the last day the entity has data, computed now by the
   * same query as exports (so online and offline values agree), without the label.
   */
  async online(featureSetId: string, entityId: string): Promise<OnlineFeatures> {
    const spec = this.spec(featureSetId);
    if (spec.grain !== 'entity-day')
      throw new InvalidInputError('featureSet', `${spec.id} is not served online (grain ${spec.grain})`);
    if (!ENTITY.test(entityId)) throw new InvalidInputError('entityId', 'must be an identifier like M07');
    const latest = await this.warehouse.query<{ key: string | null }>(
      `SELECT max(partition_key) AS key FROM ops.partition_state WHERE dataset = ANY($1) AND partition_key LIKE $2`,
      [spec.inputs.datasets, `${entityId}@%`],
    );
    const key = latest.rows[0]?.key;
    if (!key) throw new NotFoundError(`${spec.id} entity`, entityId);
    const day = key.split('@')[1]!.slice(0, 10);
    const asOf = new Date().toISOString();
    const sql = featureQuery(spec, { from: day, to: day, asOf, training: false, entity: entityId });
    const r = await this.warehouse.query<Record<string, unknown>>(sql);
    const row = r.rows[0];
    if (!row) throw new NotFoundError(`${spec.id} entity`, entityId);
    const features: Record<string, unknown> = {};
    for (const c of exportColumns(spec, false)) {
      const v = row[c.name];
      features[c.name] =
        v instanceof Date
          ? c.type === 'date'
            ? day
            : v.toISOString()
          : typeof v === 'string' && c.type === 'int64'
            ? Number(v)
            : v;
    }
    return {
      featureSet: spec.id,
      version: spec.version,
      entityId,
      featureDate: day,
      asOf: features.as_of as string,
      features,
    };
  }
}
