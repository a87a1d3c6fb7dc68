import { DateTime, IANAZone } from 'luxon';

/**
 * Partitions. A pipeline's data is cut into partitions, each run, published and re-run on its own:
 *
 * | kind          | key                       | example               |
 * |---------------|---------------------------|-----------------------|
 * | `entity-hour` | `<entity>@<YYYY-MM-DDTHH>` | `M07@2026-11-20T10`   |
 * | `entity-day`  | `<entity>@<YYYY-MM-DD>`    | `M07@2026-11-20`      |
 * | `day`         | `<YYYY-MM-DD>`             | `2026-11-20`          |
 *
 * Hours and days are local wall-clock periods in the partitioning's IANA time zone; the instants they cover come from
 * the zone's rules (daylight saving included). A local hour that does not exist (skipped by a DST jump) is no
 * partition; the repeated hour of a fall-back is one partition of two hours. Everything here is pure and
 * deterministic, so workflows use it too.
 */

/** Which hours or days the calendar expects data for. */
export interface PartitionCalendar {
  /** Weekdays, 0 = Sunday … 6 = Saturday. */
  weekdays: number[];
  /** Local hours 0-23 (entity-hour only). */
  hours?: number[];
}

/** How a pipeline's data is partitioned. */
export interface Partitioning {
  kind: 'entity-hour' | 'entity-day' | 'day';
  /** What an entity is (e.g. `machine`), for entity kinds. */
  entity?: string;
  /** Entities expected by the calendar (e.g. the machines on the floor), for entity kinds. */
  entities?: string[];
  /** IANA zone of the periods, e.g. `America/Sao_Paulo`. */
  timeZone: string;
  calendar: PartitionCalendar;
}

/** A parsed partition key. */
export interface PartitionParts {
  /** The entity, for entity kinds. */
  entity?: string;
  /** Local period: `YYYY-MM-DDTHH` (hour kinds) or `YYYY-MM-DD` (day kinds). */
  period: string;
  /** Local date of the period, `YYYY-MM-DD`. */
  date: string;
}

/** The instants a partition covers, `[start, end)`, as ISO instants in UTC. */
export interface PartitionWindow {
  start: string;
  end: string;
  /** Local date of the partition, `YYYY-MM-DD`. */
  date: string;
}

const ENTITY = '[A-Za-z0-9_-]{1,32}';
const DATE = '[0-9]{4}-[0-9]{2}-[0-9]{2}';

/** Any partition key of any kind (the API's DTOs check this shape; the pipeline's kind is checked after). */
export const PARTITION_KEY_PATTERN = new RegExp(`^(${ENTITY}@)?${DATE}(T[0-9]{2})?$`);

/** The shape of the keys of one partitioning. */
export function partitionKeyPattern(p: Pick<Partitioning, 'kind'>): RegExp {
  if (p.kind === 'entity-hour') return new RegExp(`^(${ENTITY})@(${DATE}T\\d{2})$`);
  if (p.kind === 'entity-day') return new RegExp(`^(${ENTITY})@(${DATE})$`);
  return new RegExp(`^()(${DATE})$`);
}

/** An example key of the partitioning's kind, for messages. */
export function partitionKeyExample(p: Pick<Partitioning, 'kind'>): string {
  return { 'entity-hour': 'M07@2026-11-20T10', 'entity-day': 'M07@2026-11-20', day: '2026-11-20' }[p.kind];
}

/** Whether the period kind is hours. */
const hourly = (p: Pick<Partitioning, 'kind'>) => p.kind === 'entity-hour';

/** Local wall-clock start of a period as a UTC-based index: hours or days since the epoch; undefined when invalid. */
function periodIndex(p: Pick<Partitioning, 'kind'>, period: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}))?$/.exec(period);
  if (!m || (m[4] === undefined) === hourly(p)) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, m[4] === undefined ? 0 : +m[4]);
  const back = new Date(ms).toISOString();
  if (back.slice(0, 10) !== period.slice(0, 10) || (m[4] !== undefined && +m[4] > 23)) return undefined;
  return hourly(p) ? ms / 3_600_000 : ms / 86_400_000;
}

/** The period of an index (inverse of {@link periodIndex}). */
function periodOf(p: Pick<Partitioning, 'kind'>, index: number): string {
  return hourly(p)
    ? new Date(index * 3_600_000).toISOString().slice(0, 13)
    : new Date(index * 86_400_000).toISOString().slice(0, 10);
}

/** Parses a partition key of the partitioning's kind, or undefined when malformed (impossible dates included). */
export function parsePartition(p: Pick<Partitioning, 'kind'>, key: string): PartitionParts | undefined {
  const m = partitionKeyPattern(p).exec(key);
  if (!m || periodIndex(p, m[2]!) === undefined) return undefined;
  return { ...(m[1] ? { entity: m[1] } : {}), period: m[2]!, date: m[2]!.slice(0, 10) };
}

/** Formats a partition key. */
export function partitionKey(p: Pick<Partitioning, 'kind'>, period: string, entity?: string): string {
  return p.kind === 'day' ? period : `${entity}@${period}`;
}

