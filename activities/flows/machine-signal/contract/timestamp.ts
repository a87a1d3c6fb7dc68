const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses an ISO-8601 timestamp that carries its offset (`2026-11-20T10:00:00.412-03:00` or `…Z`) to epoch
 * milliseconds; undefined when malformed or impossible (month 13, 30 February, hour 24). A timestamp without offset
 * is rejected: its instant would depend on the reader's time zone.
 */
export function parseIsoTimestamp(text: string): number | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) return undefined;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  const date = new Date(utc);
  if (date.getUTCFullYear() !== y || date.getUTCDate() !== d) return undefined;
  const ms = m[7] ? Number(`${m[7]}00`.slice(0, 3)) : 0;
  return utc + ms - offsetMs(m[8]!);
}

/** Milliseconds east of UTC of `Z` or `±HH:MM`. */
function offsetMs(offset: string): number {
  if (offset === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  return sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60_000;
}
