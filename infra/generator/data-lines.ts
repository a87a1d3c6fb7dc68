import type { RejectReason } from '../../activities/flows/machine-signal/contract-v1.js';
import { formatLocalTs, hourStartMs } from './calendar.js';
import type { PartitionDefect } from './defects.js';
import { hourRows, type GoodRow, type HourPlan } from './hour-rows.js';
import { Rng, hashSeed } from './prng.js';

/** One written data line and what a correct parser must make of it. */
export type DataLine =
  | { kind: 'good'; bytes: Buffer; row: GoodRow }
  | { kind: 'duplicate'; bytes: Buffer }
  | { kind: 'bad'; bytes: Buffer; reason: RejectReason };

/** A machine-hour with the defect injected into it, if any. */
export interface PartitionPlan extends HourPlan {
  defect: PartitionDefect | undefined;
}

const MALFORMED: RejectReason[] = ['field_count', 'bad_number', 'bad_timestamp', 'bad_status', 'bad_encoding'];

/** The line's text fields in column order. */
export function rowFields(row: GoodRow, plan: HourPlan): string[] {
  const fields = [
    formatLocalTs(row.tsMs),
    String(row.itemSeq),
    row.sku,
    row.status,
    String(row.cycleMs),
    row.tempC.toFixed(1),
    row.vibrationMmS.toFixed(2),
    row.operator,
  ];
  if (plan.profile.energy) fields.push(row.energyWh === null ? '' : row.energyWh.toFixed(2));
  return fields;
}

/** Encodes a line with its end (firmware 1.x writes ISO-8859-1 with CRLF, the others UTF-8 with LF). */
export function encodeLine(text: string, plan: HourPlan): Buffer {
  const latin1 = plan.profile.encoding === 'latin1';
  return Buffer.from(`${text}${latin1 ? '\r\n' : '\n'}`, latin1 ? 'latin1' : 'utf8');
}

/** Rewrites a row's line so that it fails with `reason`; `variant` picks among realistic ways. */
function badLine(row: GoodRow, reason: RejectReason, variant: number, plan: HourPlan, rng: Rng): Buffer {
  const f = rowFields(row, plan);
  const start = hourStartMs(plan.hourKey);
  switch (reason) {
    case 'field_count':
      return encodeLine((variant % 2 === 0 ? f.slice(0, -1) : [...f, 'x']).join('|'), plan);
    case 'bad_number':
      if (variant % 2 === 0) f[4] = `${f[4]!.slice(0, 1)}x${f[4]!.slice(2)}`;
      else f[5] = f[5]!.replace('.', ',');
      return encodeLine(f.join('|'), plan);
    case 'bad_timestamp':
      f[0] = variant % 2 === 0 ? f[0]!.slice(0, 19).replace('T', ' ') : `${f[0]!.slice(0, 14)}61${f[0]!.slice(16)}`;
      return encodeLine(f.join('|'), plan);
    case 'bad_status':
      f[3] = ['0K', 'ok', 'SCRAPPED'][variant % 3]!;
      return encodeLine(f.join('|'), plan);
    case 'bad_encoding':
      // A UTF-8 machine's line written as ISO-8859-1: the accented name is not valid UTF-8.
      f[7] = 'Conceição Brandão';
      return Buffer.from(`${f.join('|')}\n`, 'latin1');
    case 'outside_hour': {
      const minutes = rng.int(6, 20) * 60_000 + rng.int(0, 59_999);
      f[0] = formatLocalTs(variant % 2 === 0 ? start + 3_600_000 + minutes : start - minutes);
      return encodeLine(f.join('|'), plan);
    }
    default:
      throw new Error(`no bad line for ${reason}`);
  }
}

/** Which line indices become bad, and why. */
function badLinePlan(plan: PartitionPlan, rng: Rng): Map<number, RejectReason> {
  const n = plan.items;
  const kinds = MALFORMED.filter((r) => r !== 'bad_encoding' || plan.profile.encoding === 'utf8');
  let picks: RejectReason[] = [];
  if (plan.defect === 'malformed')
    picks = kinds.flatMap((k) => Array<RejectReason>(Math.max(1, Math.floor(n / 1000))).fill(k));
  if (plan.defect === 'quality_threshold') {
    picks = Array.from({ length: Math.max(2, Math.ceil(n * 0.05)) }, (_, i) => kinds[i % kinds.length]!);
  }
  if (plan.defect === 'outside_hour') picks = ['outside_hour', 'outside_hour', 'outside_hour'];
  const at = rng.shuffle(rng.sample(n, picks.length));
  return new Map(at.map((index, i) => [index, picks[i]!]));
}

/** Applies bad lines and repeated lines to the hour's rows. */
function* linesOf(plan: PartitionPlan, rng: Rng): Generator<DataLine> {
  const bad = badLinePlan(plan, rng);
  const repeatAt = new Set(
    plan.defect === 'duplicate' ? rng.sample(plan.items, Math.max(2, Math.round(plan.items * 0.004))) : [],
  );
  const recent: Buffer[] = [];
  let i = 0;
  for (const row of hourRows(plan)) {
    const reason = bad.get(i);
    if (reason !== undefined) {
      yield { kind: 'bad', bytes: badLine(row, reason, i, plan, rng), reason };
    } else {
      const bytes = encodeLine(rowFields(row, plan).join('|'), plan);
      yield { kind: 'good', bytes, row };
      recent.push(bytes);
      if (recent.length > 3) recent.shift();
    }
    // A writer that re-sends its last one to three lines after a reconnect.
    if (repeatAt.has(i)) for (const again of recent.slice(-1 - (i % 3))) yield { kind: 'duplicate', bytes: again };
    i++;
  }
}

/** Shuffles lines within windows of `size`: out of order, but never far from their place. */
function* shuffled(lines: Iterable<DataLine>, size: number, rng: Rng): Generator<DataLine> {
  let window: DataLine[] = [];
  for (const line of lines) {
    window.push(line);
    if (window.length === size) {
      yield* rng.shuffle(window);
      window = [];
    }
  }
  yield* rng.shuffle(window);
}

/** The data lines of a partition's file, defects injected, deterministic from the plan. */
export function dataLines(plan: PartitionPlan): Iterable<DataLine> {
  const rng = new Rng(hashSeed(plan.seed, plan.profile.id, plan.hourKey, 'defect'));
  const lines = linesOf(plan, rng);
  return plan.defect === 'out_of_order' ? shuffled(lines, 25, rng) : lines;
}
