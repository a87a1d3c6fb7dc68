/** A cell of a human table. */
export type Cell = string | number | boolean | null | undefined;

/** Renders a value for a table: `-` for nothing, numbers with thousands separators, objects as compact JSON. */
export function cell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? '-';
}

/** A compact left-aligned table (two spaces between columns, header in capitals); one string per line. */
export function table(headers: string[], rows: unknown[][]): string[] {
  const text = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map(cell))];
  const widths = headers.map((_, i) => Math.max(...text.map((r) => (r[i] ?? '').length)));
  return text.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** An ISO instant without milliseconds (`2026-11-21T10:03:12Z`), or `-`. */
export function time(v: unknown): string {
  if (typeof v !== 'string' && !(v instanceof Date)) return '-';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? String(v) : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A short human duration (`850ms`, `12.4s`, `3m04s`, `2h05m`). */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The duration between two instants, or `-` when either is missing. */
export function between(start: unknown, end: unknown): string {
  if (!start || !end) return '-';
  return duration(new Date(end as string).getTime() - new Date(start as string).getTime());
}

/** `key: value` lines for an object's fields (nested values as compact JSON). */
export function fields(o: unknown): string[] {
  if (typeof o !== 'object' || o === null) return [cell(o)];
  const entries = Object.entries(o as Record<string, unknown>);
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => {
    return `${`${k}:`.padEnd(width + 1)} ${cell(v)}`;
  });
}
