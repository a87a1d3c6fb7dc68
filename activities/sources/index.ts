import type pg from 'pg';
import type { SourceActivities } from '../../workflows/source-sync.workflow.js';
import type {
  SourceExtractResult,
  SourcePosition,
  SourceSpec,
  SourceSyncContext,
} from '../../workflows/sources/spec.js';
import { attempt } from '../activity-context.js';
import { Catalog } from '../catalog.js';
import type { ObjectStore } from '../storage/object-store.js';
import { withTempDir } from '../temp-files.js';
import { createCommitSource } from './commit.js';
import { isoUtc, PartWriter, sourceLakeKeys } from './common.js';
import { SourceConnections } from './connections.js';
import { extractDatabase } from './database-extract.js';
import { extractHttp } from './http-extract.js';
import { alertSinkFor, type AlertConfig } from '../alerts/sink.js';

export { SourceConnections } from './connections.js';

/** What the source activities use. */
export interface SourceActivityDeps {
  warehouse: pg.Pool;
  lake: ObjectStore;
  /** Alert delivery (channels configured): raised alerts signal their group's delivery workflow. */
  alerts?: AlertConfig;
  /** Connections of the external sources (absent: none configured). */
  sources?: SourceConnections;
}

/** The committed watermark of a source (nothing before its first commit). */
export async function readWatermark(warehouse: pg.Pool, sourceId: string): Promise<SourcePosition> {
  const res = await warehouse.query<SourcePosition>(
    `SELECT ${isoUtc('watermark_ts')} AS ts, watermark_key AS key FROM ops.source_watermarks WHERE source_id = $1`,
    [sourceId],
  );
  return res.rows[0] ?? { ts: null, key: null };
}

/** Records the sync as `extracting` in `ops.source_syncs` and returns the committed watermark it extracts from. */
async function beginExtract(warehouse: pg.Pool, ctx: SourceSyncContext, spec: SourceSpec): Promise<SourcePosition> {
  const from = await readWatermark(warehouse, spec.id);
  const details = { trigger: ctx.trigger, workflowId: ctx.workflowId, specVersion: spec.version, kind: spec.kind };
  await warehouse.query(
    `INSERT INTO ops.source_syncs (source_id, run_id, started_at, status, watermark_from, details)
     VALUES ($1, $2, now(), 'extracting', $3, $4)
     ON CONFLICT (source_id, run_id) DO UPDATE SET status = 'extracting', watermark_from = EXCLUDED.watermark_from
     WHERE ops.source_syncs.status <> 'committed'`,
    [spec.id, ctx.runId, from.ts, JSON.stringify(details)],
  );
  return from;
}

/**
 * Reads what changed at the source since `from` (minus the lookback) into the lake, under this attempt's folder,
 * plus every source key for sources that reconcile deletes. Touches neither the warehouse nor the watermark, so it
 * runs wherever the source is reachable (an edge worker for a source on the plant's network).
 */
function createExtractToLake(lake: ObjectStore, connections: SourceConnections) {
  return async function extractToLake(
    ctx: SourceSyncContext,
    spec: SourceSpec,
    from: SourcePosition,
  ): Promise<SourceExtractResult> {
    const dir = sourceLakeKeys.extractDir(spec.id, ctx.runId, attempt());
    return withTempDir(async (tmp) => {
      const rows = new PartWriter(lake, tmp, dir, 'part');
      const keys = spec.deletes === 'reconcile-keys' ? new PartWriter(lake, tmp, dir, 'keys') : undefined;
      const seen =
        spec.kind === 'database'
          ? await extractDatabase(connections.database(spec.connection), spec, from, rows, keys)
          : await extractHttp(connections.httpBase(spec.connection), spec, from, rows);
      const parts = await rows.close();
      const keyParts = await keys?.close();
      return {
        attempt: attempt(),
        dir,
        parts,
        ...(keys ? { keyParts, keys: keys.rows } : {}),
        rows: rows.rows,
        bytes: rows.bytes + (keys?.bytes ?? 0),
        from,
        maxSeen: seen.maxSeen,
        extractedAt: seen.extractedAt,
      } satisfies SourceExtractResult;
    });
  };
}

