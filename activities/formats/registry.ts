import type { PartitionWindow } from '../../workflows/partitions.js';
import type pg from 'pg';
import type { PipelineSpec } from '../../workflows/spec.js';
import type { BatchedWriter } from '../batched-writer.js';
import type { ObjectStore } from '../storage/object-store.js';

/** What a format's parse gets: the raw file, the partition it must hold, and the local files it writes. */
export interface FormatParseInput {
  lake: ObjectStore;
  rawKey: string;
  /** The landed file's name, for messages. */
  fileName: string;
  spec: PipelineSpec;
  partition: string;
  window: PartitionWindow;
  sha256: string;
  /** Typed rows, COPY text in the staged columns' order. */
  staged: BatchedWriter;
  /** Quarantined rows, one `QuarantineRecord` JSON object per line. */
  quarantine: BatchedWriter;
  /** The warehouse, for a format whose rows are checked against what is published (machine signals' item keys). */
  warehouse?: pg.Pool;
}

/** A quality check a format records for the partition. */
export interface FormatCheck {
  name: string;
  passed: boolean;
  observed?: number;
  details?: Record<string, unknown>;
}

/** What a format learned from a file it read to the end. */
export interface FormatParseResult {
  dataLines: number;
  rows: number;
  quarantined: number;
  duplicates: number;
  quarantinedByReason: Record<string, number>;
  encoding: string;
  extraColumns: string[];
  /** Format-specific facts of the file (firmware, plant…), kept with the run. */
  facts: Record<string, string | number>;
  /** A small JSON profile transforms read (e.g. per-SKU counts), stored beside the staged rows. */
  profile?: unknown;
  checks: FormatCheck[];
}

/**
 * A file format, by id: turns one landed file into typed rows (COPY text) and quarantined rows with reasons, and
 * may tell a landed file's partition from its header and whether the file is complete (its trailer).
 */
export interface FileFormat {
  id: string;
  /** Parses the raw file; throws a data fault when the file as a whole is bad (contract broken, incomplete). */
  parse(input: FormatParseInput): Promise<FormatParseResult>;
  /** Whether the file's last bytes hold a valid trailer (`completeWhen: trailer`). */
  hasTrailer?(tail: Buffer): boolean;
  /**
   * The partition the file's first bytes name (`partitionFrom: header`, or `column` for a format that reads rows), or
   * undefined when they name none.
   */
  partitionFromHead?(head: Buffer, spec: PipelineSpec): string | undefined | Promise<string | undefined>;
  /** A dataset published straight from the staged rows (their columns are that dataset's), if any. */
  stagedDataset?: string;
  /**
   * The format's staged rows have the columns of its config, so SQL models can read them (`{{staged}}`), and its
   * quarantined rows are published to the shared `ops.quarantined_rows` (a format without it has its own dataset).
   */
  configuredColumns?: boolean;
}

const FORMATS = new Map<string, FileFormat>();

/** Registers a format (at module load of the flow that owns it). */
export function registerFormat(format: FileFormat): void {
  if (FORMATS.has(format.id)) throw new Error(`format ${format.id} is registered twice`);
  FORMATS.set(format.id, format);
}

/** The format of a pipeline, or an error naming the pipeline and the unknown id. */
export function formatOf(spec: PipelineSpec): FileFormat {
  const format = FORMATS.get(spec.staging.format);
  if (!format) throw new Error(`${spec.id}: staging.format "${spec.staging.format}" is not a registered format`);
  return format;
}

/** Ids of the registered formats. */
export function formatIds(): string[] {
  return [...FORMATS.keys()];
}

/** One quarantined row as stage writes it to the quarantine zone (JSON Lines). */
export interface QuarantineRecord {
  lineNo: number;
  reason: string;
  column?: string | null;
  detail: string;
  raw: string;
}
