import { defineQuery } from '@temporalio/workflow';
import type { ExportChunk } from './plan.js';
import type { ExportFormat, FeatureSetSpec } from './spec.js';

/** Input of `featureExportWorkflow`. */
export interface FeatureExportInput {
  exportId: string;
  spec: FeatureSetSpec;
  from: string;
  to: string;
  /** Knowledge cut-off (ISO instant); the workflow's start time when absent. */
  asOf?: string;
  format: ExportFormat;
  /** Training exports carry the label column. */
  training: boolean;
  /** Upper bound of one file's size in bytes (a file is closed at the first row group past it). */
  maxFileBytes?: number;
}

/** One file an export wrote. */
export interface ExportFile {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** Days the file covers. */
  from: string;
  to: string;
}

/** What the activity exporting one chunk returns. */
export interface ExportChunkResult {
  chunk: ExportChunk;
  files: ExportFile[];
  rows: number;
  bytes: number;
}

/** The manifest written next to the files (`manifest.json`). */
export interface ExportManifest {
  manifestVersion: 1;
  exportId: string;
  featureSet: { id: string; version: number; grain: string; entityColumn: string; timeColumn: string };
  range: { from: string; to: string };
  asOf: string;
  training: boolean;
  format: ExportFormat;
  schema: { name: string; type: string; nullable: boolean; description: string }[];
  rowCount: number;
  byteCount: number;
  files: ExportFile[];
  lineage: {
    /** `lineage.jsonl` beside the manifest: one `{dataset, partition, runId, contentSha256, loadedAt}` per line. */
    file: string;
    sha256: string;
    partitions: number;
    runs: number;
    sourceSyncs: { sourceId: string; runId: string; finishedAt: string }[];
  };
  createdAt: string;
  createdBy: string;
}

/** Progress of an export, by Query. */
export interface FeatureExportProgress {
  exportId: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  asOf: string;
  chunksDone: number;
  chunksTotal: number;
  rows: number;
  bytes: number;
  files: number;
  manifestKey?: string;
}

export const exportProgressQuery = defineQuery<FeatureExportProgress>('exportProgress');

/** Largest file an export writes by default (pandas/pyarrow read it whole comfortably). */
export const DEFAULT_MAX_FILE_BYTES = 128 * 1024 * 1024;

/** Workflow id of an export. */
export function exportWorkflowId(exportId: string): string {
  return `export:${exportId}`;
}
