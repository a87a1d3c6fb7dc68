import type { EntityHourPartitioning } from './spec.js';

/** A parsed `<entity>@<YYYY-MM-DDTHH>` partition key. */
export interface EntityHourPartition {
  entity: string;
  /** Local hour key, `YYYY-MM-DDTHH`. */
  hourKey: string;
}

/** Shape of a partition key, `<entity>@<YYYY-MM-DDTHH>` (the API's DTOs validate against it). */
export const PARTITION_KEY_PATTERN = /^[A-Za-z0-9_-]{1,32}@\d{4}-\d{2}-\d{2}T\d{2}$/;

const KEY = /^([A-Za-z0-9_-]{1,32})@(\d{4})-(\d{2})-(\d{2})T(\d{2})$/;

/** Parses a partition key, or returns undefined when malformed (including impossible dates and hours). */
export function parsePartitionKey(key: string): EntityHourPartition | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const [, entity, y, mo, d, h] = m as unknown as [string, string, string, string, string, string];
  const date = new Date(Date.UTC(+y, +mo - 1, +d, +h));
  if (date.getUTCFullYear() !== +y || date.getUTCMonth() !== +mo - 1 || date.getUTCDate() !== +d || +h > 23)
    return undefined;
  return { entity, hourKey: `${y}-${mo}-${d}T${h}` };
}

/** Formats a partition key. */
export function partitionKey(entity: string, hourKey: string): string {
  return `${entity}@${hourKey}`;
}

/** ISO instant of the partition's hour start, e.g. `2026-11-20T10:00:00-03:00`. */
export function hourStartIso(hourKey: string, utcOffset: string): string {
  return `${hourKey}:00:00${utcOffset}`;
}

/** Whether the partitioning's calendar expects data for this local hour. */
export function isExpectedHour(hourKey: string, partitioning: EntityHourPartitioning): boolean {
  const [date, hour] = hourKey.split('T') as [string, string];
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  return partitioning.calendar.weekdays.includes(weekday) && partitioning.calendar.hours.includes(Number(hour));
}

const HOUR_KEY = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/;

/** Parses an hour key `YYYY-MM-DDTHH` into a UTC-based hour index (local wall-clock hours; offsets don't matter here). */
export function hourIndexOf(hourKey: string): number | undefined {
  const m = HOUR_KEY.exec(hourKey);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!);
  return new Date(ms).toISOString().slice(0, 13) === hourKey ? ms / 3_600_000 : undefined;
}

/** The hour key of an hour index (inverse of {@link hourIndexOf}). */
export function hourKeyOf(index: number): string {
  return new Date(index * 3_600_000).toISOString().slice(0, 13);
}

/**
 * The partitions a range covers, in (hour, entity) order: every hour from `from` to `to` (inclusive) that the
 * calendar expects, times the given entities (default: all of the partitioning's). Pure and deterministic, so a
 * workflow can recompute it instead of carrying a year's list in its history.
 */
export function partitionsInRange(
  partitioning: EntityHourPartitioning,
  from: string,
  to: string,
  entities?: string[],
): string[] {
  const start = hourIndexOf(from);
  const end = hourIndexOf(to);
  if (start === undefined || end === undefined || end < start) return [];
  const who = entities && entities.length > 0 ? entities : partitioning.entities;
  const out: string[] = [];
  for (let h = start; h <= end; h++) {
    const key = hourKeyOf(h);
    if (isExpectedHour(key, partitioning)) for (const e of who) out.push(partitionKey(e, key));
  }
  return out;
}
