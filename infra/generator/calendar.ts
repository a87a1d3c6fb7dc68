/** UTC offset of plant SP-01 (America/Sao_Paulo, no daylight saving time since 2019). */
export const PLANT_OFFSET = '-03:00';
const OFFSET_MS = -3 * 3_600_000;
const HOUR_MS = 3_600_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HOUR_KEY = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/;

/** Working calendar: local hours 06..17 (12 hours), Monday to Friday. */
export const WORKING_HOURS = Array.from({ length: 12 }, (_, i) => 6 + i);

/** Parses a `YYYY-MM-DD` date to UTC midnight epoch ms, or undefined when malformed or impossible. */
export function parseDate(text: string): number | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!);
  return new Date(ms).toISOString().slice(0, 10) === text ? ms : undefined;
}

/** Epoch ms of a local hour key's start (`2026-11-20T10` → 2026-11-20T10:00:00-03:00); throws when malformed. */
export function hourStartMs(hourKey: string): number {
  const m = HOUR_KEY.exec(hourKey);
  const ms = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!) : NaN;
  if (!m || new Date(ms).toISOString().slice(0, 13) !== hourKey) throw new Error(`invalid hour key ${hourKey}`);
  return ms - OFFSET_MS;
}

/** Local wall-clock ISO-8601 with offset and milliseconds, e.g. `2026-11-20T10:00:00.412-03:00`. */
export function formatLocalTs(ms: number): string {
  return `${new Date(ms + OFFSET_MS).toISOString().slice(0, 23)}${PLANT_OFFSET}`;
}

/** The header's `hour` value of a local hour key, e.g. `2026-11-20T10:00:00-03:00`. */
export function hourIso(hourKey: string): string {
  return `${hourKey}:00:00${PLANT_OFFSET}`;
}

/** Days since 2020-01-01 of a local hour key's date. */
export function dayIndex(hourKey: string): number {
  return Math.floor((Date.parse(`${hourKey.slice(0, 10)}T00:00:00Z`) - Date.UTC(2020, 0, 1)) / 86_400_000);
}

/** Hours since 2020-01-01T00 local of a local hour key (drives item_seq ranges, so they grow across files). */
export function hourIndex(hourKey: string): number {
  return Math.round((hourStartMs(hourKey) - hourStartMs('2020-01-01T00')) / HOUR_MS);
}

/** Every working hour key between two dates (inclusive), in order. */
export function workingHourKeys(from: string, to: string): string[] {
  const start = parseDate(from);
  const end = parseDate(to);
  if (start === undefined || end === undefined) throw new Error(`invalid date range ${from}..${to}`);
  const keys: string[] = [];
  for (let day = start; day <= end; day += 86_400_000) {
    const weekday = new Date(day).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    const date = new Date(day).toISOString().slice(0, 10);
    for (const h of WORKING_HOURS) keys.push(`${date}T${String(h).padStart(2, '0')}`);
  }
  return keys;
}

/** Landing file name of a machine-hour, e.g. `M07_20261120T10.txt`. */
export function fileNameOf(machine: string, hourKey: string): string {
  return `${machine}_${hourKey.slice(0, 10).replaceAll('-', '')}T${hourKey.slice(11, 13)}.txt`;
}
