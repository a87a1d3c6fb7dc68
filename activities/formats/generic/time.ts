import { DateTime, IANAZone } from 'luxon';

/**
 * A date-time text as read: its wall clock as written (milliseconds, as if it were UTC) and the offset written with
 * it (milliseconds east of UTC), if any; without one it is a local time of the format's zone.
 */
export interface Reading {
  wallMs: number;
  offsetMs: number | undefined;
}

/** Reads a date-time text; undefined when it does not match or names an impossible date or time. */
export type TimeReader = (text: string) => Reading | undefined;

const HOUR_MS = 3_600_000;
/** Offsets lie within UTC-12 and UTC+14: the instant of a wall-clock time lies within this much of it. */
const BEFORE_MS = 14 * HOUR_MS;
const AFTER_MS = 12 * HOUR_MS;
/** Instants with a four-digit year, the range `toISOString` writes plainly and PostgreSQL reads. */
const MIN_MS = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');
/** Entries a reader or offset cache holds before it is cleared. */
const CACHE_LIMIT = 10_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** The common ISO-8601 forms, read without Luxon; any other text starting with a calendar date goes to Luxon. */
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const ISO_DATE_START = /^\d{4}-\d{2}-\d{2}T/;
const ISO_OFFSET = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
/** Luxon tokens of a pattern (a run of one letter), quoted literals, and other literal characters. */
const PATTERN_PART = /'[^']*'|([A-Za-z])\1*|[^A-Za-z']+/g;
/** Fixed-width numeric tokens read without Luxon: their field and width. */
const NUMERIC_TOKENS: Readonly<Record<string, readonly [Field, number]>> = {
  yyyy: ['year', 4],
  MM: ['month', 2],
  dd: ['day', 2],
  HH: ['hour', 2],
  mm: ['minute', 2],
  ss: ['second', 2],
  SSS: ['millisecond', 3],
};

type Field = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'millisecond';

/** Whether an instant (or a wall clock) has a four-digit year. */
export function inYearRange(ms: number): boolean {
  return ms >= MIN_MS && ms <= MAX_MS;
}

/** The reader of a date column: its Luxon pattern, or an ISO-8601 calendar date (`2026-11-20`). */
export function dateReader(pattern: string | undefined): TimeReader {
  if (pattern !== undefined) return patternReader(pattern);
  return (text) => {
    const m = ISO_DATE.exec(text);
    const wallMs = m ? wallClockMs(+m[1]!, +m[2]!, +m[3]!, 0, 0, 0, 0) : undefined;
    return wallMs === undefined ? undefined : { wallMs, offsetMs: undefined };
  };
}

/**
 * The reader of a timestamp column: its Luxon pattern, or ISO-8601 starting with a calendar date (`2026-11-20`,
 * `2026-11-20T10:15`, `2026-11-20T10:15:00.412-03:00`…; never a bare time, which Luxon would read as today).
 */
export function timestampReader(pattern: string | undefined): TimeReader {
  if (pattern !== undefined) return patternReader(pattern);
  const luxon = memoized(luxonReader(undefined));
  return (text) => {
    const m = ISO_TIMESTAMP.exec(text);
    if (!m) return ISO_DATE_START.test(text) ? luxon(text) : undefined;
    const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
    const wallMs = wallClockMs(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), ms);
    return wallMs === undefined ? undefined : { wallMs, offsetMs: m[8] === undefined ? undefined : isoOffsetMs(m[8]) };
  };
}

/** A pattern's reader: without Luxon for fixed-width numeric patterns (`dd/MM/yyyy HH:mm`), else memoized Luxon. */
function patternReader(pattern: string): TimeReader {
  return numericPatternReader(pattern) ?? memoized(luxonReader(pattern));
}

/**
 * Compiles a pattern made only of the tokens yyyy, MM, dd (all three), HH, mm, ss, SSS and literals into a regular
 * expression, read as Luxon reads it but for literals, which must match exactly (Luxon lets a `.` be left out and a
 * space be a no-break space); undefined for any other pattern.
 */
