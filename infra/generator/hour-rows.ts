import type { ItemStatus } from '../../activities/flows/machine-signal/contract-v1.js';
import { dayIndex, hourIndex, hourStartMs } from './calendar.js';
import { OPERATORS, type MachineProfile } from './catalog.js';
import { Rng, hashSeed } from './prng.js';

/** One item as the machine produced it (before any defect is injected into its line). */
export interface GoodRow {
  itemSeq: number;
  tsMs: number;
  sku: string;
  status: ItemStatus;
  cycleMs: number;
  /** One decimal, as written. */
  tempC: number;
  /** Two decimals, as written. */
  vibrationMmS: number;
  operator: string;
  /** Two decimals; null for a machine without the column, or a missing meter reading. */
  energyWh: number | null;
}

/** What one machine-hour produces. */
export interface HourPlan {
  profile: MachineProfile;
  hourKey: string;
  seed: number;
  /** Number of items. */
  items: number;
  /** item_seq values of an hour lie in `[hourIndex × stride, (hourIndex + 1) × stride)`: increasing across files. */
  seqStride: number;
}

/** Wear in [0, 1): how far the machine is into its maintenance cycle at this hour. */
export function wearAt(profile: MachineProfile, hourKey: string): number {
  const cycle = profile.wearCycleDays;
  const day = (((dayIndex(hourKey) + profile.wearPhaseDays) % cycle) + cycle) % cycle;
  const hour = Number(hourKey.slice(11, 13));
  return (day + Math.min(1, Math.max(0, (hour - 6) / 12))) / (cycle + 1);
}

/** The operator on shift (06–13 and 14–21) for a machine and hour. */
function operatorOf(plan: HourPlan): string {
  const shift = Number(plan.hourKey.slice(11, 13)) < 14 ? 'A' : 'B';
  return OPERATORS[hashSeed(plan.seed, plan.profile.id, plan.hourKey.slice(0, 10), shift) % OPERATORS.length]!;
}

function round(x: number, decimals: number): number {
  return Number(x.toFixed(decimals));
}

/** Spreads `n` timestamps over the hour with jitter, with a downtime gap of 3–12 minutes in a quarter of the hours. */
function timestamps(n: number, start: number, rng: Rng): (i: number) => number {
  const down = n >= 2 && rng.chance(0.25) ? { at: rng.int(1, n - 1), ms: rng.int(3, 12) * 60_000 } : undefined;
  const offset = rng.int(50, 3000);
  const slot = (3_600_000 - (down?.ms ?? 0) - offset - 1000) / Math.max(n, 1);
  return (i) => Math.floor(start + offset + (i + 0.1 + 0.8 * rng.next()) * slot + (down && i >= down.at ? down.ms : 0));
}

/**
 * The items of one machine-hour, in time order, deterministic from (seed, machine, hour): ~92 % OK, ~5 % SCRAP,
 * ~3 % REWORK, cycle ~800 ms, temperature 65–80 °C and vibration 1.5–4 mm/s drifting up with wear.
 */
export function* hourRows(plan: HourPlan): Generator<GoodRow> {
  const { profile, hourKey, items: n } = plan;
  const rng = new Rng(hashSeed(plan.seed, profile.id, hourKey, 'rows'));
  const wear = wearAt(profile, hourKey);
  const tsAt = timestamps(n, hourStartMs(hourKey), rng);
  const skus = rng.shuffle([...profile.skus]);
  const changeover = skus.length > 1 && rng.chance(0.3) ? rng.int(0, n) : n;
  const operator = operatorOf(plan);
  const scrapP = 0.035 + 0.03 * wear;
  let itemSeq = hourIndex(hourKey) * plan.seqStride + rng.int(1, 50);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    const status: ItemStatus = r < scrapP ? 'SCRAP' : r < scrapP + 0.03 ? 'REWORK' : 'OK';
    const cycleMs = Math.max(300, Math.round(rng.normal(profile.cycleMs + 30 * wear + (status === 'OK' ? 0 : 40), 40)));
    const tempC = round(Math.min(95, Math.max(55, rng.normal(profile.tempC + 6 * wear, 1))), 1);
    const vibrationMmS = round(Math.min(8, Math.max(0.5, rng.normal(profile.vibrationMmS + 1.4 * wear, 0.2))), 2);
    const energyWh = profile.energy && !rng.chance(0.003) ? round(rng.normal(9 + cycleMs / 400, 0.4), 2) : null;
    yield {
      itemSeq: itemSeq++,
      tsMs: tsAt(i),
      sku: (i < changeover ? skus[0] : skus[1])!,
      status,
      cycleMs,
      tempC,
      vibrationMmS,
      operator,
      energyWh,
    };
  }
}
