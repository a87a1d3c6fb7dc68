import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PipelineSpec, RunKind, UpstreamTrigger } from './spec.js';

/**
 * Which partitions of the range a backfill runs: all; those with nothing published (`missing`); those whose latest
 * run failed (`failed`); those with a landed file in the landing area (`landed`, used by the hourly schedule).
 */
export type BackfillMode = 'all' | 'missing' | 'failed' | 'landed';

/** Input of `backfillWorkflow`. */
export interface BackfillInput {
  backfillId: string;
  spec: PipelineSpec;
  /** First and last local period (`YYYY-MM-DDTHH` for hourly pipelines, `YYYY-MM-DD` for daily ones; inclusive). */
  from: string;
  to: string;
  /** Narrow the other dimension (machines); all of the spec's when absent. */
  entities?: string[];
  /** Run exactly these partitions instead of the range's (the sweep's findings). */
  partitions?: string[];
  mode: BackfillMode;
  /** List what would run, run nothing. */
  dryRun?: boolean;
  maxConcurrency: number;
  /** Partitions examined per workflow run before continuing as new (keeps each history short). */
  partitionsPerRun?: number;
  /** Re-process partitions even when they already publish their content. */
  force?: boolean;
  /** How the runs were started (default `backfill`); `dependency` runs carry the upstream `trigger`. */
  runKind?: RunKind;
  trigger?: UpstreamTrigger;
  /** Carried across continue-as-new. */
  state?: BackfillState;
}

/** A partition that failed in the backfill. */
export interface BackfillFailure {
  partition: string;
  type: string;
  message: string;
}

/** Durable progress, carried across continue-as-new. */
export interface BackfillState {
  /** Index of the next partition of the range to examine. */
  cursor: number;
  done: number;
  failed: number;
  skipped: number;
  rows: number;
  bytes: number;
  /** The first failures (capped, so the state stays small). */
  failures: BackfillFailure[];
  startedAtMs: number;
  maxConcurrency: number;
  paused: boolean;
  cancelled: boolean;
  /** Dry run: partitions that would run (capped) and their count. */
  wouldRun: string[];
  wouldRunCount: number;
  /** Workflow runs so far (1 + continue-as-new count). */
  runs: number;
}

/** What the progress query returns and the workflow finally returns. */
export interface BackfillProgress {
  backfillId: string;
  status: 'running' | 'paused' | 'cancelling' | 'completed' | 'cancelled';
  total: number;
  done: number;
  failed: number;
  skipped: number;
  running: number;
  remaining: number;
  rows: number;
  bytes: number;
  partitionsPerMinute: number;
  etaSeconds: number | null;
  maxConcurrency: number;
  failures: BackfillFailure[];
  dryRun?: { count: number; partitions: string[] };
  workflowRuns: number;
}

/** Query: live progress. */
export const backfillProgressQuery = defineQuery<BackfillProgress>('backfillProgress');
/** Signal: start no new partition until resumed (in-flight ones finish). */
export const pauseSignal = defineSignal('pause');
/** Signal: resume starting partitions. */
export const resumeSignal = defineSignal('resume');
/** Signal: start no new partition, let in-flight ones finish (each commits whole or not at all), then end. */
export const cancelSignal = defineSignal('cancel');
/** Update: change the concurrency limit while running; returns the new limit. */
export const setMaxConcurrencyUpdate = defineUpdate<number, [number]>('setMaxConcurrency');

/** Bounds of `maxConcurrency`. */
export const MAX_CONCURRENCY = 64;
