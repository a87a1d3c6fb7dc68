/** Gaps between consecutive items longer than this count as downtime. */
export const DOWNTIME_GAP_MS = 120_000;

/** Accumulates one machine-hour's yield metrics from its loaded rows, in bounded memory (two numeric arrays). */
export class YieldAccumulator {
  items = 0;
  ok = 0;
  scrap = 0;
  rework = 0;
  private cycleSum = 0;
  private tempSum = 0;
  private vibrationMax = -Infinity;
  private energySum = 0;
  private cycles: number[] = [];
  private times: number[] = [];

  /** Adds one loaded row. */
  add(row: {
    status: string;
    cycleMs: number;
    tempC: number;
    vibration: number;
    energyWh: number | null;
    tsMs: number;
  }): void {
    this.items++;
    if (row.status === 'OK') this.ok++;
    else if (row.status === 'SCRAP') this.scrap++;
    else this.rework++;
    this.cycleSum += row.cycleMs;
    this.tempSum += row.tempC;
    this.vibrationMax = Math.max(this.vibrationMax, row.vibration);
    if (row.energyWh !== null) this.energySum += row.energyWh;
    this.cycles.push(row.cycleMs);
    this.times.push(row.tsMs);
  }

  /** The metrics, given the hour's start instant and whether the file carries an energy column. */
  result(hourStartMs: number, hasEnergyColumn: boolean) {
    const n = this.items;
    return {
      items: n,
      ok: this.ok,
      scrap: this.scrap,
      rework: this.rework,
      yieldPct: n ? (this.ok / n) * 100 : null,
      cycleMsMean: n ? this.cycleSum / n : null,
      cycleMsP95: n ? percentileCont(this.cycles, 0.95) : null,
      tempCMean: n ? this.tempSum / n : null,
      vibrationMax: n ? this.vibrationMax : null,
      downtimeMinutes: downtimeMinutes(this.times, hourStartMs),
      energyWh: hasEnergyColumn ? this.energySum : null,
    };
  }
}

/** Linear-interpolation percentile, as PostgreSQL's `percentile_cont`. */
export function percentileCont(values: number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Minutes of gaps longer than 2 min between consecutive items, the hour's start and end included as boundaries and
 * timestamps (which may stray a few minutes outside the hour) clamped into it; an empty hour is 60 minutes down.
 */
export function downtimeMinutes(timesMs: number[], hourStartMs: number): number {
  const end = hourStartMs + 3_600_000;
  const points = new Float64Array(timesMs.length + 2);
  timesMs.forEach((t, i) => (points[i] = Math.min(end, Math.max(hourStartMs, t))));
  points[timesMs.length] = hourStartMs;
  points[timesMs.length + 1] = end;
  points.sort();
  let downtime = 0;
  for (let i = 1; i < points.length; i++) {
    const gap = points[i]! - points[i - 1]!;
    if (gap > DOWNTIME_GAP_MS) downtime += gap;
  }
  return downtime / 60_000;
}
