import type { EntityHourPartitioning } from './spec.js';

/** A parsed `<entity>@<YYYY-MM-DDTHH>` partition key. */
export interface EntityHourPartition {
  entity: string;
  /** Local hour key, `YYYY-MM-DDTHH`. */
  hourKey: string;
}

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
