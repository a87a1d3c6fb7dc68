import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { STEP_OPTIONS } from './activity-options.js';
import {
  exportProgressQuery,
  type ExportChunkResult,
  type ExportFile,
  type ExportManifest,
  type FeatureExportInput,
  type FeatureExportProgress,
} from './features/export-messages.js';
import { planChunks, rangeDays } from './features/plan.js';

/** The activities of a feature export. */
export interface ExportActivities {
  recordExportStarted(input: { request: FeatureExportInput; asOf: string }): Promise<void>;
  exportFeatureChunk(input: {
    request: FeatureExportInput;
    asOf: string;
    chunk: { index: number; from: string; to: string };
  }): Promise<ExportChunkResult>;
  finishFeatureExport(input: { request: FeatureExportInput; asOf: string; files: ExportFile[] }): Promise<{
    manifestKey: string;
    manifest: ExportManifest;
  }>;
  recordExportFailed(input: { exportId: string; message: string; cancelled?: boolean }): Promise<void>;
}

const { recordExportStarted, finishFeatureExport, recordExportFailed } = proxyActivities<ExportActivities>({
  ...STEP_OPTIONS.serve,
});
const { exportFeatureChunk } = proxyActivities<ExportActivities>({ ...STEP_OPTIONS.load });

/**
 * Exports a feature set over a range of days to the lake: one activity per chunk of days streams the warehouse query
 * into size-bounded Parquet (or CSV) files under the export's versioned prefix, then the manifest (schema, counts,
 * SHA-256 per file, as-of time, lineage) is written last, so a manifest's presence means the export is whole. The
 * knowledge cut-off `asOf` is fixed at the first start, so a retried or re-run export writes the same rows.
 */
export async function featureExportWorkflow(request: FeatureExportInput): Promise<ExportManifest> {
  const asOf = request.asOf ?? workflowInfo().startTime.toISOString();
  const days = rangeDays(request.from, request.to);
  if (days === 0 || days > request.spec.maxRangeDays) {
    throw ApplicationFailure.nonRetryable(
      `invalid range ${request.from}..${request.to} (1 to ${request.spec.maxRangeDays} days)`,
      'InvalidRange',
    );
  }
  const chunks = planChunks(request.from, request.to, request.spec.chunkDays);
  const progress: FeatureExportProgress = {
    exportId: request.exportId,
    status: 'running',
    asOf,
    chunksDone: 0,
    chunksTotal: chunks.length,
    rows: 0,
    bytes: 0,
    files: 0,
  };
  setHandler(exportProgressQuery, () => progress);
  try {
    await recordExportStarted({ request, asOf });
    const files: ExportFile[] = [];
    for (const chunk of chunks) {
      const result = await exportFeatureChunk({ request, asOf, chunk });
      files.push(...result.files);
      progress.chunksDone++;
      progress.rows += result.rows;
      progress.bytes += result.bytes;
      progress.files = files.length;
    }
    const { manifestKey, manifest } = await finishFeatureExport({ request, asOf, files });
    progress.status = 'succeeded';
    progress.manifestKey = manifestKey;
    return manifest;
  } catch (err) {
    const cancelled = isCancellation(err);
    progress.status = cancelled ? 'cancelled' : 'failed';
    const message = cancelled
      ? 'the export was cancelled'
      : err instanceof Error
        ? err.cause instanceof Error
          ? err.cause.message
          : err.message
        : String(err);
    // Outside the cancelled scope, or a cancelled export's record would stay `running`.
    await CancellationScope.nonCancellable(() =>
      recordExportFailed({ exportId: request.exportId, message, cancelled }),
    );
    throw err;
  }
}
