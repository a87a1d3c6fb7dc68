import type { RejectReason, SignalEncoding } from '../../activities/flows/machine-signal/contract-v1.js';
import type { DataLine } from './data-lines.js';
import type { DefectKind, PartitionDefect } from './defects.js';
import { YieldMetricsAccumulator, type YieldMetrics } from './yield-metrics.js';

/** Share of quarantined lines above which a partition fails whole (1 % of its data lines). */
export const QUALITY_THRESHOLD = 0.01;

/** What becomes of a partition once every file (late ones included) has been delivered. */
export type PartitionOutcome = 'loaded' | 'contract_broken' | 'incomplete' | 'quality_failed' | 'missing';

/** What the parser reports for a file it reads to the end (loaded and quality_failed partitions). */
export interface ParsedTruth {
  dataLines: number;
  goodRows: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  duplicates: number;
}

/** Expected state of one machine-hour partition. */
export interface PartitionTruth {
  /** `<machine>@<hourKey>`, e.g. `M07@2026-11-20T10`. */
  partition: string;
  machine: string;
  hourKey: string;
  /** Header `hour`, e.g. `2026-11-20T10:00:00-03:00`. */
  hourStart: string;
  outcome: PartitionOutcome;
  /** The partition defect injected, if any. */
  defect: PartitionDefect | null;
  firmware: string;
  encoding: SignalEncoding;
  /** Files holding this partition, relative to the output folder (two for a re-sent file, none when missing). */
  files: string[];
  /** Delivered late (written under `late/`). */
  late: boolean;
  /** Parser facts; null when the parser cannot finish the file (contract broken, incomplete, missing). */
  parsed: ParsedTruth | null;
  /** Items loaded (0 unless loaded). */
  itemsLoaded: number;
  /** OK items per SKU loaded: the partition's stock contribution. */
  okBySku: Record<string, number>;
  /** Rows quarantined one by one (loaded partitions only). */
  quarantinedByReason: Partial<Record<RejectReason, number>>;
  /** Duplicate lines skipped (loaded partitions only). */
  duplicates: number;
  /** The `machine_yield_hourly` row; null unless loaded. */
  yield: YieldMetrics | null;
}

/** A file the generator wrote. */
export interface FileTruth {
  /** Relative to the output folder, `/`-separated (e.g. `late/M03_20261120T09.txt`). */
  path: string;
  partition: string;
  bytes: number;
  late: boolean;
  /** A second delivery of a partition's file under another name. */
  redelivery: boolean;
}

/** Sums over the whole data set in its final state. */
export interface TotalsTruth {
  partitions: number;
  partitionsByOutcome: Record<PartitionOutcome, number>;
  files: number;
  /** Items loaded over all loaded partitions (rows of `production_events`). */
  eventsLoaded: number;
  /** Stock on hand per SKU: OK items over all loaded partitions. */
  stockBySku: Record<string, number>;
  /** Rows quarantined one by one in loaded partitions, per reason. */
  quarantinedByReason: Partial<Record<RejectReason, number>>;
  /** Duplicate lines skipped in loaded partitions. */
  duplicates: number;
}

/** The generator's expected results, computed from its own rows, never by the parser. */
export interface GroundTruth {
  version: 1;
  contract: 'machine-signal-v1';
  options: {
    from: string;
    to: string;
    machines: number;
    seed: number;
    itemsPerFile: number;
    hugeFactor: number;
    defects: DefectKind[];
    plant: string;
    utcOffset: string;
  };
  rules: { qualityThreshold: number; toleranceMinutes: number; downtimeGapSeconds: number };
  machines: { id: string; firmware: string; encoding: SignalEncoding; energy: boolean }[];
  files: FileTruth[];
  /** Keyed by partition key, in machine-then-hour order. */
  partitions: Record<string, PartitionTruth>;
  totals: TotalsTruth;
}

/** Tallies the lines written for one partition. */
export class PartitionTally {
  dataLines = 0;
  goodRows = 0;
  duplicates = 0;
  readonly rejectedByReason: Partial<Record<RejectReason, number>> = {};
  readonly okBySku: Record<string, number> = {};
  readonly metrics = new YieldMetricsAccumulator();

  /** Counts one written data line. */
  add(line: DataLine): void {
    this.dataLines++;
    if (line.kind === 'duplicate') this.duplicates++;
    else if (line.kind === 'bad') this.rejectedByReason[line.reason] = (this.rejectedByReason[line.reason] ?? 0) + 1;
    else {
      this.goodRows++;
      const { row } = line;
      if (row.status === 'OK') this.okBySku[row.sku] = (this.okBySku[row.sku] ?? 0) + 1;
      this.metrics.add(row);
    }
  }

  /** Lines quarantined. */
  get rejected(): number {
    return Object.values(this.rejectedByReason).reduce((s, n) => s + n, 0);
  }
}

function addCounts<K extends string>(into: Partial<Record<K, number>>, from: Partial<Record<K, number>>): void {
  for (const [k, n] of Object.entries(from) as [K, number][]) into[k] = (into[k] ?? 0) + n;
}

function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/** Totals over partitions (a re-sent file belongs to one partition, so it is counted once). */
export function totalsOf(partitions: readonly PartitionTruth[], files: number): TotalsTruth {
  const totals: TotalsTruth = {
    partitions: partitions.length,
    partitionsByOutcome: { loaded: 0, contract_broken: 0, incomplete: 0, quality_failed: 0, missing: 0 },
    files,
    eventsLoaded: 0,
    stockBySku: {},
    quarantinedByReason: {},
    duplicates: 0,
  };
  for (const p of partitions) {
    totals.partitionsByOutcome[p.outcome]++;
    totals.eventsLoaded += p.itemsLoaded;
    totals.duplicates += p.duplicates;
    addCounts(totals.stockBySku, p.okBySku);
    addCounts(totals.quarantinedByReason, p.quarantinedByReason);
  }
  totals.stockBySku = sortedKeys(totals.stockBySku);
  totals.quarantinedByReason = sortedKeys(totals.quarantinedByReason);
  return totals;
}
