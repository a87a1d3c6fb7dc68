import { YieldAccumulator } from './yield-metrics.js';

/** What stage learns about a partition's loaded rows in its single pass; transform derives datasets from it. */
export interface PartitionProfile {
  /** OK items per SKU (the partition's stock contribution). */
  okBySku: Record<string, number>;
  /** The hour's yield statistics. */
  metrics: ReturnType<YieldAccumulator['result']>;
}

/** Accumulates a {@link PartitionProfile} row by row, in bounded memory. */
export class PartitionProfiler {
  private readonly okBySku = new Map<string, number>();
  private readonly yields = new YieldAccumulator();

  /** Adds one loaded row. */
  add(row: {
    sku: string;
    status: string;
    cycleMs: number;
    tempC: number;
    vibrationMmS: number;
    energyWh: number | null;
    tsMs: number;
  }): void {
    if (row.status === 'OK') this.okBySku.set(row.sku, (this.okBySku.get(row.sku) ?? 0) + 1);
    this.yields.add({
      status: row.status,
      cycleMs: row.cycleMs,
      tempC: row.tempC,
      vibration: row.vibrationMmS,
      energyWh: row.energyWh,
      tsMs: row.tsMs,
    });
  }

  /** The profile, given the hour's start and whether the file has an energy column. */
  result(hourStartMs: number, hasEnergyColumn: boolean): PartitionProfile {
    const okBySku = Object.fromEntries([...this.okBySku.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return { okBySku, metrics: this.yields.result(hourStartMs, hasEnergyColumn) };
  }
}
