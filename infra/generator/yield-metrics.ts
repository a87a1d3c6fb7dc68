/** The fields of a loaded row the `machine_yield_hourly` mart needs. */
export interface YieldInput {
  status: string;
  cycleMs: number;
  tempC: number;
  vibrationMmS: number;
  energyWh: number | null;
  tsMs: number;
}

/** One machine-hour of the `machine_yield_hourly` mart. Floats are rounded to 6 decimals. */
export interface YieldMetrics {
  items: number;
  ok: number;
  scrap: number;
  rework: number;
  /** `ok / items * 100`; null when there are no items. */
  yieldPct: number | null;
  cycleMsMean: number | null;
  /** Linear-interpolation 95th percentile, like PostgreSQL `percentile_cont(0.95)`. */
  cycleMsP95: number | null;
  tempCMean: number | null;
  vibrationMax: number | null;
  /**
   * Sum of the gaps longer than 120 s between consecutive item timestamps, the hour's start and end (start + 60 min)
   * included as boundaries and timestamps clamped into the hour, in minutes; 60 for an empty hour.
   */
  downtimeMinutes: number;
  /** Sum of `energy_wh` (null values skipped) when the file has the column; null when it does not. */
  energyWh: number | null;
}

const DOWNTIME_GAP_MS = 120_000;
const HOUR_MS = 3_600_000;

/** Rounds to 6 decimals, so results do not depend on summation order noise. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** PostgreSQL `percentile_cont(fraction)` over ascending-sorted values; null when empty. */
export function percentileCont(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const pos = fraction * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Sums after sorting, so the result is the same for any order of the same values. */
function stableSum(values: number[]): number {
  return values.sort((a, b) => a - b).reduce((s, v) => s + v, 0);
}

/** Downtime minutes of an hour from its items' timestamps (see {@link YieldMetrics.downtimeMinutes}). */
export function downtimeMinutes(tsMs: readonly number[], hourStartMs: number): number {
  const end = hourStartMs + HOUR_MS;
  const points = tsMs.map((t) => Math.min(end, Math.max(hourStartMs, t)));
  points.push(hourStartMs, end);
  points.sort((a, b) => a - b);
  let down = 0;
  for (let i = 1; i < points.length; i++) {
    const gap = points[i]! - points[i - 1]!;
    if (gap > DOWNTIME_GAP_MS) down += gap;
  }
  return round6(down / 60_000);
}

/** Accumulates loaded rows of one machine-hour and computes its yield metrics. */
export class YieldMetricsAccumulator {
  private ok = 0;
  private scrap = 0;
  private rework = 0;
  private vibrationMax: number | null = null;
  private readonly cycles: number[] = [];
  private readonly temps: number[] = [];
  private readonly energies: number[] = [];
  private readonly ts: number[] = [];

  /** Adds one loaded row. */
  add(row: YieldInput): void {
    if (row.status === 'OK') this.ok++;
    else if (row.status === 'SCRAP') this.scrap++;
    else this.rework++;
    this.cycles.push(row.cycleMs);
    this.temps.push(row.tempC);
    this.ts.push(row.tsMs);
    if (row.energyWh !== null) this.energies.push(row.energyWh);
    if (this.vibrationMax === null || row.vibrationMmS > this.vibrationMax) this.vibrationMax = row.vibrationMmS;
  }

  /** The hour's metrics. */
  result(hourStartMs: number, hasEnergyColumn: boolean): YieldMetrics {
    const items = this.cycles.length;
    const cycles = [...this.cycles].sort((a, b) => a - b);
    const p95 = percentileCont(cycles, 0.95);
    return {
      items,
      ok: this.ok,
      scrap: this.scrap,
      rework: this.rework,
      yieldPct: items === 0 ? null : round6((this.ok / items) * 100),
      cycleMsMean: items === 0 ? null : round6(stableSum(cycles) / items),
      cycleMsP95: p95 === null ? null : round6(p95),
      tempCMean: items === 0 ? null : round6(stableSum([...this.temps]) / items),
      vibrationMax: this.vibrationMax,
      downtimeMinutes: downtimeMinutes(this.ts, hourStartMs),
      energyWh: hasEnergyColumn ? round6(stableSum([...this.energies])) : null,
    };
  }
}

/** Yield metrics of one machine-hour's loaded rows. */
export function computeYieldMetrics(
  rows: Iterable<YieldInput>,
  hourStartMs: number,
  hasEnergyColumn: boolean,
): YieldMetrics {
  const acc = new YieldMetricsAccumulator();
  for (const row of rows) acc.add(row);
  return acc.result(hourStartMs, hasEnergyColumn);
}