/** Marks the sync `extracted` with what the extract wrote (never a committed sync). */
async function finishExtract(
  warehouse: pg.Pool,
  ctx: SourceSyncContext,
  spec: SourceSpec,
  result: SourceExtractResult,
) {
  await warehouse.query(
    `UPDATE ops.source_syncs SET status = 'extracted', rows_extracted = $3, details = details || $4::jsonb
     WHERE source_id = $1 AND run_id = $2 AND status <> 'committed'`,
    [
      spec.id,
      ctx.runId,
      result.rows,
      JSON.stringify({
        extractAttempt: result.attempt,
        extractDir: result.dir ?? sourceLakeKeys.extractDir(spec.id, ctx.runId, result.attempt),
        keys: result.keys,
        bytes: result.bytes,
      }),
    ],
  );
}

/**
 * The extract of a source placed at the edge (`placement: 'edge'`), run by an edge worker: only the source (on the
 * plant's network) and the lake (outbound). The cloud records the sync before and after it.
 */
export function createEdgeSourceActivities(
  deps: Pick<SourceActivityDeps, 'lake' | 'sources'>,
): Pick<SourceActivities, 'extractSourceAtEdge'> {
  const extractToLake = createExtractToLake(deps.lake, deps.sources ?? new SourceConnections());
  return {
    extractSourceAtEdge: ({ ctx, spec, from }) => extractToLake(ctx, spec, from),
  };
}

/** The source-sync activities, bound to their dependencies. */
export function createSourceActivities(deps: SourceActivityDeps): Omit<SourceActivities, 'extractSourceAtEdge'> {
  const connections = deps.sources ?? new SourceConnections();
  const catalog = new Catalog(deps.warehouse, alertSinkFor(deps));
  const commitSource = createCommitSource(deps);
  const extractToLake = createExtractToLake(deps.lake, connections);
  return {
    /**
     * Extract (a source in the cloud): records the sync, reads what changed since the committed watermark into the
     * lake, records what it wrote. Only the commit moves the watermark.
     */
    async extractSource({ ctx, spec }) {
      const from = await beginExtract(deps.warehouse, ctx, spec);
      const result = await extractToLake(ctx, spec, from);
      await finishExtract(deps.warehouse, ctx, spec, result);
      return result;
    },
    beginSourceExtract: ({ ctx, spec }) => beginExtract(deps.warehouse, ctx, spec),
    recordSourceExtracted: ({ ctx, spec, extract }) => finishExtract(deps.warehouse, ctx, spec, extract),
    commitSource: async (input) => {
      const result = await commitSource(input);
      // A committed sync ends the alerts of the source's earlier failed syncs.
      await catalog.sourceRecovered(`source:${input.spec.id}`);
      return result;
    },
    async recordSourceSyncFailed({ ctx, failure }) {
      const cancelled = failure.type === 'Cancelled';
      await deps.warehouse.query(
        `INSERT INTO ops.source_syncs (source_id, run_id, started_at, status, finished_at, error)
         VALUES ($1, $2, now(), $4, now(), $3)
         ON CONFLICT (source_id, run_id) DO UPDATE SET status = EXCLUDED.status, finished_at = now(), error = EXCLUDED.error
         WHERE ops.source_syncs.status <> 'committed'`,
        [ctx.sourceId, ctx.runId, `${failure.type}: ${failure.message}`, cancelled ? 'cancelled' : 'failed'],
      );
      // Someone cancelled it on purpose: nothing to alert about.
      if (cancelled) return;
      await catalog.alert({
        dedupKey: `source_sync_failed:${ctx.runId}`,
        kind: 'run_failed',
        severity: 'critical',
        pipeline: `source:${ctx.sourceId}`,
        runId: ctx.runId,
        message: `source ${ctx.sourceId} sync failed (${failure.type}): ${failure.message}`,
        details: { failureType: failure.type, workflowId: ctx.workflowId },
      });
    },
  };
}
