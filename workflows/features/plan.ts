/** A slice of an export's range, exported by one activity. */
export interface ExportChunk {
  index: number;
  /** First and last plant-local day (`YYYY-MM-DD`, inclusive). */
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Days since the epoch of a `YYYY-MM-DD` calendar date, or NaN when it is not a real date. */
export function dayNumber(day: string): number {
  if (!DAY.test(day)) return Number.NaN;
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day) return Number.NaN;
  return ms / DAY_MS;
}

/** The calendar date of a day number. */
export function dayOf(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

/** Number of days of an inclusive range (0 when inverted or invalid). */
export function rangeDays(from: string, to: string): number {
  const a = dayNumber(from);
  const b = dayNumber(to);
  return Number.isNaN(a) || Number.isNaN(b) || b < a ? 0 : b - a + 1;
}

/** Splits `[from, to]` into consecutive chunks of at most `chunkDays` days. */
export function planChunks(from: string, to: string, chunkDays: number): ExportChunk[] {
  const a = dayNumber(from);
  const b = dayNumber(to);
  const chunks: ExportChunk[] = [];
  for (let start = a, index = 0; start <= b; start += chunkDays, index++) {
    chunks.push({ index, from: dayOf(start), to: dayOf(Math.min(b, start + chunkDays - 1)) });
  }
  return chunks;
}
