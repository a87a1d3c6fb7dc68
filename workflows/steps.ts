import type { PartitionWindow } from './partitions.js';
import type { PipelineSpec, RunKind, UpstreamTrigger } from './spec.js';

/** Identifies one run of one partition; passed to every step so it can record itself in the catalog. */
export interface RunContext {
  pipeline: string;
  partition: string;
  workflowId: string;
  runId: string;
  runKind: RunKind;
}

/** Common input of every step. */
export interface StepInput {
  ctx: RunContext;
  spec: PipelineSpec;
}

/** Result of ingest: the landed file copied, content-addressed, into the raw zone. */
export interface IngestResult {
  sourceKey: string;
  rawKey: string;
  sha256: string;
  bytes: number;
  /** True when every dataset of the partition already holds exactly this content. */
  alreadyPublished: boolean;
}

/** Result of stage: typed rows ready to bulk-load, and quarantined rows with reasons. */
export interface StageResult {
  stagedKey: string;
  quarantineKey: string;
  /** A small JSON profile of the staged rows the format computed in the staging pass, if it computes one. */
  profileKey?: string;
  dataLines: number;
  rows: number;
  quarantined: number;
  duplicates: number;
  quarantinedByReason: Record<string, number>;
  encoding: string;
  extraColumns: string[];
  /** Format-specific facts of the file (e.g. the machine's firmware). */
  facts: Record<string, string | number>;
  /** The instants and local date the partition covers. */
  window: PartitionWindow;
}

/** Result of transform: per dataset, its staged file (COPY text), or the SQL model that load runs for it. */
export interface TransformResult {
  outputs: Record<string, { key: string; rows: number } | { model: string }>;
}

/** Result of load. */
export interface LoadResult {
  status: 'loaded' | 'unchanged';
  rows: Record<string, number>;
}

/** Result of serve. */
export interface ServeResult {
  outputs: Record<string, number>;
  /** Registered pipelines' partitions that read what this run (re-)published: they re-run (none when unchanged). */
  dependents: Dependent[];
  /**
   * Reverse-ETL outputs placed at the edge: written to the lake for an edge worker to apply. When present the run is
   * not finished yet: the workflow has each applied on the edge task queue, then calls `finishServe`.
   */
  handoffs?: ServeHandoff[];
  /** When serve started (ISO-8601), for `finishServe`'s step record. */
  startedAt?: string;
}

/** The publication a hand-off carries: the warehouse partition's content, run and load instant. */
export interface PublishedVersion {
  contentSha256: string;
  runId: string;
  /** `ops.partition_state.loaded_at` (ISO-8601, microseconds): newer publications have later instants. */
  loadedAt: string;
}

/** One reverse-ETL output's rows for one partition, handed through the lake to an edge worker. */
export interface ServeHandoff {
  /** The target table (the output's `table`). */
  table: string;
  /** Lake key of the hand-off object (JSON: version and rows, every value as PostgreSQL text). */
  key: string;
  rows: number;
  /** Absent when nothing is published for the partition (the hand-off empties the target's partition). */
  version?: PublishedVersion;
}

/** Result of applying a hand-off on the edge. */
export interface HandoffApplied {
  /** False when the target already held a newer publication (nothing changed). */
  applied: boolean;
  rows: number;
  /** The activity attempt that applied it (serve's step record keeps the highest attempt of its parts). */
  attempt: number;
}

/** Outcome recorded when a run ends. */
export interface RunOutcome {
  /** `cancelled`: a cancellation request stopped the run (its steps rolled back or had committed). */
  status: 'succeeded' | 'unchanged' | 'failed' | 'cancelled';
  /** Rows staged (0 when unchanged). */
  rows?: number;
  /** Bytes of the source file. */
  bytes?: number;
  sha256?: string;
  sourceKey?: string;
  failureType?: string;
  failureMessage?: string;
}

/** Input of load: what the earlier steps produced, and whether to publish even unchanged content. */
export type LoadInput = StepInput & {
  ingest: IngestResult;
  stage: StageResult;
  transform: TransformResult;
  force?: boolean;
  /** For a dependency run: the upstream partition that started it (a lineage edge). */
  trigger?: UpstreamTrigger;
};

/** The activities `pipelineRunWorkflow` schedules; implemented by `createActivities` in activities/. */
export interface PipelineActivities {
  recordRunStarted(input: { ctx: RunContext }): Promise<void>;
  ingestPartition(input: StepInput & { sourceKey?: string; force?: boolean }): Promise<IngestResult>;
  stagePartition(input: StepInput & { ingest: IngestResult }): Promise<StageResult>;
  transformPartition(input: StepInput & { ingest: IngestResult; stage: StageResult }): Promise<TransformResult>;
  loadPartition(input: LoadInput): Promise<LoadResult>;
  servePartition(
    input: StepInput & { ingest: IngestResult; stage: StageResult; outcome: RunOutcome },
  ): Promise<ServeResult>;
  recordRunFinished(input: { ctx: RunContext; outcome: RunOutcome }): Promise<void>;
  /** Edge: applies a reverse-ETL hand-off to its target database (runs on the edge task queue). */
  applyServeHandoff(input: { ctx: RunContext; spec: PipelineSpec; handoff: ServeHandoff }): Promise<HandoffApplied>;
  /** Cloud: after the hand-offs were applied, records serve's step and lineage, finds dependents, closes the run. */
  finishServe(
    input: StepInput & {
      outcome: RunOutcome;
      startedAt: string;
      outputs: Record<string, number>;
      handoffs: ServeHandoff[];
      /** Highest attempt of the serve activity and the hand-offs' applications. */
      attempt?: number;
    },
  ): Promise<ServeResult>;
}

/** A downstream pipeline's partition to re-run after an upstream partition was re-published. */
export interface Dependent {
  spec: PipelineSpec;
  partition: string;
  /** The upstream dataset it reads. */
  dataset: string;
}

/** Failure types that are data faults: never retried, the partition fails once with a clear message. */
export const DATA_FAULT_TYPES = [
  'ContractBroken',
  'IncompleteFile',
  'DataQualityThresholdExceeded',
  'SourceMissing',
  'InvalidPartition',
  'PayloadInvalid',
  'SourceSchemaMismatch',
] as const;