/** The local start of a period in the zone; for a hour skipped by DST, undefined. */
function localStart(zone: string, period: string): DateTime | undefined {
  const [date, hour] = period.split('T') as [string, string | undefined];
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const dt = DateTime.fromObject({ year: y, month: mo, day: d, hour: hour ? Number(hour) : 0 }, { zone });
  if (!dt.isValid || (hour !== undefined && dt.hour !== Number(hour))) return undefined;
  // An ambiguous local time (a fall-back's repeated hour) starts at its first occurrence.
  const earlier = dt.minus({ hours: 1 });
  return earlier.hour === dt.hour && earlier.day === dt.day ? earlier : dt;
}

/** The instants a partition covers, or undefined when the key is malformed or names a local hour DST skipped. */
export function partitionWindow(p: Partitioning, key: string): PartitionWindow | undefined {
  const parts = parsePartition(p, key);
  if (!parts) return undefined;
  const start = localStart(p.timeZone, parts.period);
  if (!start) return undefined;
  // The end is the next period's start; after a fall-back the repeated hour belongs to this partition.
  let end = hourly(p) ? start.plus({ hours: 1 }) : start.plus({ days: 1 }).startOf('day');
  if (hourly(p)) while (end.hour === start.hour) end = end.plus({ hours: 1 });
  return { start: start.toUTC().toISO()!, end: end.toUTC().toISO()!, date: parts.date };
}

/** The local period (hour or day) an instant falls in. */
export function periodAt(p: Partitioning, ms: number): string {
  const local = DateTime.fromMillis(ms, { zone: p.timeZone });
  return hourly(p) ? local.toFormat("yyyy-MM-dd'T'HH") : local.toFormat('yyyy-MM-dd');
}

/** The period `n` periods after (negative: before) `period`, in wall-clock steps. */
export function shiftPeriod(p: Pick<Partitioning, 'kind'>, period: string, n: number): string {
  const i = periodIndex(p, period);
  if (i === undefined) throw new Error(`invalid period "${period}"`);
  return periodOf(p, i + n);
}

/** Whether the text is a period of the partitioning's kind (`YYYY-MM-DDTHH` or `YYYY-MM-DD`). */
export function isPeriod(p: Pick<Partitioning, 'kind'>, period: string): boolean {
  return periodIndex(p, period) !== undefined;
}

/** Number of periods from `from` to `to` inclusive (0 when inverted or invalid). */
export function periodCount(p: Pick<Partitioning, 'kind'>, from: string, to: string): number {
  const a = periodIndex(p, from);
  const b = periodIndex(p, to);
  return a === undefined || b === undefined || b < a ? 0 : b - a + 1;
}

/** Whether the calendar expects data for this local period. */
export function isExpectedPeriod(p: Partitioning, period: string): boolean {
  const weekday = new Date(`${period.slice(0, 10)}T00:00:00Z`).getUTCDay();
  if (!p.calendar.weekdays.includes(weekday)) return false;
  if (!hourly(p)) return true;
  return (p.calendar.hours ?? []).includes(Number(period.slice(11, 13))) && !!localStart(p.timeZone, period);
}

/**
 * The partitions a range covers, in (period, entity) order: every period from `from` to `to` (inclusive) that the
 * calendar expects, times the given entities (default: all of the partitioning's). Pure and deterministic, so a
 * workflow can recompute it instead of carrying a year's list in its history.
 */
export function partitionsInRange(p: Partitioning, from: string, to: string, entities?: string[]): string[] {
  const start = periodIndex(p, from);
  const end = periodIndex(p, to);
  if (start === undefined || end === undefined || end < start) return [];
  const who = p.kind === 'day' ? [undefined] : entities && entities.length > 0 ? entities : (p.entities ?? []);
  const out: string[] = [];
  for (let i = start; i <= end; i++) {
    const period = periodOf(p, i);
    if (isExpectedPeriod(p, period)) for (const e of who) out.push(partitionKey(p, period, e));
  }
  return out;
}

/** Problems of a partitioning (empty when valid), each naming the field. */
export function partitioningProblems(p: Partitioning): string[] {
  const problems: string[] = [];
  const need = (cond: boolean, msg: string) => cond || problems.push(msg);
  need(['entity-hour', 'entity-day', 'day'].includes(p.kind), `partitioning.kind: unknown kind "${p.kind}"`);
  need(IANAZone.isValidZone(p.timeZone), `partitioning.timeZone: "${p.timeZone}" is not an IANA time zone`);
  if (p.kind !== 'day') {
    need((p.entities ?? []).length > 0, 'partitioning.entities must not be empty');
    need(
      (p.entities ?? []).every((e) => new RegExp(`^${ENTITY}$`).test(e)),
      'partitioning.entities must be short identifiers',
    );
  }
  need(
    p.calendar.weekdays.every((d) => Number.isInteger(d) && d >= 0 && d <= 6),
    'partitioning.calendar.weekdays: 0-6',
  );
  if (p.kind === 'entity-hour')
    need(
      (p.calendar.hours ?? []).length > 0 &&
        (p.calendar.hours ?? []).every((h) => Number.isInteger(h) && h >= 0 && h <= 23),
      'partitioning.calendar.hours: 0-23, at least one',
    );
  return problems;
}