function numericPatternReader(pattern: string): TimeReader | undefined {
  const parts = pattern.match(PATTERN_PART) ?? [];
  if (parts.join('') !== pattern) return undefined;
  const fields: Field[] = [];
  let source = '';
  for (const part of parts) {
    if (/^[A-Za-z]/.test(part)) {
      const token = NUMERIC_TOKENS[part];
      if (!token || fields.includes(token[0])) return undefined;
      fields.push(token[0]);
      source += `(\\d{${token[1]}})`;
    } else {
      if (part === "''") return undefined;
      const literal = part.startsWith("'") ? part.slice(1, -1) : part;
      source += literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  if (!fields.includes('year') || !fields.includes('month') || !fields.includes('day')) return undefined;
  const regex = new RegExp(`^${source}$`, 'i');
  return (text) => {
    const m = regex.exec(text);
    if (!m) return undefined;
    const value: Record<Field, number> = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, millisecond: 0 };
    fields.forEach((field, i) => (value[field] = Number(m[i + 1])));
    const { year, month, day, hour, minute, second, millisecond } = value;
    const wallMs = wallClockMs(year, month, day, hour, minute, second, millisecond);
    return wallMs === undefined ? undefined : { wallMs, offsetMs: undefined };
  };
}

/** Reads with Luxon (any pattern, or any ISO-8601 form); the wall clock as written, and the offset if one was. */
function luxonReader(pattern: string | undefined): TimeReader {
  const parser = pattern === undefined ? undefined : DateTime.buildFormatParser(pattern);
  const options = { zone: 'utc', setZone: true };
  // Luxon reads both forms to UTC when the text has no zone: only the pattern (or ISO's suffix) says if it had one.
  const patternZoned = pattern !== undefined && hasZoneToken(pattern);
  const zoned = pattern === undefined ? (text: string) => ISO_OFFSET.test(text) : () => patternZoned;
  return (text) => {
    const dt = parser ? DateTime.fromFormatParser(text, parser, options) : DateTime.fromISO(text, options);
    if (!dt.isValid) return undefined;
    const offsetMs = dt.offset * 60_000;
    return { wallMs: dt.toMillis() + offsetMs, offsetMs: zoned(text) ? offsetMs : undefined };
  };
}

/** Whether a Luxon pattern reads an offset, a zone or an epoch (Z, z, X, x outside quoted literals). */
function hasZoneToken(pattern: string): boolean {
  return /[zZxX]/.test(pattern.replace(/'[^']*'/g, ''));
}

/** Remembers a reader's outcome per text (Luxon parsing costs microseconds); cleared when full. */
function memoized(read: TimeReader): TimeReader {
  const cache = new Map<string, Reading | null>();
  return (text) => {
    let reading = cache.get(text);
    if (reading === undefined) {
      reading = read(text) ?? null;
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(text, reading);
    }
    return reading ?? undefined;
  };
}

/** Milliseconds of a valid wall-clock date and time (as if UTC); undefined when impossible (30 February, 24:00). */
function wallClockMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): number | undefined {
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? date.getTime() : undefined;
}

/** Milliseconds east of UTC of `Z` or `±HH:MM`; NaN when impossible. */
function isoOffsetMs(offset: string): number {
  if (offset === 'Z') return 0;
  const hours = Number(offset.slice(1, 3));
  const minutes = Number(offset.slice(4, 6));
  const sign = offset.startsWith('-') ? -1 : 1;
  return hours > 23 || minutes > 59 ? NaN : sign * (hours * 60 + minutes) * 60_000;
}

/** A zone's UTC offsets, cached per UTC hour (Luxon asks Intl, which costs microseconds per call). */
export class ZoneOffsets {
  private readonly zone: IANAZone;
  private readonly byHour = new Map<number, number>();

  constructor(zone: string) {
    this.zone = IANAZone.create(zone);
  }

  /**
   * The instant a local wall-clock time (milliseconds, as if UTC) names in the zone: in a fall-back overlap the
   * earlier of the two (deterministic, unlike Luxon, whose choice depends on today's offset); undefined in a
   * spring-forward gap (the time does not exist).
   */
  instantOf(wallMs: number): number | undefined {
    const before = wallMs - this.offsetAt(wallMs - BEFORE_MS);
    const after = wallMs - this.offsetAt(wallMs + AFTER_MS);
    const first = Math.min(before, after);
    const second = Math.max(before, after);
    return this.shows(first, wallMs) ? first : this.shows(second, wallMs) ? second : undefined;
  }

  /** Whether the zone's clock shows `wallMs` at `instant`. */
  private shows(instant: number, wallMs: number): boolean {
    return instant + this.offsetAt(instant) === wallMs;
  }

  /** The offset (milliseconds east of UTC) at an instant. */
  private offsetAt(ms: number): number {
    const hour = Math.floor(ms / HOUR_MS);
    const cached = this.byHour.get(hour);
    if (cached !== undefined) return cached;
    const start = this.zone.offset(hour * HOUR_MS);
    if (start !== this.zone.offset(hour * HOUR_MS + HOUR_MS - 1)) return Math.round(this.zone.offset(ms) * 60_000);
    if (this.byHour.size >= CACHE_LIMIT) this.byHour.clear();
    const offset = Math.round(start * 60_000);
    this.byHour.set(hour, offset);
    return offset;
  }
}
